"""infra/template.yaml read as data: what moto cannot check (routes, policy scope, TTL...).

Long: every check reads the same parsed template; split, each file would parse it again.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from entrypoints.composition.settings import AuthSettings, Settings
from infra.cfn_yaml import load_template
from tests.integration.cfn_values import NO_VALUE, Values

ROUTES = {
    "$connect", "$disconnect", "$default", "sendmessage", "join", "leave", "whoami", "presence"
}  # fmt: skip
# What adapters/dynamodb_store and its helpers call, and nothing else.
STORE_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem",
}  # fmt: skip
POST_ONLY = (
    "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
    "${Api}/${Stage}/POST/@connections/*"
)
DELETE_ONLY = POST_ONLY.replace("/POST/", "/DELETE/")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def of_api(template: dict[str, Any], kind: str, api: str) -> dict[str, dict[str, Any]]:
    """The resources of `kind` that belong to one API: the WebSocket `Api` or the `PublishApi`."""
    return {
        k: r for k, r in of_type(template, kind).items() if r["Properties"]["ApiId"] == {"Ref": api}
    }


def statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_api_is_a_websocket_api_routing_on_the_action_field(template: dict[str, Any]) -> None:
    assert set(of_type(template, "AWS::ApiGatewayV2::Api")) == {"Api", "PublishApi"}
    api = template["Resources"]["Api"]
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"


def test_every_route_goes_to_one_proxy_integration_of_the_handler(
    template: dict[str, Any],
) -> None:
    integrations = of_api(template, "AWS::ApiGatewayV2::Integration", "Api")
    assert len(integrations) == 1
    (name, integration), = integrations.items()  # fmt: skip
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert "${Handler.Arn}" in integration["Properties"]["IntegrationUri"]["Fn::Sub"]
    routes = of_api(template, "AWS::ApiGatewayV2::Route", "Api")
    assert {r["Properties"]["RouteKey"] for r in routes.values()} == ROUTES
    assert {r["Properties"]["Target"]["Fn::Sub"] for r in routes.values()} == {
        f"integrations/${{{name}}}"
    }
    (deployment,) = of_type(template, "AWS::ApiGatewayV2::Deployment").values()
    assert set(deployment["DependsOn"]) == set(routes)


def test_only_connect_is_authorized_by_the_jwt_authorizer(template: dict[str, Any]) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in of_api(template, "AWS::ApiGatewayV2::Route", "Api").values()
    }
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert {routes[k]["AuthorizationType"] for k in ROUTES - {"$connect"}} == {"NONE"}
    authorizer = template["Resources"][routes["$connect"]["AuthorizerId"]["Ref"]]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.querystring.token"]
    assert "${Authorizer.Arn}" in authorizer["AuthorizerUri"]["Fn::Sub"]


def test_no_policy_grants_a_wildcard_action(template: dict[str, Any]) -> None:
    for name, role in of_type(template, "AWS::IAM::Role").items():
        for statement in statements(role):
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{name} grants {action}"


def test_the_handler_may_only_use_its_table_post_to_its_stage_and_write_its_logs(
    template: dict[str, Any],
) -> None:
    by_sid = {s["Sid"]: s for s in statements(template["Resources"]["HandlerRole"])}
    assert set(by_sid) == {"ConnectionsTable", "FanoutQueue", "PostToConnections", "OwnLogs"}
    table = by_sid["ConnectionsTable"]
    # No DescribeTable: a sample of the connections index sizes a sharded broadcast.
    assert set(table["Action"]) == STORE_ACTIONS
    assert as_list(by_sid["FanoutQueue"]["Action"]) == ["sqs:SendMessage"]
    assert by_sid["FanoutQueue"]["Resource"] == {"Fn::GetAtt": ["FanoutQueue", "Arn"]}
    assert table["Resource"] == [
        {"Fn::GetAtt": ["ConnectionsTable", "Arn"]},
        {"Fn::Sub": "${ConnectionsTable.Arn}/index/*"},
    ]
    post = by_sid["PostToConnections"]
    assert as_list(post["Action"]) == ["execute-api:ManageConnections"]
    # Posts, and closing a connection whose token expired; never GET.
    assert post["Resource"] == [{"Fn::Sub": POST_ONLY}, {"Fn::Sub": DELETE_ONLY}]
    logs = by_sid["OwnLogs"]
    assert set(logs["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert logs["Resource"] == {"Fn::GetAtt": ["HandlerLogGroup", "Arn"]}


def test_the_authorizer_may_read_one_secret_parameter(template: dict[str, Any]) -> None:
    by_sid = {s["Sid"]: s for s in statements(template["Resources"]["AuthorizerRole"])}
    assert as_list(by_sid["SigningSecret"]["Action"]) == ["ssm:GetParameter"]
    resource = by_sid["SigningSecret"]["Resource"]["Fn::Sub"]
    assert resource.endswith(":parameter${AuthSecretParameter}")
    assert template["Parameters"]["AuthSecretParameter"]["AllowedPattern"].startswith("^/")


def test_api_gateway_may_invoke_the_functions_from_this_api_only(
    template: dict[str, Any],
) -> None:
    permissions = of_type(template, "AWS::Lambda::Permission").values()
    targets = {p["Properties"]["FunctionName"]["Ref"]: p["Properties"] for p in permissions}
    assert set(targets) == {"Handler", "Authorizer", "PublishHandler"}
    for function, properties in targets.items():
        assert properties["Principal"] == "apigateway.amazonaws.com"
        source = properties["SourceArn"]["Fn::Sub"]
        if function == "PublishHandler":  # the publish route of the publish API, only
            assert source.endswith(":${PublishApi}/*/POST/publish")
        else:
            assert ":${Api}/" in source


@pytest.mark.parametrize(
    ("function", "module"),
    [
        ("Handler", "entrypoints.aws_lambda"),
        ("Authorizer", "entrypoints.authorizer"),
        ("Worker", "entrypoints.fanout_worker"),
        ("PublishHandler", "entrypoints.publish_api"),
    ],
)
def test_functions_run_a_current_python_and_name_a_real_handler(
    template: dict[str, Any], function: str, module: str
) -> None:
    properties = template["Resources"][function]["Properties"]
    assert properties["Runtime"] in {"python3.12", "python3.13", "python3.14"}
    assert properties["Handler"] == f"{module}.handler"
    assert callable(importlib.import_module(module).handler)
    assert properties["Architectures"] == [{"Ref": "Architecture"}]
    assert properties["LoggingConfig"]["LogGroup"]["Ref"].endswith("LogGroup")


def resolved_environment(
    template: dict[str, Any], function: str, given: dict[str, str] | None = None
) -> dict[str, str]:
    """The function's environment with the `given` parameters, the rest at their defaults."""
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    return {name: str(value) for name, value in Values(template, given).of(variables).items()}


def test_the_handler_environment_is_valid_for_the_container(template: dict[str, Any]) -> None:
    env = resolved_environment(template, "Handler")
    assert env["STORE"] == "dynamodb"
    assert env["CONNECTIONS_TABLE"] == "<ConnectionsTable>"
    assert env["POWERTOOLS_SERVICE_NAME"] == "switchboard"
    settings = Settings.from_environ(env)  # raises SettingsError on a value it cannot use
    assert (settings.concurrency, settings.max_attempts, settings.batch_size) == (32, 5, 1000)
    assert (settings.dispatch, settings.queue_url) == ("sqs", "<FanoutQueue>")
    assert (settings.shard_threshold, settings.shard_size) == (2000, 1000)


def test_the_worker_environment_is_valid_and_queues_its_continuations(
    template: dict[str, Any],
) -> None:
    env = resolved_environment(template, "Worker") | {"AWS_LAMBDA_FUNCTION_NAME": "worker"}
    assert (env["STORE"], env["CONNECTIONS_TABLE"]) == ("dynamodb", "<ConnectionsTable>")
    settings = Settings.from_environ(env)
    # A shard that runs short of time goes on in a new message on the same queue.
    assert (settings.dispatch, settings.queue_url) == ("sqs", "<FanoutQueue>")
    assert settings.batch_size == 256  # the checkpoint interval: at most this many re-posted


def test_the_authorizer_environment_is_valid_with_the_defaults(template: dict[str, Any]) -> None:
    settings = AuthSettings.from_environ(resolved_environment(template, "Authorizer"))
    assert settings.algorithm == "HS256"
    assert settings.secret_parameter == "/switchboard/jwt-secret"


def test_the_table_keeps_its_data_expires_items_and_recovers(template: dict[str, Any]) -> None:
    table = template["Resources"]["ConnectionsTable"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    indexes = [i["IndexName"] for i in properties["GlobalSecondaryIndexes"]]
    assert indexes == ["room-index", "connections-index"]


def test_the_stage_throttles_and_logs_access(template: dict[str, Any]) -> None:
    (stage,) = of_api(template, "AWS::ApiGatewayV2::Stage", "Api").values()
    properties = stage["Properties"]
    assert properties["StageName"] == {"Ref": "Stage"}
    assert template["Parameters"]["Stage"]["Default"] == "dev"
    route_settings = properties["DefaultRouteSettings"]
    assert route_settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert route_settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    log_group = properties["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.connectionId" in properties["AccessLogSettings"]["Format"]


def test_every_log_group_has_a_retention(template: dict[str, Any]) -> None:
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert len(groups) == 6
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_outputs_give_the_urls_and_the_table(template: dict[str, Any]) -> None:
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}
    assert outputs["WebSocketURL"]["Fn::Sub"].startswith("wss://${Api}.execute-api.")
    assert outputs["WebSocketURL"]["Fn::Sub"].endswith("/${Stage}")
    assert outputs["ConnectionsURL"]["Fn::Sub"].startswith("https://${Api}.execute-api.")
    assert outputs["ConnectionsURL"]["Fn::Sub"].endswith("/${Stage}/@connections")
    assert outputs["ConnectionsTableName"] == {"Ref": "ConnectionsTable"}
    assert outputs["FanoutQueueURL"] == {"Ref": "FanoutQueue"}
    assert outputs["FanoutDeadLetterQueueURL"] == {"Ref": "FanoutDeadLetterQueue"}


def test_the_worker_may_only_consume_its_queue_use_its_table_and_post_to_its_stage(
    template: dict[str, Any],
) -> None:
    by_sid = {s["Sid"]: s for s in statements(template["Resources"]["WorkerRole"])}
    assert set(by_sid) == {"FanoutQueue", "ConnectionsTable", "PostToConnections", "OwnLogs"}
    queue = by_sid["FanoutQueue"]
    assert set(queue["Action"]) == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:SendMessage"
    }  # fmt: skip
    assert queue["Resource"] == {"Fn::GetAtt": ["FanoutQueue", "Arn"]}
    # Reads, checkpoints and pruning; never UpdateItem (joins) or DescribeTable (planning).
    assert set(by_sid["ConnectionsTable"]["Action"]) == STORE_ACTIONS - {"dynamodb:UpdateItem"}
    assert by_sid["PostToConnections"]["Resource"] == {"Fn::Sub": POST_ONLY}
    assert by_sid["OwnLogs"]["Resource"] == {"Fn::GetAtt": ["WorkerLogGroup", "Arn"]}


def test_sqs_feeds_the_worker_one_shard_at_a_time_under_a_concurrency_cap(
    template: dict[str, Any],
) -> None:
    (mapping,) = of_type(template, "AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["FanoutQueue", "Arn"]}
    assert properties["FunctionName"] == {"Ref": "Worker"}
    assert properties["BatchSize"] == 1
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "FanoutMaxWorkers"}}
    limits = template["Parameters"]["FanoutMaxWorkers"]
    assert (limits["MinValue"], limits["MaxValue"]) == (2, 1000)  # what SQS mappings accept


def test_a_shard_that_keeps_failing_ends_in_the_dead_letter_queue(
    template: dict[str, Any],
) -> None:
    resources, parameters = template["Resources"], template["Parameters"]
    queue = resources["FanoutQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["FanoutDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "ShardMaxReceiveCount"},
    }
    # Lambda refuses a mapping whose queue hides messages for less than the function runs.
    visibility = parameters[queue["VisibilityTimeout"]["Ref"]]["Default"]
    assert visibility >= parameters["WorkerTimeout"]["Default"]
    assert resources["Worker"]["Properties"]["Timeout"] == {"Ref": "WorkerTimeout"}
    dlq = resources["FanoutDeadLetterQueue"]["Properties"]
    assert dlq["MessageRetentionPeriod"] == 1_209_600
    alarm = resources["FanoutDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["FanoutDeadLetterQueue", "QueueName"]}


THROTTLES = ("ThrottlingRateLimit", "ThrottlingBurstLimit")
MESSAGE_ROUTES = {"sendmessage", "$default"}  # what a flooder sends; each message fans out


def test_the_message_routes_have_their_own_lower_throttles(template: dict[str, Any]) -> None:
    (stage,) = of_api(template, "AWS::ApiGatewayV2::Stage", "Api").values()
    route_settings = stage["Properties"]["RouteSettings"]
    assert set(route_settings) == MESSAGE_ROUTES
    parameters = template["Parameters"]
    for route in MESSAGE_ROUTES:
        assert route_settings[route] == {k: {"Ref": f"Message{k}"} for k in THROTTLES}
    for limit in THROTTLES:
        stage_wide, message = parameters[limit], parameters[f"Message{limit}"]
        assert message["Default"] < stage_wide["Default"]
        for parameter in (stage_wide, message):
            assert (parameter["Type"], parameter["MinValue"]) == ("Number", 0)


@pytest.mark.parametrize(
    ("function", "parameter"),
    [("Handler", "HandlerReservedConcurrency"), ("Authorizer", "AuthorizerReservedConcurrency")],
)
def test_reserved_concurrency_is_a_parameter_and_none_by_default(
    template: dict[str, Any], function: str, parameter: str
) -> None:
    resource = template["Resources"][function]
    reserved = resource["Properties"]["ReservedConcurrentExecutions"]
    assert Values(template).of(reserved) is NO_VALUE  # the account's shared pool
    assert Values(template, {parameter: "50"}).of(reserved) == "50"
    assert Values(template, {parameter: "0"}).of(reserved) == "0"  # stopped, on purpose
    assert template["Parameters"][parameter]["MinValue"] == -1
    (skip,) = [s for s in resource["Metadata"]["checkov"]["skip"] if s["id"] == "CKV_AWS_115"]
    assert parameter in skip["comment"] and "none by default" in skip["comment"]


@pytest.mark.parametrize("function", ["Handler", "Worker", "PublishHandler"])
def test_the_handler_and_the_worker_post_to_this_stacks_own_endpoint(
    template: dict[str, Any], function: str
) -> None:
    env = resolved_environment(template, function, {"Stage": "prod"})
    endpoint = "https://<Api>.execute-api.<AWS::Region>.<AWS::URLSuffix>/prod"
    assert env["APIGW_ENDPOINT"] == endpoint  # URLSuffix: amazonaws.com.cn in China
    assert Settings.from_environ(env).apigw_endpoint == endpoint
    # The same API and stage the stack serves and lets the function post to.
    assert template["Resources"]["Api"]["Properties"]["ProtocolType"] == "WEBSOCKET"
    (stage,) = of_api(template, "AWS::ApiGatewayV2::Stage", "Api").values()
    assert stage["Properties"]["StageName"] == {"Ref": "Stage"}
    connections = template["Outputs"]["ConnectionsURL"]["Value"]
    assert Values(template, {"Stage": "prod"}).of(connections) == f"{endpoint}/@connections"


def test_the_authorizer_gets_the_longest_token_lifetime_it_accepts(
    template: dict[str, Any],
) -> None:
    parameter = template["Parameters"]["AuthMaxTtlSeconds"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 86400, 1)
    assert resolved_environment(template, "Authorizer")["AUTH_MAX_TTL"] == "86400"
    given = {"AuthMaxTtlSeconds": "3600"}
    assert resolved_environment(template, "Authorizer", given)["AUTH_MAX_TTL"] == "3600"


def test_backends_publish_through_an_iam_signed_route_of_an_http_api(
    template: dict[str, Any],
) -> None:
    assert template["Resources"]["PublishApi"]["Properties"]["ProtocolType"] == "HTTP"
    (route,) = of_api(template, "AWS::ApiGatewayV2::Route", "PublishApi").values()
    assert route["Properties"]["RouteKey"] == "POST /publish"
    assert route["Properties"]["AuthorizationType"] == "AWS_IAM"  # unsigned calls: 403
    integrations = of_api(template, "AWS::ApiGatewayV2::Integration", "PublishApi")
    ((name, integration),) = integrations.items()
    assert route["Properties"]["Target"] == {"Fn::Sub": f"integrations/${{{name}}}"}
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    assert integration["Properties"]["IntegrationUri"] == {"Fn::GetAtt": ["PublishHandler", "Arn"]}
    (stage,) = of_api(template, "AWS::ApiGatewayV2::Stage", "PublishApi").values()
    properties = stage["Properties"]
    assert (properties["StageName"], properties["AutoDeploy"]) == ("$default", True)
    assert properties["DefaultRouteSettings"] == {k: {"Ref": f"Publish{k}"} for k in THROTTLES}
    assert "$context.identity.userArn" in properties["AccessLogSettings"]["Format"]
    url = template["Outputs"]["PublishURL"]["Value"]["Fn::Sub"]
    assert url == "https://${PublishApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/publish"


def test_the_publish_handler_may_post_to_connections_but_never_close_one(
    template: dict[str, Any],
) -> None:
    by_sid = {s["Sid"]: s for s in statements(template["Resources"]["PublishHandlerRole"])}
    assert set(by_sid) == {"ConnectionsTable", "FanoutQueue", "PostToConnections", "OwnLogs"}
    assert set(by_sid["ConnectionsTable"]["Action"]) == STORE_ACTIONS
    assert by_sid["ConnectionsTable"]["Resource"] == [
        {"Fn::GetAtt": ["ConnectionsTable", "Arn"]},
        {"Fn::Sub": "${ConnectionsTable.Arn}/index/*"},
    ]
    assert as_list(by_sid["FanoutQueue"]["Action"]) == ["sqs:SendMessage"]
    assert by_sid["FanoutQueue"]["Resource"] == {"Fn::GetAtt": ["FanoutQueue", "Arn"]}
    assert as_list(by_sid["PostToConnections"]["Action"]) == ["execute-api:ManageConnections"]
    assert by_sid["PostToConnections"]["Resource"] == {"Fn::Sub": POST_ONLY}  # no DELETE
    assert by_sid["OwnLogs"]["Resource"] == {"Fn::GetAtt": ["PublishHandlerLogGroup", "Arn"]}
    env = resolved_environment(template, "PublishHandler")
    assert env["POWERTOOLS_SERVICE_NAME"] == "switchboard-publish"
    settings = Settings.from_environ(env)
    assert (settings.store, settings.table) == ("dynamodb", "<ConnectionsTable>")
    assert (settings.dispatch, settings.queue_url) == ("sqs", "<FanoutQueue>")
    # The handler's settings, so a publish and a member's message share order and history.
    assert settings == Settings.from_environ(resolved_environment(template, "Handler"))
