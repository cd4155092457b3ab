"""Settings read from the environment once, each checked with a clear error."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


class SettingsError(ValueError):
    """An environment variable has a value the container cannot use."""


@dataclass(frozen=True)
class Settings:
    store: str = "dynamodb"
    table: str = "switchboard-connections"
    dynamodb_endpoint: str | None = None
    apigw_endpoint: str | None = None
    region: str = "us-east-1"
    publisher: str = "lean"
    concurrency: int = 32
    max_attempts: int = 5
    base_delay: float = 0.05
    max_delay: float = 2.0
    deadline: float = 10.0
    batch_size: int = 1000

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            store=_choice(env, "STORE", ("dynamodb", "memory"), cls.store),
            table=env.get("CONNECTIONS_TABLE") or cls.table,
            dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
            apigw_endpoint=(env.get("APIGW_ENDPOINT") or "").rstrip("/") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            publisher=_choice(env, "PUBLISHER", ("lean", "boto3"), cls.publisher),
            concurrency=_int(env, "FANOUT_CONCURRENCY", cls.concurrency, 1, 1024),
            max_attempts=_int(env, "FANOUT_MAX_ATTEMPTS", cls.max_attempts, 1, 20),
            base_delay=_int(env, "FANOUT_BASE_DELAY_MS", 50, 0, 60_000) / 1000,
            max_delay=_int(env, "FANOUT_MAX_DELAY_MS", 2000, 0, 60_000) / 1000,
            deadline=_int(env, "FANOUT_DEADLINE_MS", 10_000, 0, 900_000) / 1000,
            batch_size=_int(env, "FANOUT_BATCH_SIZE", cls.batch_size, 1, 100_000),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is outside {low}..{high}")
    return value
