"""`--bytecode`: the package's modules compiled by the Lambda runtime's own Python version."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

# Where Lambda unpacks the zip: the path compiled into bytecode's tracebacks.
LAMBDA_TASK_ROOT = "/var/task"
# What to compile with: the runtime's Python if one is found here (the default), or one that
# must be found (a bare --bytecode); else an interpreter's path, or None for sources only.
IF_FOUND = "if-found"
REQUIRED = "auto"
VERSION_CHECK = "import sys; print('%d.%d' % sys.version_info[:2])"


def find_interpreter(version: str) -> str | None:
    """A working pythonX.Y: on PATH, else one pyenv installed (whose shim on PATH may not run
    it while another version is selected); None when there is none."""
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        shutil.which(f"python{version}"),
        *sorted(glob.glob(f"{pyenv}/versions/{version}*/bin/python{version}"), reverse=True),
    ]
    for candidate in candidates:
        if candidate and _version_of(candidate) == version:
            return candidate
    return None


def choose(choice: str | None, version: str) -> tuple[str | None, str | None]:
    """The interpreter to compile with (None: sources only), and a line to show the user
    when the default found none."""
    if choice is None:
        return None, None
    if choice == IF_FOUND:
        found = find_interpreter(version)
        if found is None:
            return None, (
                f"no python{version} here (the runtime's): the package ships sources only, so "
                "each cold start compiles what it imports; install it for a faster package"
            )
        return found, None
    return interpreter(choice, version), None


def interpreter(python: str, version: str) -> str:
    """The path of `python` ("auto": find_interpreter), checked to be Python `version`."""
    if python == "auto":
        found = find_interpreter(version)
        if found is None:
            raise FileNotFoundError(
                f"--bytecode: no working python{version} on PATH or under pyenv; the template's "
                f"runtime is Python {version}: install it, or pass --bytecode PATH to one"
            )
        return found
    executable = shutil.which(python)
    if executable is None:
        raise FileNotFoundError(f"--bytecode: no interpreter {python!r}")
    actual = _version_of(executable)
    if actual != version:
        raise ValueError(
            f"--bytecode needs Python {version}, the template's runtime (bytecode is specific "
            f"to one version); {executable} is {f'Python {actual}' if actual else 'not working'}"
        )
    return executable


def compile_tree(tree: Path, executable: str) -> None:
    """Compile every module under `tree` with `executable`, as Lambda will find them: checked
    against their source's hash (never a time, so unzipping keeps them valid)."""
    # A fixed hash seed: the same sources then compile to the same bytes.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"}
    command = [
        executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "checked-hash",
        "-d", LAMBDA_TASK_ROOT, str(tree),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        status = done.returncode
        raise RuntimeError(f"compiling with {executable} failed (exit {status}):\n{output}")


def _version_of(executable: str) -> str | None:
    try:
        done = subprocess.run(
            [executable, "-c", VERSION_CHECK], capture_output=True, text=True, timeout=30
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None
