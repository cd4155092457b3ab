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

ROUTES = {"$connect", "$disconnect", "$default", "sendmessage", "join", "leave", "whoami"}
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


def statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_api_is_a_websocket_api_routing_on_the_action_field(template: dict[str, Any]) -> None:
    (api,) = of_type(template, "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"


def test_every_route_goes_to_one_proxy_integration_of_the_handler(
    template: dict[str, Any],
) -> None:
    integrations = of_type(template, "AWS::ApiGatewayV2::Integration")
    assert len(integrations) == 1
    (name, integration), = integrations.items()  # fmt: skip
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert "${Handler.Arn}" in integration["Properties"]["IntegrationUri"]["Fn::Sub"]
    routes = of_type(template, "AWS::ApiGatewayV2::Route")
    assert {r["Properties"]["RouteKey"] for r in routes.values()} == ROUTES
    assert {r["Properties"]["Target"]["Fn::Sub"] for r in routes.values()} == {
        f"integrations/${{{name}}}"
    }
    (deployment,) = of_type(template, "AWS::ApiGatewayV2::Deployment").values()
    assert set(deployment["DependsOn"]) == set(routes)


def test_only_connect_is_authorized_by_the_jwt_authorizer(template: dict[str, Any]) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in of_type(template, "AWS::ApiGatewayV2::Route").values()
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
    assert set(targets) == {"Handler", "Authorizer"}
    for properties in targets.values():
        assert properties["Principal"] == "apigateway.amazonaws.com"
        assert ":${Api}/" in properties["SourceArn"]["Fn::Sub"]


@pytest.mark.parametrize(
    ("function", "module"),
    [
        ("Handler", "entrypoints.aws_lambda"),
        ("Authorizer", "entrypoints.authorizer"),
        ("Worker", "entrypoints.fanout_worker"),
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


def resolved_environment(template: dict[str, Any], function: str) -> dict[str, str]:
    """The function's environment with every parameter at its default."""
    defaults = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    conditions = {"SharedSecret": defaults["AuthAlgorithm"] == "HS256"}
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    env: dict[str, str] = {}
    for name, value in variables.items():
        if isinstance(value, dict) and "Fn::If" in value:
            condition, yes, no = value["Fn::If"]
            value = yes if conditions.get(condition, False) else no
        if value == {"Ref": "AWS::NoValue"}:
            continue
        if isinstance(value, dict):
            value = defaults.get(value["Ref"], f"<{value['Ref']}>")
        env[name] = str(value)
    return env


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
    (stage,) = of_type(template, "AWS::ApiGatewayV2::Stage").values()
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
    assert len(groups) == 4
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
