"""Benchmark 3: cold start - importing the handler and building its container, beside boto3.

Runs in fresh interpreters (`python -I -S -B`) that see only the unzipped Lambda package and a
folder holding what the Lambda runtime provides (boto3 and its dependencies), as on AWS.
Lambda's code folder is read-only, so a package without bytecode compiles every module it
imports on every cold start: `-B` keeps that true here. Two packages side by side: with
`--no-bytecode` (sources only) and as `switchboard package` builds it by default when the
runtime's Python is found (compiled by the measured interpreter, which must then be the
template runtime's version). `--compare LABEL=ZIP` adds other packages (an older build, say)
to the same interleaved runs. Prints medians of REPS runs and writes its table to
loadtests/RESULTS.md.

    .venv/bin/python loadtests/bench_cold_start.py [--reps 15] [--python PYTHON]
        [--compare LABEL=ZIP ...]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from results import machine_line, publish

from infra.bytecode import find_interpreter
from infra.cfn_yaml import lambda_python_version, load_template

ROOT = Path(__file__).resolve().parents[1]
# What Lambda's Python runtime provides next to the function's code.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")

PROBE = """
import os, sys, time, json
sys.path[:0] = {paths!r}
os.environ.update(STORE="memory", AWS_REGION="us-east-1", APIGW_ENDPOINT="http://127.0.0.1:9/dev")
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
if {full!r}:
    import entrypoints.aws_lambda as app
    app.container().switchboard
    app.container().store()
t2 = time.perf_counter()
print(json.dumps({{"boto3": t1 - t0, "app": t2 - t1, "total": t2 - t0}}))
"""


def runtime_dir(into: Path) -> Path:
    """Links to the venv's copies of what the Lambda runtime provides."""
    into.mkdir()
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed; run `make setup` first")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (into / source.name).symlink_to(source)
    return into


def probe(python: str, paths: list[str], full: bool) -> dict[str, float]:
    code = PROBE.format(paths=paths, full=full)
    done = subprocess.run(
        [python, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise SystemExit(f"probe failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def build_package(output: Path, bytecode: str | None) -> Path:
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    command = [sys.executable, "-m", "entrypoints.cli", "package", "--output", str(output)]
    command += ["--arch", arch, *(["--bytecode", bytecode] if bytecode else ["--no-bytecode"])]
    subprocess.run(command, check=True, cwd=ROOT, timeout=600, stdout=subprocess.DEVNULL)
    return output


def unzip(package: Path, into: Path) -> str:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(into)
    return str(into)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument(
        "--compare", action="append", default=[], metavar="LABEL=ZIP",
        help="another package measured in the same runs (e.g. one built from an older commit)",
    )  # fmt: skip
    runtime = lambda_python_version(load_template())
    parser.add_argument(
        "--python",
        default=find_interpreter(runtime),
        help=f"the interpreter to measure (default: a python{runtime} here, the template's)",
    )
    args = parser.parse_args()
    if args.python is None:
        parser.error(f"no python{runtime} found here: pass --python PATH to one")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sources = build_package(work / "sources.zip", None)
        # The same code, plus bytecode compiled by the measured interpreter: the default
        # package wherever the runtime's Python is found.
        compiled = build_package(work / "bytecode.zip", args.python)
        provided = str(runtime_dir(work / "runtime"))
        zips = {
            "package built with `--no-bytecode` (sources only)": sources,
            "package as built by default (bytecode by the runtime's Python)": compiled,
        }
        for pair in args.compare:
            label, _, path = pair.partition("=")
            zips[label] = Path(path)
        packages = {
            label: unzip(package, work / f"code{n}")
            for n, (label, package) in enumerate(zips.items())
        }
        sizes = {label: package.stat().st_size for label, package in zips.items()}
        boto3_alone: list[float] = []
        apps: dict[str, list[float]] = {label: [] for label in packages}
        for _ in range(args.reps):  # interleaved, so the machine's noise falls on every row
            boto3_alone.append(probe(args.python, [provided], full=False)["boto3"])
            for label, code_dir in packages.items():
                apps[label].append(probe(args.python, [code_dir, provided], full=True)["app"])
    boto3_ms = statistics.median(boto3_alone) * 1000
    table = [
        machine_line(),
        "",
        # The bytecode build above refused any interpreter but the runtime's version.
        f"Fresh `python{runtime} -I -S -B` (so nothing compiled is written, as on Lambda's "
        f"read-only /var/task), the unzipped package + runtime-provided boto3; medians of "
        f"{args.reps} runs, interleaved. The app's cost is the time to `import "
        f"entrypoints.aws_lambda` and build its container after `import boto3`.",
        "",
        "| what | zip, MB | ms, median [min-max] | target: the app <= 100 ms |",
        "|---|---|---|---|",
        f"| `import boto3` alone | | {boto3_ms:.1f} | |",
    ]
    for label, runs in apps.items():
        app_ms = statistics.median(runs) * 1000
        low, high = min(runs) * 1000, max(runs) * 1000
        verdict = "met" if app_ms <= 100 else "MISSED"
        size = sizes[label] / 1e6
        table.append(
            f"| the app, {label} | {size:.1f} | {app_ms:.1f} [{low:.0f}-{high:.0f}] | {verdict} |"
        )
    publish("Benchmark 3: cold start", "\n".join(table))


if __name__ == "__main__":
    main()
