"""What `serve --template` reproduces of a template: the WebSocket API and its stage, each route
through its integration to its function, the $connect authorizer, the DynamoDB tables; and a
line for every resource it does not reproduce, so nothing is ignored silently.

Long: one walk over the template's resources, each kind in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entrypoints.local_gateway.template import names
from entrypoints.local_gateway.template.http_api import HttpRoute, http_api_ids, read_http_routes
from entrypoints.local_gateway.template.intrinsics import Resolver, Unresolvable
from entrypoints.local_gateway.template.queues import Consumer, Queue, read_consumers, read_queues
from entrypoints.local_gateway.template.reading import Template, TemplateError

LAMBDA_DEFAULT_TIMEOUT = 3.0  # seconds, when a function names none
# Resources serve reproduces without running them: they shape the API, or need no local twin.
_FOLDED = {
    "AWS::ApiGatewayV2::Deployment": "",
    "AWS::ApiGatewayV2::Stage": "",
    "AWS::ApiGatewayV2::Route": "",
    "AWS::ApiGatewayV2::Integration": "",
    "AWS::ApiGatewayV2::RouteResponse": "",
    "AWS::ApiGatewayV2::Authorizer": "",
}
_REASONS = {
    "AWS::IAM::Role": "IAM is not enforced locally: functions may call any local service",
    "AWS::IAM::Policy": "IAM is not enforced locally",
    "AWS::IAM::ManagedPolicy": "IAM is not enforced locally",
    "AWS::Lambda::Permission": "API Gateway calls the functions without a permission locally",
    "AWS::Logs::LogGroup": "logs go to the console",
}


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str
    handler: str
    code: Path
    timeout: float
    memory: int
    environment: dict[str, str]


@dataclass(frozen=True)
class App:
    api_id: str
    stage: str
    selection: str  # the RouteSelectionExpression
    routes: dict[str, str]  # route key: the logical id of its function
    two_way: frozenset[str]  # route keys with a route response: the result goes back
    authorizer: str | None  # the logical id of $connect's REQUEST authorizer function
    identity_sources: tuple[str, ...]
    functions: dict[str, Function]
    tables: list[dict[str, Any]]  # each table's properties, resolved
    not_served: list[str] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    http_routes: list[HttpRoute] = field(default_factory=list)


def build_app(
    template: Template,
    region: str,
    api_id: str,
    domain: str,
    sqs_endpoint: str = "",
    given: Mapping[str, str] | None = None,
) -> App:
    """`given`: parameter values (serve --parameter NAME=VALUE), over their defaults."""
    given = given or {}
    resources = template.resources
    parameters = names.parameter_values(template.parameters, given)
    resolver = names.resolver(
        resources, parameters, template.conditions, region, api_id, domain, sqs_endpoint
    )
    api = _websocket_api(resources)
    not_served: list[str] = []
    stage, routes, two_way = "", {}, set()
    authorizer: str | None = None
    sources: tuple[str, ...] = ()
    integrations = _by_type(resources, "AWS::ApiGatewayV2::Integration")
    http_apis = http_api_ids(resolver, resources)
    for name, resource in resources.items():
        kind = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        if _part_of(resolver, name, kind, properties, http_apis):
            continue  # an HTTP API, its routes, integrations and stages: http_api.py
        part_of_an_api = kind.startswith("AWS::ApiGatewayV2::") and kind != "AWS::ApiGatewayV2::Api"
        if part_of_an_api and _value(resolver, name, properties, "ApiId") != api_id:
            not_served.append(_line(name, kind, "belongs to another API"))
            continue
        if kind == "AWS::ApiGatewayV2::Stage":
            stage = stage or str(_value(resolver, name, properties, "StageName"))
        elif kind == "AWS::ApiGatewayV2::Route":
            key = str(_value(resolver, name, properties, "RouteKey"))
            routes[key] = _route_function(resolver, name, properties, integrations, resources)
            if key == "$connect" and properties.get("AuthorizerId"):
                authorizer_id = str(_value(resolver, name, properties, "AuthorizerId"))
                authorizer, sources = _authorizer(resolver, authorizer_id, resources)
        elif kind == "AWS::ApiGatewayV2::RouteResponse":
            route = str(_value(resolver, name, properties, "RouteId"))
            route_properties = resources.get(route, {}).get("Properties") or {}
            two_way.add(str(_value(resolver, route, route_properties, "RouteKey")))
        elif kind == "AWS::ApiGatewayV2::Api" and name != api:
            not_served.append(_line(name, kind, "only one WebSocket API is served"))
        elif kind not in _FOLDED and kind not in _SERVED:
            not_served.append(_line(name, kind, _REASONS.get(kind, "not reproduced locally")))
    http_routes, skipped = read_http_routes(
        resolver,
        resources,
        lambda name, props: _route_function(resolver, name, props, integrations, resources),
    )
    not_served += skipped
    queues = read_queues(resolver, resources)
    consumers, ignored = read_consumers(
        resolver, resources, queues, _function_lookup(resolver, resources)
    )
    not_served += ignored
    used = {
        *routes.values(),
        *(route.function for route in http_routes),
        *([authorizer] if authorizer else []),
        *(c.function for c in consumers),
    }
    functions = {f: _function(resolver, f, resources, template.code) for f in sorted(used)}
    for name in sorted(_by_type(resources, "AWS::Lambda::Function").keys() - used):
        not_served.append(_line(name, "AWS::Lambda::Function", "no route or authorizer calls it"))
    tables = [_table(resolver, name, props, not_served) for name, props in
              _by_type(resources, "AWS::DynamoDB::Table").items()]  # fmt: skip
    api_properties = resources[api].get("Properties") or {}
    selection = str(_value(resolver, api, api_properties, "RouteSelectionExpression"))
    return App(
        api_id, stage or "dev", selection, routes, frozenset(two_way), authorizer,
        sources, functions, tables, not_served, queues, consumers, http_routes,
    )  # fmt: skip


def _part_of(
    resolver: Resolver, name: str, kind: str, properties: Mapping[str, Any], http_apis: set[str]
) -> bool:
    """Whether the resource is an HTTP API or one of its parts."""
    if kind == "AWS::ApiGatewayV2::Api":
        return properties.get("ProtocolType") == "HTTP"
    if kind.startswith("AWS::ApiGatewayV2::") and "ApiId" in properties:
        return _value(resolver, name, properties, "ApiId") in http_apis
    return False


_SERVED = {
    "AWS::ApiGatewayV2::Api", "AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::SQS::Queue",
    "AWS::Lambda::EventSourceMapping",
}  # fmt: skip


def _function_lookup(resolver: Resolver, resources: Mapping[str, Any]) -> Any:
    """A function's logical id from its name or ARN (an event source mapping's FunctionName)."""
    known = {}
    for name in _by_type(resources, "AWS::Lambda::Function"):
        known[resolver.ref(name)] = name
        known[resolver.attribute(name, "Arn")] = name
    return known.get


def _websocket_api(resources: Mapping[str, Mapping[str, Any]]) -> str:
    for name, resource in resources.items():
        properties = resource.get("Properties") or {}
        is_api = resource.get("Type") == "AWS::ApiGatewayV2::Api"
        if is_api and properties.get("ProtocolType") == "WEBSOCKET":
            return name
    raise TemplateError(
        "the template has no WebSocket API (AWS::ApiGatewayV2::Api, ProtocolType WEBSOCKET)"
    )


def _by_type(resources: Mapping[str, Mapping[str, Any]], kind: str) -> dict[str, Any]:
    return {
        name: resource.get("Properties") or {}
        for name, resource in resources.items()
        if resource.get("Type") == kind
    }


def _value(resolver: Resolver, name: str, properties: Mapping[str, Any], key: str) -> Any:
    if key not in properties:
        raise TemplateError(f"{name}: no {key}")
    try:
        return resolver.resolve(properties[key])
    except (Unresolvable, TypeError, ValueError, IndexError) as error:
        raise TemplateError(f"{name}.{key}: {error}") from error


def _route_function(
    resolver: Resolver,
    name: str,
    properties: Mapping[str, Any],
    integrations: Mapping[str, Mapping[str, Any]],
    resources: Mapping[str, Any],
) -> str:
    if "Target" not in properties:
        key = properties.get("RouteKey")
        raise TemplateError(f"{name}.Target: route {key!r} has no integration")
    target = str(_value(resolver, name, properties, "Target"))
    integration = target.removeprefix("integrations/")
    if integration not in integrations:
        raise TemplateError(f"{name}.Target: {target!r} names no integration of the template")
    details = integrations[integration]
    kind = details.get("IntegrationType")
    if kind != "AWS_PROXY":
        raise TemplateError(f"{integration}.IntegrationType: {kind!r} is not served (AWS_PROXY is)")
    return _function_named(resolver, integration, details, "IntegrationUri", resources)


def _function_named(
    resolver: Resolver, name: str, properties: Mapping[str, Any], key: str, resources: Any
) -> str:
    """The function whose ARN an integration's or authorizer's URI holds."""
    uri = str(_value(resolver, name, properties, key))
    for function in _by_type(resources, "AWS::Lambda::Function"):
        arn = resolver.attribute(function, "Arn")
        if f"/functions/{arn}/invocations" in uri or uri == arn:
            return function
    raise TemplateError(f"{name}.{key}: {uri!r} names no function of the template")


def _authorizer(resolver: Resolver, name: str, resources: Any) -> tuple[str, tuple[str, ...]]:
    resource = resources.get(name) or {}
    properties = resource.get("Properties") or {}
    if resource.get("Type") != "AWS::ApiGatewayV2::Authorizer":
        raise TemplateError(f"{name}: $connect's AuthorizerId names no authorizer")
    if properties.get("AuthorizerType") != "REQUEST":
        raise TemplateError(f"{name}.AuthorizerType: only REQUEST authorizers are served")
    function = _function_named(resolver, name, properties, "AuthorizerUri", resources)
    sources = properties.get("IdentitySource") or []
    return function, tuple(str(s) for s in resolver.resolve(sources))


def _function(
    resolver: Resolver, name: str, resources: Mapping[str, Any], code: Mapping[str, Path]
) -> Function:
    properties = resources[name].get("Properties") or {}
    runtime = str(properties.get("Runtime", ""))
    if not runtime.startswith("python3"):
        raise TemplateError(f"{name}.Runtime: {runtime!r}: serve runs Python functions only")
    variables = ((properties.get("Environment") or {}).get("Variables")) or {}
    environment = {  # a variable that resolves to AWS::NoValue is left out, as on AWS
        key: str(value)
        for key, value in (_value(resolver, f"{name}.Environment", {"Variables": variables},
                                  "Variables") or {}).items()
    }  # fmt: skip
    return Function(
        name,
        resolver.ref(name),
        str(_value(resolver, name, properties, "Handler")),
        code[name],
        float(_value(resolver, name, properties, "Timeout"))
        if "Timeout" in properties
        else LAMBDA_DEFAULT_TIMEOUT,
        int(_value(resolver, name, properties, "MemorySize"))
        if "MemorySize" in properties
        else 128,
        environment,
    )


def _table(
    resolver: Resolver, name: str, properties: Mapping[str, Any], not_served: list[str]
) -> dict[str, Any]:
    resolved = {key: _value(resolver, name, properties, key) for key in properties}
    resolved["TableName"] = resolver.ref(name)
    for key in ("SSESpecification", "PointInTimeRecoverySpecification", "StreamSpecification"):
        if key in resolved:
            not_served.append(f"not reproduced: {name}.{key} (the local table has none)")
    return resolved


def _line(name: str, kind: str, reason: str) -> str:
    return f"not reproduced: {name} ({kind}): {reason}"
