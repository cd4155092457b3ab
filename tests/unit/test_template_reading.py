"""serve --template's reading of templates: intrinsic functions resolved to local values, the
route selection expression a template names, and SAM expanded by aws-sam-translator."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from entrypoints.local_gateway.template.app import build_app
from entrypoints.local_gateway.template.functions import function_environment
from entrypoints.local_gateway.template.intrinsics import Resolver, Unresolvable
from entrypoints.local_gateway.template.reading import TemplateError, read_template
from entrypoints.local_gateway.websocket.routes import RouteSelector

APPS = Path(__file__).resolve().parents[1] / "apps"
FN_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:fn"
RESOLVER = Resolver(
    {"Table": "chat", "AWS::Region": "eu-west-1", "Api": "abc123"},
    {("Fn", "Arn"): "arn:aws:lambda:eu-west-1:123456789012:function:fn"},
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Table"}, "chat"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, "arn:aws:lambda:eu-west-1:123456789012:function:fn"),
        ({"Fn::GetAtt": "Fn.Arn"}, "arn:aws:lambda:eu-west-1:123456789012:function:fn"),
        ({"Fn::Sub": "${AWS::Region}/${Fn.Arn}"}, "eu-west-1/" + FN_ARN),
        ({"Fn::Sub": ["${a}-${Table}", {"a": {"Ref": "Api"}}]}, "abc123-chat"),
        ({"Fn::Sub": "${!Literal}"}, "${Literal}"),
        ({"Fn::Join": ["/", ["integrations", {"Ref": "Api"}]]}, "integrations/abc123"),
        ({"Fn::Select": [1, ["a", {"Ref": "Table"}]]}, "chat"),
        ({"Fn::Select": [0, {"Fn::Split": [",", "p,q"]}]}, "p"),
        ({"Nested": [{"Ref": "Table"}]}, {"Nested": ["chat"]}),
    ],
)  # fmt: skip
def test_intrinsics_resolve_to_local_values(value: object, expected: object) -> None:
    assert RESOLVER.resolve(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Nowhere"}, "Ref Nowhere"),
        ({"Fn::GetAtt": ["Fn", "Nope"]}, "Fn::GetAtt Fn.Nope"),
        ({"Fn::ImportValue": "x"}, "Fn::ImportValue"),
        ({"Fn::Sub": "${Missing}"}, "Ref Missing"),
    ],
)
def test_what_has_no_local_value_is_named(value: object, message: str) -> None:
    with pytest.raises(Unresolvable, match=message):
        RESOLVER.resolve(value)


def test_a_template_s_route_selection_expression_picks_the_route() -> None:
    selector = RouteSelector(["sendmessage"], "$request.body.message")
    assert selector.select('{"message": "sendmessage"}') == "sendmessage"
    assert selector.select('{"action": "sendmessage"}') == "$default"
    nested = RouteSelector(["go"], "$request.body.meta.kind")
    assert nested.select('{"meta": {"kind": "go"}}') == "go"
    assert nested.select('{"meta": "go"}') == "$default"
    with pytest.raises(ValueError, match=r"\$request\.header\.x"):
        RouteSelector(["go"], "$request.header.x")


def test_sam_is_expanded_and_every_resource_is_served_or_named() -> None:
    template = read_template(APPS / "chat_sam" / "template.yaml", "us-east-1")
    app = build_app(template, "us-east-1", "abc123", "127.0.0.1:4443")
    assert app.stage == "Prod" and app.selection == "$request.body.action"
    assert app.routes == {
        "$connect": "OnConnectFunction",
        "$disconnect": "OnDisconnectFunction",
        "sendmessage": "SendMessageFunction",
    }
    send = app.functions["SendMessageFunction"]
    assert (send.handler, send.code.name, send.timeout) == ("app.handler", "sendmessage", 10.0)
    assert send.environment == {"TABLE_NAME": "chat-connections"}  # Globals, Ref resolved
    assert [t["TableName"] for t in app.tables] == ["chat-connections"]
    named = {line.split()[2] for line in app.not_served}
    assert {
        "OnConnectPermission",
        "SendMessageFunctionRole",
        "ConnectionsTable.SSESpecification",
    } <= named


def test_a_file_that_is_not_a_template_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("just: text\n")
    with pytest.raises(TemplateError, match="no Resources"):
        read_template(path, "us-east-1")


def test_a_function_sees_its_variables_the_local_services_and_nothing_of_serve_s() -> None:
    template = read_template(APPS / "chat_sam" / "template.yaml", "us-east-1")
    app = build_app(template, "us-east-1", "abc123", "127.0.0.1:4443")
    function = replace(
        app.functions["SendMessageFunction"],
        environment={"ENDPOINT": "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"},
    )
    local = {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}
    serve_s = {"PATH": "/bin", "CONNECTIONS_TABLE": "switchboard-connections", "STORE": "memory"}
    hosts = {"abc123.execute-api.us-east-1.amazonaws.com": "127.0.0.1:4443"}
    environment = function_environment(function, "us-east-1", local, serve_s, hosts)
    assert environment["ENDPOINT"] == "https://127.0.0.1:4443/Prod"  # the API's, made local
    assert environment["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:9"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "local-SendMessageFunction"
    assert environment["LAMBDA_TASK_ROOT"].endswith("sendmessage")
    assert environment["PATH"] == "/bin"
    assert "CONNECTIONS_TABLE" not in environment and "STORE" not in environment
