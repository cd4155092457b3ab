"""--handler's module comes from the current folder, which cannot shadow installed packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from entrypoints.local_gateway.lambda_runtime.handlers import HandlerError, load_handler

ROOT = Path(__file__).resolve().parents[2]
# Loads a handler the way the `switchboard` console script does: with -P, Python does not put
# the current folder on sys.path first (a console script's sys.path starts at its bin folder).
LOAD = (
    "from entrypoints.local_gateway.lambda_runtime.handlers import load_handler;"
    "print(load_handler('probe_handler:handler')({}, None))"
)


def test_a_module_named_like_a_dependency_in_the_current_folder_does_not_win(
    tmp_path: Path,
) -> None:
    (tmp_path / "boto3.py").write_text("raise ImportError('the current folder shadowed boto3')\n")
    (tmp_path / "probe_handler.py").write_text(
        "import boto3\n\ndef handler(event, context):\n    return boto3.__file__\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-P", "-c", LOAD], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == boto3.__file__  # the installed one, not ./boto3.py


def test_the_users_module_is_still_found_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sb_cwd_handler.py").write_text("def handler(event, context):\n    return 7\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "sb_cwd_handler", raising=False)
    try:
        assert load_handler("sb_cwd_handler:handler")({}, None) == 7
        assert sys.path[-1] == str(tmp_path)
    finally:
        sys.modules.pop("sb_cwd_handler", None)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nocolon", "must look like module:function"),
        ("sb_surely_missing_module:handler", "cannot import 'sb_surely_missing_module'"),
        ("json:no_such_function", "module 'json' ("),
        ("json:__doc__", "is a str, not a function"),
    ],
)
def test_bad_handler_names_get_a_clear_error(spec: str, message: str) -> None:
    with pytest.raises(HandlerError, match=message.replace("(", r"\(")):
        load_handler(spec)
