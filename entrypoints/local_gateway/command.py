"""`switchboard serve`: run a Lambda handler behind a local API Gateway WebSocket API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys

from entrypoints.local_gateway.authorizer.authorization import Authorizer, method_arn
from entrypoints.local_gateway.connections_api import management_api
from entrypoints.local_gateway.connections_api.inprocess import serving_locally
from entrypoints.local_gateway.connections_api.signature import SignatureCheck
from entrypoints.local_gateway.environment import (
    local_auth_environment,
    prepare_environment,
    raise_open_files_limit,
)
from entrypoints.local_gateway.http_api import publish
from entrypoints.local_gateway.lambda_runtime import ids
from entrypoints.local_gateway.lambda_runtime.events import Stage
from entrypoints.local_gateway.lambda_runtime.fanout_queue import serving_fanout_queue
from entrypoints.local_gateway.lambda_runtime.handlers import HandlerError, load_handler
from entrypoints.local_gateway.lambda_runtime.invoker import Invoker
from entrypoints.local_gateway.lambda_runtime.lambda_context import FunctionInfo
from entrypoints.local_gateway.lambda_runtime.output import WholeLines
from entrypoints.local_gateway.options import (
    AUTH_AUTHORIZER,
    add_arguments,
    check,
    exposure_warning,
)
from entrypoints.local_gateway.services.local_store import StoreSetupError, prepared_store
from entrypoints.local_gateway.signals import stop_on_signals
from entrypoints.local_gateway.web.http_router import Router
from entrypoints.local_gateway.web.server import LocalGateway, listen
from entrypoints.local_gateway.websocket.faults import DisconnectDrops
from entrypoints.local_gateway.websocket.origins import page_origins
from entrypoints.local_gateway.websocket.routes import RouteSelector
from entrypoints.local_gateway.websocket.runtime import Runtime

HELP = "Run a Lambda handler behind a local API Gateway WebSocket API (ws://HOST:PORT/STAGE)."
log = logging.getLogger("local_gateway")
__all__ = ["HELP", "add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Our own lines say what happened to each connection; the libraries' would repeat them.
    for name in ("websockets", "botocore", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)
    sys.stdout = WholeLines(sys.stdout)  # before the handler is imported: its loggers keep it
    problem = check(args)
    if problem:
        print(f"switchboard serve: {problem}", file=sys.stderr)
        return 2
    raise_open_files_limit()
    warning = exposure_warning(args.host, args.port, args.allow_unsigned)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        where = f"{args.host}:{args.port}"
        print(f"switchboard serve: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    region = prepare_environment(args, sock.getsockname()[1])
    if args.auth:
        try:
            local_auth_environment(os.environ)
        except OSError as exc:
            print(f"switchboard serve: --auth has no local secret: {exc}", file=sys.stderr)
            return 1
    table = os.environ["CONNECTIONS_TABLE"]
    with contextlib.ExitStack() as stack:
        try:
            if args.template:  # the user's app: its own routes, functions and tables
                from entrypoints.local_gateway.template.serving import template_gateway

                gateway = stack.enter_context(template_gateway(args, sock, region))
            else:
                stack.enter_context(
                    prepared_store(os.environ, args.store, args.dynamodb_endpoint, table, region)
                )
                stack.enter_context(serving_fanout_queue(region, args.log_format))
                gateway = _build(args, sock, region)
        except (HandlerError, StoreSetupError, ValueError, OSError) as exc:
            print(f"switchboard serve: {exc}", file=sys.stderr)
            return 1
        asyncio.run(_serve(gateway, os.environ["APIGW_ENDPOINT"], args.inprocess))
    return 0


def _build(args: argparse.Namespace, sock: socket.socket, region: str) -> LocalGateway:
    selector = RouteSelector(args.routes.split(","))
    handler = load_handler(args.handler)  # after the environment is set: it may read it
    invoker = Invoker(
        handler, args.workers, FunctionInfo(region=region), args.integration_timeout,
        log_format=args.log_format,
    )  # fmt: skip
    stage = Stage(ids.api_id(), args.stage)
    authorizer = None
    spec = AUTH_AUTHORIZER if args.auth else args.authorizer
    if spec:
        function = load_handler(spec, option="--authorizer")
        if args.auth:  # its settings come from the environment: check them now, not at a handshake
            from entrypoints.authorizer import verifier

            verifier()
        authorizer = Authorizer(function, invoker, method_arn(region, stage.api_id, stage.name))
        log.info("authorizer %s runs before each $connect", spec)
    origins = (*page_origins(args.host, sock.getsockname()[1]), *args.allow_origin)
    log.info("WebSocket upgrades with an Origin header: only from %s", ", ".join(origins))
    runtime = Runtime(
        stage=stage,
        invoker=invoker,
        selector=selector,
        idle_timeout=args.idle_timeout,
        max_duration=args.max_duration,
        allowed_origins=origins,
        authorizer=authorizer,
        disconnect_drops=DisconnectDrops(args.drop_disconnect_rate, args.seed),
    )
    if args.drop_disconnect_rate:
        log.warning("dropping %s of $disconnect calls", f"{args.drop_disconnect_rate:.0%}")
    router = Router()
    signatures = (
        None if args.allow_unsigned else SignatureCheck.from_environment(os.environ, region)
    )
    management_api.register(router, runtime, signatures)
    publish.register(router, invoker, signatures)  # the template's publish HTTP API
    return LocalGateway(runtime, sock, router, page=not args.no_page)


async def _serve(gateway: LocalGateway, endpoint: str, inprocess: bool) -> None:
    stop = asyncio.Event()
    # Registered before the first connection, until shutdown ends ($disconnect may post).
    with (
        stop_on_signals(asyncio.get_running_loop(), stop),
        serving_locally(endpoint, gateway.runtime, inprocess),
    ):
        await gateway.start()
        print(f"Switchboard local gateway: {gateway.websocket_url}", flush=True)
        print(f"@connections API: {gateway.url}/@connections/{{connectionId}}", flush=True)
        if gateway.router.serves(publish.PATH):
            print(f"Publish API: http://{gateway.host}:{gateway.port}{publish.PATH}", flush=True)
        await stop.wait()
        await gateway.shutdown()
