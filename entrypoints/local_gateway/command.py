"""`switchboard serve`: run a Lambda handler behind a local API Gateway WebSocket API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import signal
import socket
import sys

from domain.protocol import ROUTES
from entrypoints.local_gateway import ids
from entrypoints.local_gateway.events import Stage
from entrypoints.local_gateway.handlers import HandlerError, load_handler
from entrypoints.local_gateway.invoker import Invoker
from entrypoints.local_gateway.lambda_context import INTEGRATION_TIMEOUT_SECONDS, FunctionInfo
from entrypoints.local_gateway.local_store import StoreSetupError, prepared_store
from entrypoints.local_gateway.routes import RouteSelector
from entrypoints.local_gateway.runtime import Runtime
from entrypoints.local_gateway.server import LocalGateway, listen

HELP = "Run a Lambda handler behind a local API Gateway WebSocket API (ws://HOST:PORT/STAGE)."
log = logging.getLogger("local_gateway")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
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
        "--handler",
        default="entrypoints.aws_lambda:handler",
        help="module:function to invoke (default: %(default)s)",
    )
    add(
        "--routes",
        default=",".join(ROUTES),
        help="custom route keys, comma-separated (default: %(default)s)",
    )
    add("--idle-timeout", type=float, default=600.0, help="seconds idle before close (600)")
    add("--max-duration", type=float, default=7200.0, help="seconds a connection may last (7200)")
    add("--workers", type=int, default=32, help="handler threads (default: 32)")
    add(
        "--integration-timeout",
        type=float,
        default=INTEGRATION_TIMEOUT_SECONDS,
        help="seconds API Gateway waits for the handler (AWS: 29)",
    )
    add("--allow-unsigned", action="store_true", help="accept @connections calls without SigV4")
    add("--no-page", action="store_true", help="do not serve the chat page at /")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Our own lines say what happened to each connection; the libraries' would repeat them.
    for name in ("websockets", "botocore", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)
    problem = _check(args)
    if problem:
        print(f"switchboard serve: {problem}", file=sys.stderr)
        return 2
    _raise_open_files_limit()
    if not _is_loopback(args.host):
        log.warning("LISTENING ON %s: anyone who can reach it can connect and post", args.host)
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        where = f"{args.host}:{args.port}"
        print(f"switchboard serve: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    region = _prepare_environment(args, sock.getsockname()[1])
    table = os.environ["CONNECTIONS_TABLE"]
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(
                prepared_store(os.environ, args.store, args.dynamodb_endpoint, table, region)
            )
            gateway = _build(args, sock, region)
        except (HandlerError, StoreSetupError, ValueError) as exc:
            print(f"switchboard serve: {exc}", file=sys.stderr)
            return 1
        asyncio.run(_serve(gateway))
    return 0


def _build(args: argparse.Namespace, sock: socket.socket, region: str) -> LocalGateway:
    selector = RouteSelector(args.routes.split(","))
    handler = load_handler(args.handler)  # after the environment is set: it may read it
    runtime = Runtime(
        stage=Stage(ids.api_id(), args.stage),
        invoker=Invoker(
            handler, args.workers, FunctionInfo(region=region), args.integration_timeout
        ),
        selector=selector,
        idle_timeout=args.idle_timeout,
        max_duration=args.max_duration,
        require_signature=not args.allow_unsigned,
    )
    return LocalGateway(runtime, sock, page=not args.no_page)


async def _serve(gateway: LocalGateway) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not every platform (or a thread other than the main one) has signal handlers.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await gateway.start()
    print(f"Switchboard local gateway: {gateway.websocket_url}", flush=True)
    print(f"@connections API: {gateway.url}/@connections/{{connectionId}}", flush=True)
    await stop.wait()
    await gateway.shutdown()


def _prepare_environment(args: argparse.Namespace, port: int) -> str:
    env = os.environ
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    env["APIGW_ENDPOINT"] = f"http://{host}:{port}/{args.stage}"
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    env["AWS_REGION"] = region
    env.setdefault("AWS_DEFAULT_REGION", region)  # Lambda sets both; botocore reads this one
    env.setdefault("CONNECTIONS_TABLE", "switchboard-connections")
    if not env.get("AWS_ACCESS_KEY_ID") and not env.get("AWS_PROFILE"):
        # Nothing here talks to AWS; dummy keys spare botocore a search for real ones.
        env["AWS_ACCESS_KEY_ID"] = "local"
        env["AWS_SECRET_ACCESS_KEY"] = "local"
    return region


def _check(args: argparse.Namespace) -> str | None:
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
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: assume it is reachable from elsewhere
        return False


def _raise_open_files_limit() -> None:
    # Each client is a file descriptor; 1,000 clients exceed the usual soft limit of 1,024.
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
