"""`switchboard destroy`: delete the stack, after the user confirms."""

from __future__ import annotations

import argparse
import sys

from infra import stack
from infra.aws import Aws
from infra.commands.options import add_aws, reporting_errors

HELP = "Delete the Switchboard stack (the connections table and the package bucket are kept)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_aws(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(args: argparse.Namespace) -> int:
    if not args.yes and not _confirmed(args.stack_name):
        return 2
    return reporting_errors(lambda: _destroy(args))


def _confirmed(name: str) -> bool:
    if not sys.stdin.isatty():
        print(
            f"error: refusing to delete stack {name} without confirmation: standard input is "
            "not a terminal; pass --yes to delete it anyway",
            file=sys.stderr,
        )
        return False
    answer = input(f"Delete stack {name}? Type its name to confirm: ").strip()
    if answer != name:
        print("Not deleted.", file=sys.stderr)
        return False
    return True


def _destroy(args: argparse.Namespace) -> int:
    aws = Aws(args.region, args.endpoint_url)
    table = stack.physical_id(aws, args.stack_name, "ConnectionsTable")
    stack.delete(aws, args.stack_name)
    print(f"Stack {args.stack_name} is deleted.")
    if table:  # DeletionPolicy: Retain keeps the data; say so, and how to drop it
        print(
            f"The connections table {table} was kept (DeletionPolicy Retain); delete it with\n"
            f"  aws dynamodb delete-table --table-name {table}"
        )
    return 0
