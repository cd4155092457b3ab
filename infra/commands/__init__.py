"""`switchboard package`, `deploy` and `destroy`: one module per subcommand."""
