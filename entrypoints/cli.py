"""`switchboard`: one command, a subcommand per job; each lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> module exposing `HELP: str`, `add_arguments(parser)` and `run(args) -> int`.
# Modules are imported only when their subcommand runs, so `switchboard token` stays fast.
COMMANDS = {
    "serve": "entrypoints.local_gateway.command",
    "package": "infra.commands.package",
    "deploy": "infra.commands.deploy",
    "destroy": "infra.commands.destroy",
    "loadtest": "entrypoints.commands.loadtest",
    "token": "entrypoints.commands.token",
    "publish": "entrypoints.commands.publish",
}


def build_parser(argv: Sequence[str]) -> tuple[argparse.ArgumentParser, str | None]:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Real-time WebSocket backends on AWS serverless."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, module_name in COMMANDS.items():
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
        else:
            sub.add_parser(name, help=f"see `switchboard {name} --help`", add_help=False)
    return parser, chosen


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser, chosen = build_parser(args_list)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    if chosen not in COMMANDS:
        parser.error(f"unknown command {chosen!r}")
    module = importlib.import_module(COMMANDS[chosen])
    return int(module.run(args))


if __name__ == "__main__":
    sys.exit(main())
