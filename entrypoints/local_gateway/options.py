"""`switchboard serve`'s options, their checks, and the warning for a non-loopback address.

Long: one table of every option with the AWS value it stands for, and the warning's full text.
"""

from __future__ import annotations

import argparse
import ipaddress
import re

from domain.limits import (
    IDLE_TIMEOUT_SECONDS,
    INTEGRATION_TIMEOUT_SECONDS,
    MAX_CONNECTION_SECONDS,
)
from domain.protocol import ROUTES
from entrypoints.local_gateway.lambda_runtime.console import FORMATS
from entrypoints.local_gateway.websocket.origins import allowed_origin

# What --auth stands for: the project's own JWT authorizer, with the local HS256 secret.
AUTH_AUTHORIZER = "entrypoints.authorizer:handler"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine)")
    add("--port", type=int, default=8080, help="port to bind; 0 picks a free one (default: 8080)")
    add("--stage", default="dev", help="stage name, the URL's path (default: dev)")
    add(
        "--store",
        choices=("memory", "dynamodb"),
        default="memory",
        help="connection store (default: memory)",
    )
    add("--dynamodb-endpoint", help="DynamoDB for --store dynamodb (default: embedded moto)")
    add(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="text: a readable line per invocation, the handler's lines under it; json: the "
        "lines as CloudWatch Logs receives them (START, the handler's lines, END, REPORT)",
    )
    add(
        "--code",
        metavar="FOLDER",
        help="with --template: the code of functions whose template names an S3 object "
        "(default: the current folder)",
    )
    add(
        "--parameter",
        action="append",
        metavar="NAME=VALUE",
        help="with --template: a parameter's value (repeatable); others take their Default",
    )
    add(
        "--template",
        metavar="PATH",
        help="serve the app a CloudFormation or SAM template describes: its routes, functions, "
        "authorizer and tables (instead of --handler)",
    )
    add(
        "--handler",
        default="entrypoints.aws_lambda:handler",
        help="module:function to invoke (default: %(default)s)",
    )
    add(
        "--routes",
        default=",".join(ROUTES),
        help="custom route keys, comma-separated (default: %(default)s)",
    )
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--authorizer",
        metavar="MODULE:FUNCTION",
        help="a Lambda REQUEST authorizer to run before each $connect (default: none)",
    )
    auth.add_argument(
        "--auth",
        action="store_true",
        help=f"--authorizer {AUTH_AUTHORIZER} with the local secret (see `switchboard token`)",
    )
    add(
        "--idle-timeout", type=float, default=float(IDLE_TIMEOUT_SECONDS),
        help=f"seconds idle before close (AWS: {IDLE_TIMEOUT_SECONDS})",
    )  # fmt: skip
    add(
        "--max-duration", type=float, default=float(MAX_CONNECTION_SECONDS),
        help=f"seconds a connection may last (AWS: {MAX_CONNECTION_SECONDS})",
    )  # fmt: skip
    add("--workers", type=int, default=32, help="handler threads (default: 32)")
    add(
        "--integration-timeout",
        type=float,
        default=INTEGRATION_TIMEOUT_SECONDS,
        help=f"seconds API Gateway waits for the handler (AWS: {INTEGRATION_TIMEOUT_SECONDS})",
    )
    add(
        "--allow-origin",
        action="append",
        default=[],
        type=_origin,
        metavar="ORIGIN",
        help="also accept WebSocket upgrades from web pages at ORIGIN (scheme://host[:port]);"
        " repeatable. Upgrades whose Origin is neither this nor the gateway's own page"
        " (http://HOST:PORT, with localhost for 127.0.0.1) get 403 before any authorizer or"
        " $connect runs; clients that send no Origin (CLI tools, SDKs) are let in",
    )
    add("--allow-unsigned", action="store_true", help="accept @connections calls without SigV4")
    add("--no-page", action="store_true", help="do not serve the chat page at /")
    add(
        "--inprocess",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="deliver the handler's posts to this gateway in-process, not over loopback HTTP"
        " (default: in-process; --no-inprocess posts over HTTP, signed, as on AWS)",
    )
    add(
        "--drop-disconnect-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="drop this fraction (0..1) of $disconnect calls, as AWS may; for tests (default: 0)",
    )
    add("--seed", type=int, help="seed for --drop-disconnect-rate's choices (default: random)")


def check(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, in a sentence; None when nothing is."""
    from websockets.version import version as websockets_version

    if int(websockets_version.split(".")[0]) < 16:  # the per-frame size limit came in 16.0
        return f"needs websockets 16 or later (found {websockets_version})"
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", args.stage):
        return f"--stage {args.stage!r}: use letters, digits, '-' and '_'"
    if not 0 <= args.port <= 65535:
        return f"--port {args.port} is not a port number"
    if args.workers < 1:
        return f"--workers must be at least 1, not {args.workers}"
    if min(args.idle_timeout, args.max_duration, args.integration_timeout) <= 0:
        return "--idle-timeout, --max-duration and --integration-timeout must be positive"
    if args.dynamodb_endpoint and args.store != "dynamodb":
        return "--dynamodb-endpoint needs --store dynamodb"
    if not 0.0 <= args.drop_disconnect_rate <= 1.0:
        return f"--drop-disconnect-rate must be between 0 and 1, not {args.drop_disconnect_rate}"
    return None


def exposure_warning(host: str, port: int, allow_unsigned: bool) -> str | None:
    """The banner for a gateway reachable from other machines; None on loopback."""
    if _is_loopback(host):
        return None
    rule = "!" * 78
    if allow_unsigned:
        connections = [
            "@connections calls are not checked at all (--allow-unsigned): anyone can post to",
            "or close any connection.",
        ]
    else:
        connections = [
            "@connections calls must be SigV4-signed. serve checks the Authorization header's",
            "form, its date (within 5 minutes) and its region (execute-api, AWS_REGION), and",
            "verifies the signature itself only for its own access key (AWS_ACCESS_KEY_ID and",
            "AWS_SECRET_ACCESS_KEY in its environment). A call signed with any other key, even",
            "a made-up one, is accepted: serve has no IAM to check it. So anyone who can reach",
            "this address can also post to or close any connection.",
        ]
    return "\n".join(
        (
            rule,
            f"WARNING: switchboard serve is listening on {host}:{port}, NOT on loopback.",
            "Anyone who can reach this address can open WebSockets to your handler and reach it",
            "with any input (browsers only from its own page and --allow-origin's origins).",
            *connections,
            "This is a development server: no TLS, no rate limits, no hardening.",
            "Leave out --host (it binds 127.0.0.1) unless you mean to expose it.",
            rule,
        )
    )


def _origin(value: str) -> str:
    try:
        return allowed_origin(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: assume it is reachable from elsewhere
        return False
