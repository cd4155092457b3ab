"""`serve --template PATH`: the gateway built from a user's template instead of one handler.

Each route calls its own function in its own processes (functions.py); the template's tables
are made in an embedded DynamoDB (moto, as `--store dynamodb`); a second, TLS listener answers
on the host:port every event's domainName names, so `https://{domainName}/{stage}` reaches the
@connections API; and each function's environment points boto3 at the local services.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import ssl
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from entrypoints.local_gateway.authorizer.authorization import Authorizer, method_arn
from entrypoints.local_gateway.connections_api import management_api
from entrypoints.local_gateway.connections_api.signature import SignatureCheck
from entrypoints.local_gateway.lambda_runtime import ids
from entrypoints.local_gateway.lambda_runtime.events import Stage
from entrypoints.local_gateway.lambda_runtime.invoker import Invoker
from entrypoints.local_gateway.lambda_runtime.lambda_context import FunctionInfo
from entrypoints.local_gateway.template.app import App, build_app
from entrypoints.local_gateway.template.functions import (
    FunctionError,
    Sandboxes,
    function_environment,
)
from entrypoints.local_gateway.template.reading import TemplateError, read_template
from entrypoints.local_gateway.template.tables import create_tables
from entrypoints.local_gateway.template.tls import local_tls
from entrypoints.local_gateway.web.http_router import Router
from entrypoints.local_gateway.web.server import LocalGateway, listen
from entrypoints.local_gateway.websocket.faults import DisconnectDrops
from entrypoints.local_gateway.websocket.origins import page_origins
from entrypoints.local_gateway.websocket.routes import RESERVED_ROUTES, RouteSelector
from entrypoints.local_gateway.websocket.runtime import Runtime

log = logging.getLogger("local_gateway")


class Routed:
    """The handler the gateway calls: each route's own function."""

    def __init__(self, routes: dict[str, Sandboxes]) -> None:
        self._routes = routes

    def __call__(self, event: dict[str, object], context: object) -> object:
        request = event["requestContext"]
        assert isinstance(request, dict)
        return self._routes[str(request["routeKey"])](event, context)


@contextlib.contextmanager
def template_gateway(
    args: argparse.Namespace, sock: socket.socket, region: str
) -> Iterator[LocalGateway]:
    """The gateway for args.template, its functions started; they stop when the block ends."""
    tls_sock = listen(args.host, 0)
    host = sock.getsockname()[0]
    domain = f"{host}:{tls_sock.getsockname()[1]}"
    api_id = ids.api_id()
    app = build_app(read_template(Path(args.template), region), region, api_id, domain)
    for line in app.not_served:
        print(f"switchboard serve: {line}", file=sys.stderr, flush=True)
    port = sock.getsockname()[1]
    os.environ["APIGW_ENDPOINT"] = f"http://{host}:{port}/{app.stage}"
    with contextlib.ExitStack() as stack:
        tls = local_tls()
        endpoint = args.dynamodb_endpoint or stack.enter_context(_moto())
        import boto3

        create_tables(boto3.client("dynamodb", endpoint_url=endpoint, region_name=region),
                      app.tables)  # fmt: skip
        local = {
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": os.environ["APIGW_ENDPOINT"],
            "AWS_CA_BUNDLE": str(tls.ca_bundle),
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        }
        functions = {
            name: Sandboxes(function, function_environment(function, region, local, os.environ))
            for name, function in app.functions.items()
        }
        for function in functions.values():
            stack.callback(function.close)
        _start(functions)
        yield _gateway(args, sock, region, app, functions, (tls_sock, tls.context), domain)


def _start(functions: dict[str, Sandboxes]) -> None:
    """A first sandbox of each function, side by side: a handler that cannot be imported
    stops serve now, naming the function and its Handler."""
    with ThreadPoolExecutor(max_workers=max(1, len(functions))) as pool:
        for future in [pool.submit(f.start) for f in functions.values()]:
            try:
                future.result()
            except FunctionError as error:
                raise TemplateError(str(error)) from error


def _gateway(
    args: argparse.Namespace,
    sock: socket.socket,
    region: str,
    app: App,
    functions: dict[str, Sandboxes],
    tls: tuple[socket.socket, ssl.SSLContext],
    domain: str,
) -> LocalGateway:
    handler = Routed({route: functions[name] for route, name in app.routes.items()})
    invoker = Invoker(handler, args.workers, FunctionInfo(region=region), args.integration_timeout)
    stage = Stage(app.api_id, app.stage)
    authorizer = None
    if app.authorizer:
        arn = method_arn(region, stage.api_id, stage.name)
        authorizer = Authorizer(functions[app.authorizer], invoker, arn, app.identity_sources)
    custom = [route for route in app.routes if route not in RESERVED_ROUTES]
    runtime = Runtime(
        stage=stage,
        invoker=invoker,
        selector=RouteSelector(custom, app.selection),
        idle_timeout=args.idle_timeout,
        max_duration=args.max_duration,
        allowed_origins=(*page_origins(args.host, sock.getsockname()[1]), *args.allow_origin),
        authorizer=authorizer,
        disconnect_drops=DisconnectDrops(args.drop_disconnect_rate, args.seed),
        integrated=frozenset(app.routes),
        two_way=app.two_way,
        domain_name=domain,
    )
    router = Router()
    signatures = (
        None if args.allow_unsigned else SignatureCheck.from_environment(os.environ, region)
    )
    management_api.register(router, runtime, signatures)
    log.info("routes %s, selected by %s", ", ".join(sorted(app.routes)), app.selection)
    return LocalGateway(runtime, sock, router, page=False, tls=tls)


@contextlib.contextmanager
def _moto() -> Iterator[str]:
    from entrypoints.local_gateway.services.moto_process import moto_server

    with moto_server() as endpoint:
        log.info("embedded moto DynamoDB at %s", endpoint)
        yield endpoint
