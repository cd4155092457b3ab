"""`switchboard package`: a reproducible zip that runs the handler with only itself and boto3."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from entrypoints.cli import main
from infra.bytecode import find_interpreter
from infra.cfn_yaml import lambda_python_version, load_template
from infra.packaging import default_cache_dir

# Lambda's Python runtimes ship these; the package relies on them instead of bundling them.
LAMBDA_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
MACHINE_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
ARCH = MACHINE_ARCH.get(platform.machine().lower())
RUNTIME_VERSION = lambda_python_version(load_template())
THIS_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = pytest.mark.skipif(ARCH is None, reason="wheels exist for x86_64 and arm64 only")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built for this machine's architecture, so its native wheels load in the test below."""
    out = tmp_path_factory.mktemp("package") / "switchboard.zip"
    # The shared wheel cache makes every build after the first one offline and quick.
    code = main(["package", "--output", str(out), "--arch", str(ARCH),
                 "--cache-dir", str(default_cache_dir())])  # fmt: skip
    assert code == 0
    return out


def test_two_builds_give_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    for out in (first, second):
        assert main(["package", "--output", str(out), "--arch", str(ARCH)]) == 0
    if first.read_bytes() != second.read_bytes():  # name what differs, for the failure report
        with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
            one = {i.filename: (i.CRC, i.date_time, i.external_attr) for i in a.infolist()}
            two = {i.filename: (i.CRC, i.date_time, i.external_attr) for i in b.infolist()}
        differ = sorted(k for k in one.keys() | two.keys() if one.get(k) != two.get(k))
        pytest.fail(f"two builds differ in {differ or 'the archive layout'}")


def test_the_zip_holds_the_code_and_wheels_but_no_tests_caches_or_tools(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {"entrypoints/aws_lambda.py", "entrypoints/authorizer.py", "domain/service.py",
            "adapters/memory/store.py"} <= set(names)  # fmt: skip
    tops = {name.split("/")[0] for name in names}
    assert {"dependency_injector", "aws_lambda_powertools", "jwt"} <= tops
    assert not tops & {"tests", "loadtests", "infra", "boto3", "botocore", "bin"}
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    assert not [n for n in names if "/tests/" in n or n.startswith("entrypoints/loadtest")]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_the_unzipped_package_answers_connect_and_imports_every_adapter_bare(
    package: Path, tmp_path: Path
) -> None:
    code_dir = tmp_path / "task"  # what Lambda unpacks to /var/task
    with zipfile.ZipFile(package) as archive:
        archive.extractall(code_dir)
    runtime_dir = _lambda_provided_packages(tmp_path / "runtime")
    event = (Path(__file__).parents[1] / "events" / "connect.json").read_text()
    script = f"""
import json, sys
sys.path[:0] = [{str(code_dir)!r}, {str(runtime_dir)!r}]
from entrypoints.aws_lambda import handler

class Context:
    function_name = "switchboard"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:switchboard"
    aws_request_id = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    def get_remaining_time_in_millis(self): return 29000

result = handler(json.loads({event!r}), Context())
# Every adapter may serve on Lambda (PUBLISHER and STORE pick among them): all must import.
import importlib, pkgutil, adapters
for info in pkgutil.iter_modules(adapters.__path__):
    importlib.import_module("adapters." + info.name)
importlib.import_module("entrypoints.authorizer")
bad = [m for m in sys.modules.values() if getattr(m, "__file__", None)
       and not m.__file__.startswith(({str(code_dir)!r}, {str(runtime_dir)!r}, sys.base_prefix))]
print("RESULT " + json.dumps({{"result": result, "outside": [m.__name__ for m in bad]}}))
"""
    # The function's environment as the template sets it (parameter defaults), with the
    # memory store standing in for DynamoDB.
    env = _template_environment() | {"STORE": "memory", "AWS_REGION": "us-east-1"}
    env["PATH"] = os.environ.get("PATH", "")
    # -I: no PYTHON* variables, no user site; -S: no site-packages. Only the two folders above.
    completed = subprocess.run(
        [_interpreter(), "-I", "-S", "-c", script],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    line = next(x for x in completed.stdout.splitlines() if x.startswith("RESULT "))
    report = json.loads(line.removeprefix("RESULT "))
    assert report["result"]["statusCode"] == 200
    assert report["outside"] == []


@pytest.fixture(scope="module")
def runtime_python() -> str:
    python = find_interpreter(RUNTIME_VERSION)
    if python is None:
        pytest.skip(f"no Python {RUNTIME_VERSION} here to compile the runtime's bytecode")
    return python


def test_bytecode_is_reproducible_and_what_the_runtime_loads(
    runtime_python: str, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    # The second names no interpreter: `--bytecode` alone finds one of the runtime's version.
    for out, python in ((first, [runtime_python]), (second, [])):
        args = ["package", "--output", str(out), "--arch", str(ARCH), "--bytecode", *python]
        assert main(args) == 0
    assert first.read_bytes() == second.read_bytes()
    code_dir = tmp_path / "task"
    with zipfile.ZipFile(first) as archive:
        archive.extractall(code_dir)
    tag = "cpython-" + RUNTIME_VERSION.replace(".", "")
    sources = [p for p in code_dir.rglob("*.py") if p.parent.name != "__pycache__"]
    uncompiled = [
        str(p.relative_to(code_dir)) for p in sources
        if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").is_file()
    ]  # fmt: skip
    assert sources and uncompiled == []
    runtime_dir = _lambda_provided_packages(tmp_path / "runtime")
    script = f"""
import os, sys
sys.path[:0] = [{str(code_dir)!r}, {str(runtime_dir)!r}]
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
        if line.startswith("# code object from") and str(code_dir) in line
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


def _template_environment() -> dict[str, str]:
    template = load_template()
    defaults = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    variables = template["Resources"]["Handler"]["Properties"]["Environment"]["Variables"]
    resolved = {}
    for name, value in variables.items():
        if isinstance(value, dict):  # only !Ref is used here: a parameter, or the table
            value = defaults.get(value["Ref"], "switchboard-connections")
        resolved[name] = str(value)
    return resolved


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
