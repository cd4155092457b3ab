"""What bounds the sources-only cold start: `python -X importtime` of the handler's imports in a
fresh runtime Python over the unzipped `--no-bytecode` package, self time summed by top-level
package (medians of RUNS runs), written to RESULTS.md beside Benchmark 3.

    .venv/bin/python loadtests/profile_cold_start.py [--runs 5] [--python PYTHON]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

from bench_cold_start import build_package, runtime_dir, unzip
from results import machine_line, publish

from infra.bytecode import find_interpreter
from infra.cfn_yaml import lambda_python_version, load_template

PROBE = """
import os, sys
sys.path[:0] = {paths!r}
os.environ.update(STORE="memory", AWS_REGION="us-east-1", APIGW_ENDPOINT="http://127.0.0.1:9/dev")
import boto3
import entrypoints.aws_lambda as app
app.container().switchboard
app.container().store()
"""


def profile(python: str, paths: list[str]) -> dict[str, float]:
    """Self milliseconds by top-level package, for what is imported after boto3."""
    done = subprocess.run(
        [python, "-I", "-S", "-B", "-X", "importtime", "-c", PROBE.format(paths=paths)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        rows.append((name.strip(), int(own)))
    after = [i for i, (name, _) in enumerate(rows) if name == "boto3"][-1] + 1
    by_top: dict[str, float] = defaultdict(float)
    for name, own_us in rows[after:]:
        by_top[name.split(".")[0]] += own_us / 1000
    return by_top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runtime = lambda_python_version(load_template())
    parser.add_argument("--python", default=find_interpreter(runtime))
    args = parser.parse_args()
    if args.python is None:
        parser.error(f"no python{runtime} found here: pass --python PATH to one")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        code = unzip(build_package(work / "sources.zip", None), work / "sources")
        paths = [code, str(runtime_dir(work / "runtime"))]
        runs = [profile(args.python, paths) for _ in range(args.runs)]
    tops = {name for run in runs for name in run}
    medians = {name: statistics.median(run.get(name, 0.0) for run in runs) for name in tops}
    total = sum(medians.values())
    lines = [
        machine_line(),
        "",
        f"`python{runtime} -X importtime`, the `--no-bytecode` package, after `import boto3`; "
        f"self time by top-level package, medians of {args.runs} runs (importtime itself "
        f"inflates them): {total:.0f} ms in all.",
        "",
        "| package | ms (self, compiling included) | share |",
        "|---|---:|---:|",
    ]
    for name, ms in sorted(medians.items(), key=lambda kv: -kv[1])[:14]:
        lines.append(f"| {name} | {ms:.1f} | {ms / total:.0%} |")
    publish("Benchmark 3: what bounds the sources-only cold start", "\n".join(lines))


if __name__ == "__main__":
    main()
