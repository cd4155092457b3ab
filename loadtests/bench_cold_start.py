"""Benchmark 3: cold start - importing the handler and building its container, beside boto3.

Runs in fresh interpreters (`python -I -S -B`) that see only the unzipped Lambda package and a
folder holding what the Lambda runtime provides (boto3 and its dependencies), as on AWS. The
package ships no bytecode (it is built for the runtime's Python, not this one) and Lambda's
code folder is read-only, so every cold start compiles the package's modules: `-B` keeps that
true here.
Prints medians of REPS runs and writes its table to loadtests/RESULTS.md.

    .venv/bin/python loadtests/bench_cold_start.py [--package F] [--reps 15] [--python python3.13]
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

from results import machine_line, write_section

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, help="a zip from `switchboard package`")
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter to measure (Lambda's version)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        package = args.package or work / "lambda.zip"
        if args.package is None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "entrypoints.cli",
                    "package",
                    "--output",
                    str(package),
                    "--arch",
                    "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64",
                ],
                check=True,
                cwd=ROOT,
                timeout=600,
            )
        code_dir = work / "task"
        with zipfile.ZipFile(package) as archive:
            archive.extractall(code_dir)
        paths = [str(code_dir), str(runtime_dir(work / "runtime"))]
        boto3_alone = [probe(args.python, paths, full=False)["boto3"] for _ in range(args.reps)]
        runs = [probe(args.python, paths, full=True) for _ in range(args.reps)]
    version = subprocess.run(
        [args.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    boto3_ms = statistics.median(boto3_alone) * 1000
    total_ms = statistics.median(r["total"] for r in runs) * 1000
    extra_ms = total_ms - boto3_ms
    verdict = "met" if extra_ms <= 100 else "MISSED"
    table = [
        machine_line(),
        "",
        f"Fresh `python{version} -I -S -B`, unzipped package + runtime-provided boto3, "
        f"median of {args.reps}.",
        "",
        "| what | ms |",
        "|---|---|",
        f"| `import boto3` alone | {boto3_ms:.1f} |",
        f"| `import boto3` + `import entrypoints.aws_lambda` + build container | {total_ms:.1f} |",
        f"| cost over boto3 (target <= 100 ms) | {extra_ms:.1f} ({verdict}) |",
    ]
    print("\n".join(table))
    write_section("Benchmark 3: cold start", "\n".join(table))


if __name__ == "__main__":
    main()
