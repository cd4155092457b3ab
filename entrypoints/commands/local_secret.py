"""The HS256 secret `switchboard serve --auth` and `switchboard token` share on a laptop."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

LOCAL_ISSUER = "switchboard"
LOCAL_AUDIENCE = "switchboard"


def secret_path() -> Path:
    override = os.environ.get("SWITCHBOARD_SECRET_FILE")
    if override:
        return Path(override)
    return Path.home() / ".config" / "switchboard" / "local-auth-secret"


def local_secret() -> str:
    """The local secret, made (random, readable by this user only) on first use."""
    path = secret_path()
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
