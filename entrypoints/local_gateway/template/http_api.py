"""The template's HTTP APIs (AWS::ApiGatewayV2::Api, ProtocolType HTTP): each route with an
AWS_PROXY integration, served on serve's port as `METHOD /stage-path/path`, its function called
with a payload format 2.0 event; AWS_IAM routes check SigV4 as @connections does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from entrypoints.local_gateway.template.intrinsics import Resolver, Unresolvable
from entrypoints.local_gateway.template.reading import TemplateError

_AUTHORIZATIONS = ("NONE", "AWS_IAM")


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # with the stage's path in front, unless the stage is $default
    function: str  # the logical id of its function
    iam: bool  # AWS_IAM: the call must be signed


def http_api_ids(resolver: Resolver, resources: Mapping[str, Any]) -> set[str]:
    return {
        resolver.ref(name)
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::ApiGatewayV2::Api"
        and (resource.get("Properties") or {}).get("ProtocolType") == "HTTP"
    }


def read_http_routes(
    resolver: Resolver,
    resources: Mapping[str, Any],
    function_of: Callable[[str, Mapping[str, Any]], str],
) -> tuple[list[HttpRoute], list[str]]:
    """The HTTP APIs' routes; a line for each route serve does not reproduce. `function_of`
    finds a route's function through its Target (as a WebSocket route's)."""
    apis = http_api_ids(resolver, resources)
    prefixes = {api: "" for api in apis}
    for name, resource in resources.items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::ApiGatewayV2::Stage":
            api = _resolved(resolver, name, properties.get("ApiId"))
            stage = str(_resolved(resolver, name, properties.get("StageName")))
            if api in apis and stage != "$default":
                prefixes[api] = f"/{stage}"
    routes, not_served = [], []
    for name, resource in resources.items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::ApiGatewayV2::Route":
            continue
        api = _resolved(resolver, name, properties.get("ApiId"))
        if api not in apis:
            continue
        key = str(_resolved(resolver, name, properties.get("RouteKey")))
        authorization = str(properties.get("AuthorizationType", "NONE"))
        method, _, path = key.partition(" ")
        if authorization not in _AUTHORIZATIONS or not path.startswith("/") or "{" in path:
            why = f"route {key!r} ({authorization}): serve has fixed paths, NONE or AWS_IAM"
            not_served.append(f"not reproduced: {name} (AWS::ApiGatewayV2::Route): {why}")
            continue
        function = function_of(name, properties)
        routes.append(HttpRoute(method, prefixes[api] + path, function, authorization == "AWS_IAM"))
    return routes, not_served


def _resolved(resolver: Resolver, name: str, value: Any) -> Any:
    try:
        return resolver.resolve(value)
    except Unresolvable as error:
        raise TemplateError(f"{name}: {error}") from error
