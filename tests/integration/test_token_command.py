"""`switchboard token` mints a token that the authorizer, configured for local use, accepts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.commands.local_secret import LOCAL_AUDIENCE, LOCAL_ISSUER
from entrypoints.composition.settings import AuthSettings
from entrypoints.composition.tokens import token_verifier


def switchboard(*args: str, secret_file: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SWITCHBOARD_SECRET_FILE": str(secret_file)}
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_token_is_accepted_by_the_local_authorizer(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    done = switchboard(
        "token", "--sub", "dana", "--rooms", "team:*", "--ttl", "15m", secret_file=secret_file
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    settings = AuthSettings(
        secret=secret_file.read_text().strip(), issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE
    )
    grant = token_verifier(settings).verify(done.stdout.strip())
    assert (grant.principal, grant.rooms) == ("dana", ("team:*",))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sub", "x", "--ttl", "soon"], "not a duration"),
        (["--sub", "x", "--rooms", "bad room"], "characters a room cannot have"),
        (["--rooms", "a"], "--sub"),
    ],
)
def test_bad_arguments_say_what_is_wrong(tmp_path: Path, args: list[str], message: str) -> None:
    done = switchboard("token", *args, secret_file=tmp_path / "secret")
    assert done.returncode != 0
    assert message in done.stderr
