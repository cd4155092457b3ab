"""`switchboard package`: build the reproducible Lambda zip."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra import packaging
from infra.commands.options import add_build, reporting_errors

HELP = "Build the Lambda package (a reproducible zip of the code and its runtime wheels)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, required=True, help="the zip file to write")
    add_build(parser)


def run(args: argparse.Namespace) -> int:
    def build() -> int:
        package = packaging.build(
            args.output, args.arch, args.cache_dir, args.with_boto3, bytecode=args.bytecode
        )
        if package.note:
            print(package.note)
        what = f"compiled by {package.bytecode}" if package.bytecode else "sources only"
        print(
            f"Wrote {package.path} ({package.size / 1e6:.1f} MB, {package.files} files, "
            f"{args.arch}, {what})\nsha256 {package.sha256}"
        )
        return 0

    return reporting_errors(build)
