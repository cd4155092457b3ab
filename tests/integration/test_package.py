"""`switchboard package`: a reproducible zip of what the Lambda handlers import, nothing else,
that runs each handler with only itself and the runtime's boto3.

Long: every check reads one zip, built once per module; split, each file would build it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from entrypoints.cli import main
from infra import bytecode
from infra.bytecode import find_interpreter
from infra.cfn_yaml import lambda_python_version, load_template
from infra.packaging import default_cache_dir

# Lambda's Python runtimes ship these; the package relies on them instead of bundling them.
LAMBDA_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
MACHINE_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
ARCH = MACHINE_ARCH.get(platform.machine().lower())
TEMPLATE = load_template()
RUNTIME_VERSION = lambda_python_version(TEMPLATE)
THIS_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
# What no handler imports, and so must never ship: the local emulator, the CLI and its
# commands, infra, load tests and the test doubles.
NEVER_SHIPPED = ("entrypoints/local_gateway/", "entrypoints/cli.py", "entrypoints/commands/",
                 "infra/", "loadtests/", "tests/")  # fmt: skip

pytestmark = pytest.mark.skipif(ARCH is None, reason="wheels exist for x86_64 and arm64 only")


def build(out: Path, *options: str) -> Path:
    # The shared wheel cache makes every build after the first one offline and quick.
    args = ["package", "--output", str(out), "--arch", str(ARCH), *options]
    assert main([*args, "--cache-dir", str(default_cache_dir())]) == 0
    return out


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As `switchboard package` builds it by default, for this machine's architecture, so its
    native wheels load in the tests below."""
    return build(tmp_path_factory.mktemp("package") / "switchboard.zip")


@pytest.fixture(scope="module")
def task_root(package: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package unzipped, as Lambda unpacks it to /var/task."""
    code_dir = tmp_path_factory.mktemp("task")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(code_dir)
    return code_dir


def test_a_second_build_gives_the_same_bytes(package: Path, tmp_path: Path) -> None:
    second = build(tmp_path / "second.zip")
    if package.read_bytes() != second.read_bytes():  # name what differs, for the report
        with zipfile.ZipFile(package) as a, zipfile.ZipFile(second) as b:
            one = {i.filename: (i.CRC, i.date_time, i.external_attr) for i in a.infolist()}
            two = {i.filename: (i.CRC, i.date_time, i.external_attr) for i in b.infolist()}
        differ = sorted(k for k in one.keys() | two.keys() if one.get(k) != two.get(k))
        pytest.fail(f"two builds differ in {differ or 'the archive layout'}")


def test_the_zip_holds_what_the_handlers_import_and_their_wheels_only(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {"entrypoints/aws_lambda.py", "entrypoints/fanout_worker.py",
            "entrypoints/authorizer.py", "entrypoints/publish_api.py", "domain/service.py",
            "adapters/dynamodb/store.py", "adapters/apigateway/lean_publisher.py",
            "adapters/tokens/jwt_tokens.py",
            "adapters/sqs/dispatcher.py"} <= set(names)  # fmt: skip
    assert [n for n in names if n.startswith(NEVER_SHIPPED)] == []
    assert [n for n in names if "doubles" in n or "fake" in n.lower()] == []
    tops = {name.split("/")[0] for name in names}
    assert {"dependency_injector", "aws_lambda_powertools", "jwt", "aiohttp"} <= tops
    assert not tops & {"boto3", "botocore", "bin", "grimp", "yaml", "websockets", "moto"}
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_without_the_runtime_s_python_the_package_is_sources_only_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bytecode, "find_interpreter", lambda version: None)
    out = build(tmp_path / "sources.zip")
    printed = capsys.readouterr().out
    assert f"no python{RUNTIME_VERSION} here" in printed and "sources only" in printed
    with zipfile.ZipFile(out) as archive:
        assert not [n for n in archive.namelist() if "__pycache__" in n or n.endswith(".pyc")]


HANDLER_EVENTS = {
    "aws_lambda": ("Handler", "connect"),
    "fanout_worker": ("Worker", "shard"),
    "authorizer": ("Authorizer", "authorizer_request"),
    "publish_api": ("PublishHandler", "publish"),
}


@pytest.mark.parametrize("module", sorted(HANDLER_EVENTS))
def test_each_handler_imports_from_the_unzipped_package_and_answers_an_event(
    module: str, task_root: Path, tmp_path: Path
) -> None:
    resource, event_name = HANDLER_EVENTS[module]
    handler = TEMPLATE["Resources"][resource]["Properties"]["Handler"]
    assert handler == f"entrypoints.{module}.handler"
    runtime_dir = _lambda_provided_packages(tmp_path / "runtime")
    script = f"""
import json, sys
sys.path[:0] = [{str(task_root)!r}, {str(runtime_dir)!r}]
event = json.loads({json.dumps(_event(event_name))!r})
if "queryStringParameters" in event:  # a token the authorizer accepts, minted by the package
    from adapters.tokens.jwt_tokens import mint
    token = mint("s3cret", "alice", ["public:*"], 60, "switchboard", "switchboard")
    event["queryStringParameters"] = {{"token": token}}
from entrypoints.{module} import handler

class Context:
    function_name = "switchboard"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:switchboard"
    aws_request_id = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    def get_remaining_time_in_millis(self): return 29000

result = handler(event, Context())
bad = [m for m in sys.modules.values() if getattr(m, "__file__", None)
       and not m.__file__.startswith(({str(task_root)!r}, {str(runtime_dir)!r}, sys.base_prefix))]
print("RESULT " + json.dumps({{"result": result, "outside": [m.__name__ for m in bad]}}))
"""
    env = _environment(resource) | {"PATH": os.environ.get("PATH", "")}
    # -I: no PYTHON* variables, no user site; -S: no site-packages. Only the two folders above.
    completed = subprocess.run(
        [_interpreter(), "-I", "-S", "-c", script],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(x for x in completed.stdout.splitlines() if x.startswith("RESULT "))
    report = json.loads(line.removeprefix("RESULT "))
    assert report["outside"] == []
    result = report["result"]
    if module == "aws_lambda":
        assert result["statusCode"] == 200
    elif module == "fanout_worker":
        assert result == {"batchItemFailures": []}
    elif module == "publish_api":  # to a room nobody is in
        assert result["statusCode"] == 200
        assert json.loads(result["body"])["recipients"] == 0
    else:
        assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        assert result["context"]["sub"] == "alice"


@pytest.fixture(scope="module")
def runtime_python() -> str:
    python = find_interpreter(RUNTIME_VERSION)
    if python is None:
        pytest.skip(f"no Python {RUNTIME_VERSION} here to compile the runtime's bytecode")
    return python


def test_the_default_package_s_bytecode_is_what_the_runtime_loads(
    runtime_python: str, task_root: Path, tmp_path: Path
) -> None:
    tag = "cpython-" + RUNTIME_VERSION.replace(".", "")
    sources = [p for p in task_root.rglob("*.py") if p.parent.name != "__pycache__"]
    uncompiled = [
        str(p.relative_to(task_root)) for p in sources
        if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").is_file()
    ]  # fmt: skip
    assert sources and uncompiled == []
    runtime_dir = _lambda_provided_packages(tmp_path / "runtime")
    script = f"""
import os, sys
sys.path[:0] = [{str(task_root)!r}, {str(runtime_dir)!r}]
os.environ.update(STORE="memory", AWS_REGION="us-east-1")
import entrypoints.aws_lambda as app
app.container().switchboard
"""
    # -v names where each module's code object came from: its bytecode, or its source compiled.
    completed = subprocess.run(
        [runtime_python, "-I", "-S", "-B", "-v", "-c", script],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    loaded = [
        line for line in completed.stderr.splitlines()
        if line.startswith("# code object from") and str(task_root) in line
    ]  # fmt: skip
    assert any("entrypoints/__pycache__/aws_lambda." in line for line in loaded)
    assert [line for line in loaded if "__pycache__" not in line] == []


def test_bytecode_from_another_python_version_is_refused_before_building(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if THIS_VERSION == RUNTIME_VERSION:
        pytest.skip("this Python is the runtime's version")
    out = tmp_path / "switchboard.zip"
    args = ["package", "--output", str(out), "--arch", str(ARCH), "--bytecode", sys.executable]
    assert main(args) == 1
    error = capsys.readouterr().err
    assert f"--bytecode needs Python {RUNTIME_VERSION}" in error
    assert sys.executable in error
    assert not out.exists()


def _event(name: str) -> dict[str, Any]:
    if name == "shard":  # one SQS record: a part of everyone, nobody connected
        from adapters.sqs.messages import encode
        from domain.shards import EveryonePart, ShardTask

        body = encode(ShardTask("b1", 0, EveryonePart(0, 1), b"hi"), "http://127.0.0.1:9/dev")
        record = {"messageId": "m1", "receiptHandle": "r1", "body": body,
                  "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                  "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                  "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fanout"}  # fmt: skip
        return {"Records": [record]}
    event: dict[str, Any] = json.loads(
        (Path(__file__).parents[1] / "events" / f"{name}.json").read_text()
    )
    return event


def _environment(resource: str) -> dict[str, str]:
    """The function's environment as the template sets it (parameter defaults), with the
    memory store standing in for DynamoDB and a literal secret for the authorizer's key."""
    defaults = {k: str(v.get("Default", "")) for k, v in TEMPLATE["Parameters"].items()}
    variables = TEMPLATE["Resources"][resource]["Properties"]["Environment"]["Variables"]
    env: dict[str, str] = {}
    for name, value in variables.items():
        if isinstance(value, dict):  # a Ref to a parameter, or a resource (none resolve here)
            if "Ref" not in value or value["Ref"] not in defaults:
                continue
            value = defaults[value["Ref"]]
        env[name] = str(value)
    env.update(STORE="memory", AWS_REGION="us-east-1")
    if resource == "Authorizer":
        env.update(AUTH_ALGORITHM="HS256", AUTH_SECRET="s3cret")
    if resource == "PublishHandler":  # the WebSocket API's endpoint: a Sub, unresolved here
        env.update(APIGW_ENDPOINT="http://127.0.0.1:9/dev")
    return env


def _lambda_provided_packages(folder: Path) -> Path:
    """A folder standing in for the runtime's own boto3 (Lambda's /var/runtime)."""
    import boto3

    site = Path(boto3.__file__).parents[1]
    folder.mkdir()
    for name in LAMBDA_PROVIDED:
        source = site / name if (site / name).is_dir() else site / f"{name}.py"
        assert source.exists(), f"{name} is not installed next to boto3"
        (folder / source.name).symlink_to(source)
    return folder


def _interpreter() -> str:
    """The Lambda runtime's Python version when this machine has it, else this Python."""
    return find_interpreter(RUNTIME_VERSION) or sys.executable
