"""The Lambda package's dependencies: wheels for Lambda's platform, cached between builds."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

# Lambda's Python runtimes ship boto3 and its dependencies. Bundling our own pins them (AWS's
# advice for control over SDK updates) but adds ~20 MB unpacked and slows every cold start;
# Switchboard calls only long-stable APIs (DynamoDB items, PostToConnection), so by default the
# package uses the runtime's copy. `--with-boto3` bundles the environment's versions instead.
LAMBDA_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}


def runtime_requirements(project_root: Path, with_boto3: bool) -> list[str]:
    """The project's runtime dependencies, minus what Lambda provides unless asked for."""
    pyproject = project_root / "pyproject.toml"
    if pyproject.is_file():
        declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    else:  # installed from a wheel: the same list lives in the distribution's metadata
        declared = [r for r in importlib.metadata.requires("switchboard") or [] if ";" not in r]
    return [r for r in declared if with_boto3 or _name(r) not in LAMBDA_PROVIDED]


def environment_pins() -> list[str]:
    """name==version for every distribution installed here, as pip constraints.

    The package then carries the versions this environment was tested with (transitive
    dependencies too), and the same environment always resolves to the same wheels.
    """
    pins = {
        _name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    }
    pins.pop("switchboard", None)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def install(
    requirements: list[str], target: Path, arch: str, python_version: str, cache: Path
) -> None:
    """Install `requirements` for Lambda (manylinux, `arch`, CPython `python_version`) into
    `target`, from wheels cached under `cache`; only missing wheels are downloaded."""
    if not requirements:
        return
    machine = ARCHITECTURES[arch]
    wheels = cache / f"cp{python_version.replace('.', '')}-manylinux-{machine}"
    wheels.mkdir(parents=True, exist_ok=True)
    constraints = target.with_name(target.name + "-constraints.txt")
    constraints.write_text("\n".join(environment_pins()) + "\n", encoding="utf-8")
    platform = [
        "--platform", f"manylinux2014_{machine}",
        "--platform", f"manylinux_2_28_{machine}",
        "--only-binary=:all:", "--python-version", python_version, "--implementation", "cp",
        "--constraint", str(constraints),
    ]  # fmt: skip
    offline = [
        "install", "--no-index", "--find-links", str(wheels), "--target", str(target),
        "--no-compile", *platform, *requirements,
    ]  # fmt: skip
    if _pip(offline, quiet_failure=True):
        return
    _pip(["download", "--dest", str(wheels), *platform, *requirements], quiet_failure=False)
    _pip(offline, quiet_failure=False)


def _pip(args: list[str], quiet_failure: bool) -> bool:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return True
    if quiet_failure:  # the offline attempt fails whenever a wheel is not cached yet
        return False
    raise RuntimeError(f"pip {args[0]} failed (exit {result.returncode}):\n{result.stderr.strip()}")


def _name(requirement: str) -> str:
    """The normalised project name of a requirement string (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"cannot read a project name from {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()
