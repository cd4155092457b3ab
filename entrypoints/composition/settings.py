"""Settings read from the environment once, each checked with a clear error.

Long: the handler's and the authorizer's settings share one set of checks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


class SettingsError(ValueError):
    """An environment variable has a value the container cannot use."""


@dataclass(frozen=True)
class Settings:
    """The handler's settings (README, "Configuration"), as the container reads them."""

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
    establish_grace: float = 2.0  # see FANOUT_ESTABLISH_GRACE_MS in README
    # Sharded broadcasts (domain/shard_plan.py): sqs (FANOUT_QUEUE_URL), local threads, or off.
    dispatch: str = "local"
    queue_url: str | None = None
    shard_threshold: int = 2000
    shard_size: int = 1000
    shard_workers: int = 4  # local dispatch only: the queue's MaximumConcurrency on AWS
    shard_max_receive: int = 3  # local dispatch only: the queue's maxReceiveCount on AWS
    max_rooms: int = 100  # rooms one connection may be in at once
    message_rate: int = 10  # messages a second per connection (0: no budget)
    message_burst: int = 20
    history_size: int = 100  # messages each room keeps for recovery
    history_ttl: float = 600.0  # seconds it keeps them
    presence_events_max: int = 100  # rooms larger than this get no presence events

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
            establish_grace=_int(env, "FANOUT_ESTABLISH_GRACE_MS", 2000, 0, 600_000) / 1000,
            dispatch=_dispatch(env),
            queue_url=env.get("FANOUT_QUEUE_URL") or None,
            shard_threshold=_int(env, "SHARD_THRESHOLD", cls.shard_threshold, 1, 10_000_000),
            shard_size=_int(env, "SHARD_SIZE", cls.shard_size, 1, 1_000_000),
            shard_workers=_int(env, "SHARD_WORKERS", cls.shard_workers, 1, 256),
            shard_max_receive=_int(env, "SHARD_MAX_RECEIVE", cls.shard_max_receive, 1, 1000),
            max_rooms=_int(env, "MAX_ROOMS", cls.max_rooms, 1, 10_000),
            message_rate=_int(env, "MESSAGE_RATE", cls.message_rate, 0, 10_000),
            message_burst=_int(env, "MESSAGE_BURST", cls.message_burst, 1, 100_000),
            history_size=_int(env, "HISTORY_SIZE", cls.history_size, 1, 100_000),
            history_ttl=_int(env, "HISTORY_TTL", int(cls.history_ttl), 1, 7 * 86_400),
            presence_events_max=_int(env, "PRESENCE_EVENTS_MAX", 100, 0, 100_000),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dispatch(env: Mapping[str, str]) -> str:
    """SQS when a queue is configured; else local threads, except inside AWS Lambda, which
    freezes a sandbox between invocations (threads and all): there, no sharding."""
    queue_url = env.get("FANOUT_QUEUE_URL")
    in_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
    default = "sqs" if queue_url else "off" if in_lambda else "local"
    dispatch = _choice(env, "DISPATCH", ("sqs", "local", "off"), default)
    if dispatch == "sqs" and not queue_url:
        raise SettingsError("DISPATCH=sqs needs FANOUT_QUEUE_URL, the fan-out queue's URL")
    if dispatch == "local" and in_lambda:
        raise SettingsError(
            "DISPATCH=local cannot run inside AWS Lambda (a frozen sandbox stops its threads); "
            "set FANOUT_QUEUE_URL for sqs, or DISPATCH=off"
        )
    return dispatch


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


DEFAULT_MAX_TTL = 86_400  # a day


def max_ttl_from_environ(environ: Mapping[str, str] | None = None) -> int:
    """AUTH_MAX_TTL: the longest lifetime (exp - iat, in seconds) the authorizer accepts.

    `switchboard token` reads it too, so that it never mints a token the authorizer refuses.
    """
    env = os.environ if environ is None else environ
    raw = env.get("AUTH_MAX_TTL", "")
    if raw == "":
        return DEFAULT_MAX_TTL
    if not re.fullmatch(r"[0-9]+", raw.strip()) or int(raw) == 0:
        raise SettingsError(f"AUTH_MAX_TTL={raw!r} is not a positive whole number of seconds")
    return int(raw)


@dataclass(frozen=True)
class AuthSettings:
    """The $connect authorizer's settings: one key source, an issuer and an audience."""

    algorithm: str = "HS256"
    secret: str | None = None  # HS256, literal (local use)
    secret_parameter: str | None = None  # HS256, an SSM SecureString parameter name
    public_key: str | None = None  # RS256/ES256, PEM
    jwks_url: str | None = None  # RS256/ES256, keys picked by `kid`
    issuer: str = "switchboard"
    audience: str = "switchboard"
    region: str = "us-east-1"
    max_ttl: int = DEFAULT_MAX_TTL  # seconds a token may live, exp - iat (AUTH_MAX_TTL)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if environ is None else environ
        settings = cls(
            algorithm=_choice(env, "AUTH_ALGORITHM", ("HS256", "RS256", "ES256"), cls.algorithm),
            secret=env.get("AUTH_SECRET") or None,
            secret_parameter=env.get("AUTH_SECRET_PARAMETER") or None,
            public_key=env.get("AUTH_PUBLIC_KEY") or None,
            jwks_url=env.get("AUTH_JWKS_URL") or None,
            issuer=env.get("AUTH_ISSUER") or cls.issuer,
            audience=env.get("AUTH_AUDIENCE") or cls.audience,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            max_ttl=max_ttl_from_environ(env),
        )
        settings._check()
        return settings

    def _check(self) -> None:
        if self.algorithm == "HS256":
            keys = {"AUTH_SECRET": self.secret, "AUTH_SECRET_PARAMETER": self.secret_parameter}
        else:
            keys = {"AUTH_PUBLIC_KEY": self.public_key, "AUTH_JWKS_URL": self.jwks_url}
        given = [name for name, value in keys.items() if value]
        if len(given) != 1:
            raise SettingsError(
                f"AUTH_ALGORITHM={self.algorithm} needs exactly one of {', '.join(keys)}"
                f" (given: {', '.join(given) or 'none'})"
            )
