"""`serve --template PATH`: the gateway built from a user's template instead of one handler.

Each route calls its own function in its own processes (functions.py); the template's tables
are made in an embedded DynamoDB (moto, as `--store dynamodb`); a second, TLS listener answers
on the host:port every event's domainName names, so `https://{domainName}/{stage}` reaches the
@connections API; and each function's environment points boto3 at the local services.

Long: the assembly of every part of --template, in the order serve starts them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import socket
import ssl
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from domain.limits import MAX_HTTP_API_BODY_BYTES
from entrypoints.local_gateway.authorizer.authorization import Authorizer, method_arn
from entrypoints.local_gateway.connections_api import management_api
from entrypoints.local_gateway.connections_api.signature import SignatureCheck
from entrypoints.local_gateway.http_api.publish import PublishApi
from entrypoints.local_gateway.lambda_runtime import ids
from entrypoints.local_gateway.lambda_runtime.console import Shown
from entrypoints.local_gateway.lambda_runtime.events import Stage
from entrypoints.local_gateway.lambda_runtime.invoker import Invoker
from entrypoints.local_gateway.lambda_runtime.lambda_context import FunctionInfo, LambdaContext
from entrypoints.local_gateway.template.app import App, build_app
from entrypoints.local_gateway.template.functions import (
    FunctionError,
    Sandboxes,
    function_environment,
)
from entrypoints.local_gateway.template.queues import Poller, create_queues
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

    def function_for(self, route: str) -> tuple[str, str]:
        """The route's function, for the console: its logical id and memory size."""
        function = self._routes[route].function
        return function.logical_id, str(function.memory)

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
    code = Path(args.code or os.getcwd()).resolve()
    template = read_template(Path(args.template), region, code)
    for name in template.packaged:  # said, not assumed silently
        print(f"switchboard serve: {name}: its Code is an S3 object; running the code in "
              f"{code} (--code)", file=sys.stderr, flush=True)  # fmt: skip
    with contextlib.ExitStack() as stack:
        moto = stack.enter_context(_moto())  # SQS, and DynamoDB unless --dynamodb-endpoint
        endpoint = args.dynamodb_endpoint or moto
        app = build_app(template, region, api_id, domain, moto, _parameters(args.parameter))
        for line in app.not_served:
            print(f"switchboard serve: {line}", file=sys.stderr, flush=True)
        port = sock.getsockname()[1]
        os.environ["APIGW_ENDPOINT"] = f"http://{host}:{port}/{app.stage}"
        tls = local_tls()
        import boto3

        create_tables(boto3.client("dynamodb", endpoint_url=endpoint, region_name=region),
                      app.tables)  # fmt: skip
        sqs = boto3.client("sqs", endpoint_url=moto, region_name=region)
        create_queues(sqs, app.queues)
        local = {
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ENDPOINT_URL_SQS": moto,
            "AWS_ENDPOINT_URL_SSM": moto,
            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": os.environ["APIGW_ENDPOINT"],
            "AWS_CA_BUNDLE": str(tls.ca_bundle),
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        }
        hosts = {f"{api_id}.execute-api.{region}.amazonaws.com": domain}
        functions = {
            name: Sandboxes(
                function, function_environment(function, region, local, os.environ, hosts)
            )
            for name, function in app.functions.items()
        }
        for function in functions.values():
            stack.callback(function.close)
        _start(functions)
        for consumer in app.consumers:
            call = _direct(functions[consumer.function], region, args.log_format)
            poller = Poller(consumer, sqs, call, region)
            poller.start()
            stack.callback(poller.stop)
            log.info("%s polls %s", consumer.function, consumer.queue.name)
        yield _gateway(args, sock, region, app, functions, (tls_sock, tls.context), domain)


def _direct(
    function: Sandboxes, region: str, log_format: str | None
) -> Callable[[dict[str, Any]], Any]:
    """Call a function as an event source mapping does: straight, not through API Gateway;
    shown on the console as the gateway's calls are."""
    info = FunctionInfo(
        function_name=function.function.name,
        region=region,
        memory_limit_in_mb=str(function.function.memory),
    )
    shown = Shown(function, function.function.logical_id, "sqs", log_format)

    def invoke(event: dict[str, Any]) -> Any:
        started = time.perf_counter()
        context = LambdaContext(info, function.function.timeout)
        try:
            result = shown(event, context)
        except Exception:
            status = "failed"
            raise
        else:
            status = "ok"
            return result
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            name, records = function.function.logical_id, len(event["Records"])
            if log_format != "text":  # text: the console's own line says it
                log.info("%s sqs records=%d %s duration_ms=%.1f", name, records, status, elapsed_ms)

    return invoke


def _parameters(given: list[str] | None) -> dict[str, str]:
    values = {}
    for item in given or []:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise TemplateError(f"--parameter {item!r}: expected NAME=VALUE")
        values[name] = value
    return values


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
    invoker = Invoker(
        handler, args.workers, FunctionInfo(region=region), args.integration_timeout,
        log_format=args.log_format,
    )  # fmt: skip
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
    for route in app.http_routes:  # the template's HTTP APIs, on the same port
        call = invoker.sibling(functions[route.function], route.function)
        api = PublishApi(call, signatures if route.iam else None, ids.api_id())
        router.add((route.method,), re.escape(route.path), api.handle,
                   max_body_bytes=MAX_HTTP_API_BODY_BYTES)  # fmt: skip
        log.info("HTTP API: %s http://%s:%d%s -> %s", route.method, *sock.getsockname()[:2],
                 route.path, route.function)  # fmt: skip
    log.info("routes %s, selected by %s", ", ".join(sorted(app.routes)), app.selection)
    log.info("TLS (the events' domainName): wss://%s/%s and https://%s/%s/@connections",
             domain, app.stage, domain, app.stage)  # fmt: skip
    return LocalGateway(runtime, sock, router, page=False, tls=tls)


@contextlib.contextmanager
def _moto() -> Iterator[str]:
    from entrypoints.local_gateway.services.moto_process import moto_server

    with moto_server() as endpoint:
        log.info("embedded moto DynamoDB at %s (SQS too)", endpoint)
        yield endpoint
