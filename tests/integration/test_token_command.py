"""`switchboard token` mints a token that the authorizer, configured for local use, accepts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from entrypoints.commands.local_secret import LOCAL_AUDIENCE, LOCAL_ISSUER
from entrypoints.composition.settings import AuthSettings
from entrypoints.composition.tokens import token_verifier


def switchboard(
    *args: str, secret_file: Path, max_ttl: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AUTH_MAX_TTL"}
    env |= {"SWITCHBOARD_SECRET_FILE": str(secret_file)}
    if max_ttl is not None:
        env["AUTH_MAX_TTL"] = max_ttl
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
    assert (grant.principal, grant.rooms, grant.broadcast) == ("dana", ("team:*",), False)
    assert grant.expires_at is not None and 0 < grant.expires_at - time.time() <= 15 * 60


def local_settings(secret_file: Path, max_ttl: int = 86_400) -> AuthSettings:
    secret = secret_file.read_text().strip()
    return AuthSettings(
        secret=secret, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, max_ttl=max_ttl
    )


def test_broadcast_mints_a_token_that_grants_broadcasting(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    done = switchboard("token", "--sub", "ed", "--broadcast", secret_file=secret_file)
    assert done.returncode == 0, done.stderr
    grant = token_verifier(local_settings(secret_file)).verify(done.stdout.strip())
    assert grant.broadcast is True


def test_the_ttl_may_reach_auth_max_ttl_and_no_further(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    at_most = switchboard("token", "--sub", "fay", "--ttl", "1d", secret_file=secret_file)
    assert at_most.returncode == 0, at_most.stderr
    too_long = switchboard("token", "--sub", "fay", "--ttl", "2d", secret_file=secret_file)
    assert too_long.returncode != 0 and too_long.stdout == ""
    assert "--ttl is 172800 s, longer than the 86400 s the authorizer accepts" in too_long.stderr
    allowed = switchboard(
        "token", "--sub", "fay", "--ttl", "2d", secret_file=secret_file, max_ttl="172800"
    )
    assert allowed.returncode == 0, allowed.stderr
    grant = token_verifier(local_settings(secret_file, 172_800)).verify(allowed.stdout.strip())
    assert grant.principal == "fay"


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


def test_a_bad_auth_max_ttl_says_what_is_wrong(tmp_path: Path) -> None:
    done = switchboard("token", "--sub", "x", secret_file=tmp_path / "secret", max_ttl="1 day")
    assert done.returncode != 0
    assert "AUTH_MAX_TTL='1 day' is not a positive whole number of seconds" in done.stderr
