"""Options and error reporting shared by the package, deploy and destroy commands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from infra.bytecode import IF_FOUND, REQUIRED
from infra.packaging import default_cache_dir
from infra.stack_events import DeployError
from infra.wheels import ARCHITECTURES

log = logging.getLogger("switchboard.infra")


def add_aws(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack-name", required=True, help="CloudFormation stack name")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or your AWS config)")
    parser.add_argument(
        "--endpoint-url",
        help="send every AWS call to this endpoint (e.g. a moto server) instead of AWS",
    )


def add_build(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--arch", choices=sorted(ARCHITECTURES), default="arm64",
        help="Lambda architecture the wheels are built for (default: arm64, the cheaper one)",
    )  # fmt: skip
    parser.add_argument(
        "--cache-dir", type=Path, default=default_cache_dir(),
        help="where downloaded wheels are kept between builds (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--with-boto3", action="store_true",
        help="bundle boto3/botocore instead of using the copy Lambda's runtime provides",
    )  # fmt: skip
    compiling = parser.add_mutually_exclusive_group()
    compiling.add_argument(
        "--bytecode", nargs="?", const=REQUIRED, default=IF_FOUND, metavar="PYTHON",
        help="ship the modules compiled by PYTHON too, which must be the template runtime's "
        "version; Lambda then skips compiling them on every cold start (loadtests/RESULTS.md, "
        "Benchmark 3). By default the runtime's pythonX.Y is used when found on PATH or under "
        "pyenv; a bare --bytecode fails when none is",
    )  # fmt: skip
    compiling.add_argument(
        "--no-bytecode", dest="bytecode", action="store_const", const=None,
        help="ship sources only",
    )  # fmt: skip


def key_values(pairs: list[str]) -> dict[str, str]:
    """--parameter K=V ... as a dict; a pair without '=' or with an empty key is an error."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DeployError(f"--parameter expects KEY=VALUE, got {pair!r}")
        result[key.strip()] = value
    return result


def reporting_errors(action: Callable[[], int]) -> int:
    """Run `action`; turn the failures a user can act on into a message and exit code 1."""
    try:
        return action()
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
    except NoCredentialsError:
        print(
            "error: no AWS credentials found; configure them (aws configure, AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
            file=sys.stderr,
        )
    except ClientError as error:
        print(f"error: AWS refused a call: {error}", file=sys.stderr)
    except (BotoCoreError, RuntimeError, ValueError, FileNotFoundError) as error:
        log.debug("command failed", exc_info=True)
        print(f"error: {error}", file=sys.stderr)
    return 1
