"""Token claims: `iat` required, a lifetime within AUTH_MAX_TTL, and the `broadcast` grant."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from adapters.tokens.jwt_tokens import mint
from domain.errors import InvalidToken
from domain.model import Grant
from domain.ports import TokenVerifier
from entrypoints.composition.settings import AuthSettings, SettingsError
from entrypoints.composition.tokens import token_verifier

SECRET = "s3cret-for-tests-only-0123456789abcdef"
NOW = int(time.time())
ABSENT = object()


def verifier(max_ttl: int = 3600) -> TokenVerifier:
    return token_verifier(AuthSettings(secret=SECRET, max_ttl=max_ttl))


def token(now: int | None = None, **overrides: Any) -> str:
    now = NOW if now is None else now
    claims = {
        "sub": "alice",
        "rooms": ["public:*"],
        "iss": "switchboard",
        "aud": "switchboard",
        "iat": now,
        "exp": now + 600,
    } | overrides
    return jwt.encode({k: v for k, v in claims.items() if v is not ABSENT}, SECRET, "HS256")


def test_the_grant_carries_the_expiry_and_the_broadcast_grant() -> None:
    grant = verifier().verify(token(broadcast=True))
    assert grant == Grant("alice", ("public:*",), broadcast=True, expires_at=NOW + 600)


@pytest.mark.parametrize("claim", [False, ABSENT])
def test_without_broadcast_true_there_is_no_broadcast_grant(claim: Any) -> None:
    assert verifier().verify(token(broadcast=claim)).broadcast is False


@pytest.mark.parametrize(
    ("claim", "shown"),
    [("true", '"true"'), (1, "1"), (0, "0"), (None, "null"), ([True], r"\[true\]"), ({}, "{}")],
)
def test_a_broadcast_claim_that_is_not_a_boolean_refuses_the_token(claim: Any, shown: str) -> None:
    with pytest.raises(InvalidToken, match=f"broadcast claim must be true or false, not {shown}$"):
        verifier().verify(token(broadcast=claim))


def test_iat_is_required() -> None:
    with pytest.raises(InvalidToken, match="lacks the 'iat' claim"):
        verifier().verify(token(iat=ABSENT))


def test_a_lifetime_of_exactly_the_maximum_is_accepted() -> None:
    assert verifier(max_ttl=600).verify(token()).expires_at == NOW + 600


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (lambda n: {"exp": n + 3601}, r"lifetime \(exp - iat\) is 3601 s, longer than the 3600 s"),
        (lambda n: {"iat": n - 3600, "exp": n + 60}, "3660 s, longer than the 3600 s"),
        (
            lambda n: {"exp": n + 20 * 86_400},
            r"is 1728000 s, longer than the 3600 s allowed \(AUTH_MAX_TTL",
        ),
        (lambda n: {"iat": n + 10, "exp": n + 10}, "exp is not after its iat"),
        (lambda n: {"iat": n + 3000}, "not yet valid"),
        (lambda n: {"iat": str(n)}, "exp and iat claims must be numbers"),
        (lambda n: {"iat": True}, "exp and iat claims must be numbers"),
        (lambda n: {"exp": str(n + 60)}, "exp and iat claims must be numbers"),
        (lambda n: {"exp": float("inf")}, "not valid"),  # PyJWT 2.10 raises OverflowError here
    ],
)
def test_a_token_living_too_long_or_with_bad_times_is_refused(
    claims: Callable[[int], dict[str, Any]], reason: str
) -> None:
    # Times from the moment the test runs: under pytest-xdist it may run minutes after import.
    now = int(time.time())
    with pytest.raises(InvalidToken, match=reason):
        verifier().verify(token(now, **claims(now)))


def test_a_fractional_exp_expires_at_the_whole_second_before() -> None:
    assert verifier().verify(token(exp=NOW + 600.7)).expires_at == NOW + 600


def test_auth_max_ttl_defaults_to_a_day_and_is_read_from_the_environment() -> None:
    assert AuthSettings.from_environ({"AUTH_SECRET": "x"}).max_ttl == 86_400
    assert AuthSettings.from_environ({"AUTH_SECRET": "x", "AUTH_MAX_TTL": ""}).max_ttl == 86_400
    assert AuthSettings.from_environ({"AUTH_SECRET": "x", "AUTH_MAX_TTL": "900"}).max_ttl == 900


@pytest.mark.parametrize("raw", ["0", "-60", "1.5", "1e3", "5_000", "an hour", "1h"])
def test_auth_max_ttl_must_be_a_positive_whole_number(raw: str) -> None:
    with pytest.raises(SettingsError, match=f"^AUTH_MAX_TTL='{raw}' is not a positive whole"):
        AuthSettings.from_environ({"AUTH_SECRET": "x", "AUTH_MAX_TTL": raw})


def test_mint_grants_broadcast_only_when_asked() -> None:
    granted = mint(SECRET, "ann", ["public:*"], 60, "switchboard", "switchboard", broadcast=True)
    plain = mint(SECRET, "ann", ["public:*"], 60, "switchboard", "switchboard")
    assert jwt.decode(granted, options={"verify_signature": False})["broadcast"] is True
    assert "broadcast" not in jwt.decode(plain, options={"verify_signature": False})
    assert (verifier().verify(granted).broadcast, verifier().verify(plain).broadcast) == (
        True,
        False,
    )


@pytest.mark.parametrize(
    ("ttl", "broadcast", "message"),
    [
        (0, False, "positive whole number"),
        (-5, False, "positive"),
        (True, False, "positive"),
        (60, "yes", "broadcast must be True or False"),
    ],
)
def test_mint_refuses_a_bad_lifetime_or_broadcast(ttl: Any, broadcast: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mint(SECRET, "ann", [], ttl, "switchboard", "switchboard", broadcast=broadcast)
