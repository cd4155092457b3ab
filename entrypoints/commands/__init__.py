"""`switchboard` subcommands that run on a laptop: token, loadtest, publish (serve's is in
local_gateway, package/deploy/destroy in infra/commands)."""
