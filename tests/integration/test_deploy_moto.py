"""`switchboard deploy` and `destroy` against moto's server, as a user runs them.

Long: the deploy's stages (build, upload, stack, outputs, teardown) share one moto server.

moto's CloudFormation skips AWS::ApiGatewayV2 resources and ignores TTL, so this checks what it
models (stack, table, roles, functions, the package on S3); test_template.py reads the rest.
"""

from __future__ import annotations

import hashlib
import io
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from entrypoints.cli import main
from infra import stack
from infra.aws import Aws
from infra.cfn_yaml import load_template
from infra.packaging import default_cache_dir
from infra.stack_events import DeployError
from tests.integration.s3_conditions import model_secure_transport

REGION = "eu-west-1"
# moto warns once per resource type its CloudFormation skips (AWS::ApiGatewayV2::*).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
NAME = "switchboard-test"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # The artifact bucket denies requests without TLS; deploy reaches AWS over https.
    model_secure_transport(monkeypatch, secure=True)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto keeps its state per process, across servers: each test starts from none.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    yield url
    server.stop()


def cli(endpoint: str, *args: str) -> int:
    common = ["--stack-name", NAME, "--region", REGION, "--endpoint-url", endpoint]
    return main([args[0], *common, *args[1:]])


def client(endpoint: str, service: str) -> Any:
    make: Any = boto3.client  # typed per service name literal; ours is a plain str
    return make(service, region_name=REGION, endpoint_url=endpoint)


def deploy(endpoint: str, *args: str) -> int:
    return cli(endpoint, "deploy", "--cache-dir", str(default_cache_dir()), *args)


def test_deploy_creates_the_stack_then_updates_it_and_destroy_removes_it(
    endpoint: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    assert deploy(endpoint, "--stage", "prod") == 0
    cfn = client(endpoint, "cloudformation")
    described = cfn.describe_stacks(StackName=NAME)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert parameters["Stage"] == "prod"
    out = capsys.readouterr().out
    assert "CREATE_COMPLETE" in out and f"Stack {NAME} is deployed." in out

    # The package sits in the account's artifacts bucket under its own sha256.
    s3 = client(endpoint, "s3")
    bucket, key = parameters["CodeS3Bucket"], parameters["CodeS3Key"]
    assert bucket == f"switchboard-artifacts-123456789012-{REGION}"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert key == f"switchboard/lambda/{hashlib.sha256(body).hexdigest()}.zip"

    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=NAME)["StackResourceSummaries"]
    }
    table_name = resources["ConnectionsTable"]
    table = client(endpoint, "dynamodb").describe_table(TableName=table_name)["Table"]
    declared = load_template()["Resources"]["ConnectionsTable"]["Properties"]
    assert table["KeySchema"] == declared["KeySchema"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == [
        i["IndexName"] for i in declared["GlobalSecondaryIndexes"]
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    lam = client(endpoint, "lambda")
    handler = lam.get_function_configuration(FunctionName=resources["Handler"])
    assert handler["Handler"] == "entrypoints.aws_lambda.handler"
    assert handler["Runtime"] == "python3.13"
    assert handler["Environment"]["Variables"]["CONNECTIONS_TABLE"] == table_name
    assert handler["Environment"]["Variables"]["STORE"] == "dynamodb"
    assert handler["Role"].endswith(resources["HandlerRole"])
    authorizer = lam.get_function_configuration(FunctionName=resources["Authorizer"])
    assert authorizer["Handler"] == "entrypoints.authorizer.handler"

    iam = client(endpoint, "iam")
    (policy,) = iam.list_role_policies(RoleName=resources["HandlerRole"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=resources["HandlerRole"], PolicyName=policy)
    assert f"{table_name}/index/*" in str(document["PolicyDocument"])
    assert "/prod/POST/@connections/*" in str(document["PolicyDocument"])

    # An update through a change set: the new value lands, values not given are kept; the
    # same package (here passed in) is not uploaded twice.
    package = tmp_path / "package.zip"
    package.write_bytes(body)
    assert deploy(endpoint, "--package", str(package), "--parameter", "MemorySize=1024") == 0
    described = cfn.describe_stacks(StackName=NAME)["Stacks"][0]
    assert described["StackStatus"] == "UPDATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert (parameters["Stage"], parameters["MemorySize"]) == ("prod", "1024")
    assert lam.get_function_configuration(FunctionName=resources["Handler"])["MemorySize"] == 1024
    assert "Package already uploaded" in capsys.readouterr().out

    # Without a terminal and without --yes, destroy refuses and deletes nothing.
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli(endpoint, "destroy") == 2
    assert "pass --yes" in capsys.readouterr().err
    assert cfn.describe_stacks(StackName=NAME)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"

    assert cli(endpoint, "destroy", "--yes") == 0
    out = capsys.readouterr().out
    assert f"Stack {NAME} is deleted." in out and f"table {table_name} was kept" in out
    assert cfn.describe_stacks()["Stacks"] == [] or all(
        s["StackStatus"] == "DELETE_COMPLETE" for s in cfn.describe_stacks()["Stacks"]
    )
    assert table_name in client(endpoint, "dynamodb").list_tables()["TableNames"]  # Retain
    assert cli(endpoint, "destroy", "--yes") == 1  # nothing left to delete
    assert "does not exist" in capsys.readouterr().err


def test_a_wrong_name_typed_at_the_prompt_deletes_nothing(
    endpoint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("not-the-name\n"))
    assert cli(endpoint, "destroy") == 2
    assert "Not deleted" in capsys.readouterr().err


def test_bad_input_is_refused_with_a_clear_message(
    endpoint: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert deploy(endpoint, "--parameter", "MemorySize") == 1
    assert "KEY=VALUE" in capsys.readouterr().err
    assert deploy(endpoint, "--package", str(tmp_path / "missing.zip")) == 1
    assert "no such file" in capsys.readouterr().err
    assert deploy(endpoint, "--package", __file__, "--bytecode") == 1
    assert "--package is deployed as it is: --bytecode only apply" in capsys.readouterr().err
    assert deploy(endpoint, "--package", __file__, "--no-bytecode") == 1
    assert "--package is deployed as it is: --no-bytecode only apply" in capsys.readouterr().err
    assert deploy(endpoint, "--bucket", "no-such-bucket", "--package", __file__) == 1
    assert "does not exist" in capsys.readouterr().err
    zip_path = tmp_path / "p.zip"
    zip_path.write_bytes(b"PK")
    assert deploy(endpoint, "--package", str(zip_path), "--parameter", "Nope=1") == 1
    assert "Unknown parameter(s) Nope" in capsys.readouterr().err


def stubbed_aws(cfn: Any) -> Aws:
    """Aws handing out one stubbed CloudFormation client: for outcomes moto does not produce."""

    class StubbedAws(Aws):
        def client(self, service: str) -> Any:
            assert service == "cloudformation"
            return cfn

    return StubbedAws(region=REGION)


def event(
    event_id: str,
    logical: str,
    status: str,
    reason: str = "",
    kind: str = "AWS::Lambda::Function",
) -> dict[str, Any]:
    from datetime import UTC, datetime

    found = {
        "EventId": event_id,
        "StackId": "id",
        "StackName": NAME,
        "LogicalResourceId": logical,
        "ResourceType": kind,
        "ResourceStatus": status,
        "Timestamp": datetime(2024, 11, 11, 11, 35, tzinfo=UTC),
    }
    return found | ({"ResourceStatusReason": reason} if reason else {})


def stubbed_create(stubber: Stubber) -> None:
    stubber.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist"
    )
    stubber.add_response("create_change_set", {"Id": "cs-arn", "StackId": "id"})


def test_a_failed_deploy_reports_the_failing_resources() -> None:
    cfn = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x",
                       aws_secret_access_key="x")  # fmt: skip
    with Stubber(cfn) as stubber:
        stubbed_create(stubber)
        stubber.add_response("describe_change_set", {"Status": "CREATE_COMPLETE"})
        stubber.add_response("describe_stack_events", {"StackEvents": []})
        stubber.add_response("execute_change_set", {})
        failed = event("2", "Handler", "CREATE_FAILED", "Unzipped size must be smaller")
        stubber.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    event("3", NAME, "ROLLBACK_COMPLETE", kind="AWS::CloudFormation::Stack"),
                    failed,
                ]
            },
        )
        rolled_back = {"StackName": NAME, "StackStatus": "ROLLBACK_COMPLETE",
                       "CreationTime": failed["Timestamp"]}  # fmt: skip
        stubber.add_response("describe_stacks", {"Stacks": [rolled_back]})
        stubber.add_response("describe_stack_events", {"StackEvents": [failed]})
        with pytest.raises(DeployError) as raised:
            stack.deploy(stubbed_aws(cfn), NAME, "{}", {"Stage"}, {}, out=lambda _: None)
    assert "ended ROLLBACK_COMPLETE" in str(raised.value)
    assert "CREATE_FAILED" in str(raised.value) and "Unzipped size" in str(raised.value)


def test_a_change_set_without_changes_is_not_an_error() -> None:
    cfn = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x",
                       aws_secret_access_key="x")  # fmt: skip
    lines: list[str] = []
    with Stubber(cfn) as stubber:
        stubbed_create(stubber)
        stubber.add_response(
            "describe_change_set",
            {"Status": "FAILED", "StatusReason": "The submitted information didn't contain "
             "changes. Submit different information to create a change set."},
        )  # fmt: skip
        stubber.add_response("delete_change_set", {})
        done = {
            "StackName": NAME,
            "StackStatus": "UPDATE_COMPLETE",
            "CreationTime": event("1", NAME, "x")["Timestamp"],
            "Outputs": [{"OutputKey": "WebSocketURL", "OutputValue": "wss://x/dev"}],
        }
        stubber.add_response("describe_stacks", {"Stacks": [done]})
        outputs = stack.deploy(stubbed_aws(cfn), NAME, "{}", set(), {}, out=lines.append)
    assert outputs == {"WebSocketURL": "wss://x/dev"}
    assert "No changes: the stack is up to date" in lines


def test_an_update_waits_for_its_own_closing_event_not_the_previous_status() -> None:
    cfn = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    old = event("1", NAME, "UPDATE_COMPLETE", kind="AWS::CloudFormation::Stack")

    def stack_in(status: str, **extra: Any) -> dict[str, Any]:
        found = {"StackName": NAME, "StackId": "id", "StackStatus": status}
        return {"Stacks": [found | {"CreationTime": old["Timestamp"]} | extra]}

    with Stubber(cfn) as stubber:
        stubber.add_response("describe_stacks", stack_in("UPDATE_COMPLETE"))
        stubber.add_response("create_change_set", {"Id": "cs-arn", "StackId": "id"})
        stubber.add_response("describe_change_set", {"Status": "CREATE_COMPLETE"})
        stubber.add_response("describe_stack_events", {"StackEvents": [old]})
        stubber.add_response("execute_change_set", {})
        # First look: nothing new yet and the status still from the last update.
        stubber.add_response("describe_stack_events", {"StackEvents": [old]})
        stubber.add_response("describe_stacks", stack_in("UPDATE_COMPLETE"))
        new = event("2", NAME, "UPDATE_COMPLETE", kind="AWS::CloudFormation::Stack")
        stubber.add_response("describe_stack_events", {"StackEvents": [new, old]})
        stubber.add_response("describe_stacks", stack_in("UPDATE_COMPLETE"))
        outputs = [{"OutputKey": "ConnectionsTableName", "OutputValue": "t"}]
        stubber.add_response("describe_stacks", stack_in("UPDATE_COMPLETE", Outputs=outputs))
        result = stack.deploy(
            stubbed_aws(cfn), NAME, "{}", set(), {}, out=lambda _: None, poll_seconds=0
        )
        stubber.assert_no_pending_responses()
    assert result == {"ConnectionsTableName": "t"}
