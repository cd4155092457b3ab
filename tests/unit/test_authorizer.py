"""The $connect authorizer: JWTs from ?token= become Allow (with context), Deny (403) or 401."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from adapters.tokens.jwt_tokens import JwtVerifier, mint
from entrypoints import authorizer
from entrypoints.composition.settings import AuthSettings, SettingsError
from entrypoints.composition.tokens import token_verifier
from tests.support import LambdaContext, load_event

SECRET = "s3cret-for-tests-only-0123456789abcdef"


@pytest.fixture(autouse=True)
def hs256() -> Iterator[None]:
    authorizer.reset_verifier(token_verifier(AuthSettings(secret=SECRET)))
    yield
    authorizer.reset_verifier(None)


def authorize(token: str | None) -> dict[str, Any]:
    event = json.loads(json.dumps(load_event("authorizer_request")))
    event["queryStringParameters"] = {"token": token} if token is not None else None
    result: dict[str, Any] = authorizer.handler(event, LambdaContext())
    return result


def effect(result: dict[str, Any]) -> str:
    return str(result["policyDocument"]["Statement"][0]["Effect"])


def token(**overrides: Any) -> str:
    claims = {
        "sub": "alice",
        "rooms": ["public:*", "user:{sub}"],
        "iss": "switchboard",
        "aud": "switchboard",
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
    } | overrides
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, "HS256")


def test_a_valid_token_is_allowed_with_sub_rooms_broadcast_and_exp_in_the_context() -> None:
    now = int(time.time())
    result = authorize(
        mint(SECRET, "alice", ["public:*", "user:{sub}"], 60, "switchboard", "switchboard", now)
    )
    assert effect(result) == "Allow"
    assert result["principalId"] == "alice"
    assert result["context"] == {
        "sub": "alice",
        "rooms": "public:*,user:{sub}",
        "broadcast": False,
        "exp": now + 60,
    }
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Resource"].endswith("/dev/$connect")


@pytest.mark.parametrize("claim", [True, False, None])
def test_the_context_says_whether_the_token_grants_broadcasting(claim: bool | None) -> None:
    context = authorize(token(broadcast=claim))["context"]
    assert context["broadcast"] is (claim is True)
    # API Gateway takes strings, numbers and booleans only: a real bool and a real number.
    assert type(context["broadcast"]) is bool and type(context["exp"]) is int
    assert all(isinstance(value, str | int | float) for value in context.values())


def test_no_token_raises_unauthorized_which_api_gateway_answers_401() -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(None)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize("")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (token(exp=int(time.time()) - 3600), "expired"),
        (token(iss="someone-else"), "issuer"),
        (token(aud="another-api"), "audience"),
        (token(sub=None), "sub"),
        (token(rooms="public:*"), "rooms"),
        (token(rooms=["has space"]), "rooms"),
        (token(iat=None), "'iat'"),
        (token(exp=int(time.time()) + 86_401), "AUTH_MAX_TTL"),
        (token(broadcast="true"), "broadcast"),
        (
            jwt.encode(
                {
                    "sub": "a",
                    "iss": "switchboard",
                    "aud": "switchboard",
                    "iat": int(time.time()),
                    "exp": int(time.time()) + 3600,
                },
                "wrong-secret-0123456789abcdef0123",
                "HS256",
            ),
            "not valid",
        ),
        ("not.a.jwt", "not valid"),
    ],
)
def test_a_bad_token_is_denied_with_a_reason(bad: str, reason: str) -> None:
    result = authorize(bad)
    assert effect(result) == "Deny"
    assert reason in result["context"]["reason"]


def test_verifier_settings_need_exactly_one_key_source() -> None:
    with pytest.raises(SettingsError, match="exactly one of AUTH_SECRET, AUTH_SECRET_PARAMETER"):
        AuthSettings.from_environ({})
    with pytest.raises(SettingsError, match="AUTH_PUBLIC_KEY, AUTH_JWKS_URL"):
        AuthSettings.from_environ({"AUTH_ALGORITHM": "RS256", "AUTH_SECRET": "x"})
    with pytest.raises(SettingsError, match="AUTH_ALGORITHM='none'"):
        AuthSettings.from_environ({"AUTH_ALGORITHM": "none", "AUTH_SECRET": "x"})
    with pytest.raises(ValueError, match="algorithm"):
        JwtVerifier(lambda _t: "k", "none", "i", "a", max_ttl_seconds=60)
