"""JWT tokens with PyJWT: verify (HS256, RS256, ES256) and mint (HS256, for local use)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import jwt

from domain.errors import InvalidToken
from domain.model import Grant
from domain.ports import TokenVerifier
from domain.rooms import check_patterns

SYMMETRIC = ("HS256",)
ASYMMETRIC = ("RS256", "ES256")
# Room patterns travel in the `rooms` claim; no claim means no room may be joined.
ROOMS_CLAIM = "rooms"
# `"broadcast": true` grants broadcasting to everyone; absent or false grants nothing. Any
# other value ("true", 1, null) refuses the token: a minting bug shows at once, not later.
BROADCAST_CLAIM = "broadcast"


class JwtVerifier(TokenVerifier):
    """Checks signature, expiry, lifetime, issuer and audience with the key from `key_for`.

    `key_for(token)` returns the HS256 secret, or a PyJWK bound to its algorithm (a PEM's, or
    the one a JWKS names by `kid`). Whatever stops it from giving a key refuses the token.
    """

    def __init__(
        self,
        key_for: Callable[[str], Any],
        algorithm: str,
        issuer: str,
        audience: str,
        *,
        max_ttl_seconds: int,
        leeway_seconds: int = 30,
    ) -> None:
        if algorithm not in SYMMETRIC + ASYMMETRIC:
            raise ValueError(f"algorithm {algorithm!r} is not one of {SYMMETRIC + ASYMMETRIC}")
        if max_ttl_seconds <= 0:
            raise ValueError(f"the maximum lifetime must be positive, not {max_ttl_seconds}")
        self._key_for = key_for
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self._max_ttl = max_ttl_seconds
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Grant:
        key = self._key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],  # one algorithm: no alg-confusion attacks
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token's issuer is not the expected one") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the token's audience is not this API") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the token lacks the {exc.claim!r} claim") from None
        except (jwt.PyJWTError, ArithmeticError) as exc:  # PyJWT 2.10: exp=Infinity overflows
            raise InvalidToken(f"the token is not valid: {exc}") from None
        return self._grant(claims)

    def _key(self, token: str) -> Any:
        try:
            key = self._key_for(token)
        except (InvalidToken, jwt.DecodeError) as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from None
        except Exception as exc:  # SSM or JWKS: unreachable, garbage, no such kid... Deny.
            raise InvalidToken(f"no key to check the token with: {_describe(exc)}") from None
        if isinstance(key, jwt.PyJWK) and key.algorithm_name != self._algorithm:
            # Recent PyJWT checks this too; 2.10 does not (a mismatch fails as a bad signature).
            raise InvalidToken(
                f"the token's key ({key.key_type}) is for {key.algorithm_name},"
                f" not {self._algorithm}"
            )
        return key

    def _grant(self, claims: dict[str, Any]) -> Grant:
        sub, exp, iat = claims["sub"], claims["exp"], claims["iat"]
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("the token's sub claim must be a non-empty string")
        if not (_is_time(exp) and _is_time(iat)):  # PyJWT takes "123" and true
            raise InvalidToken("the token's exp and iat claims must be numbers of seconds")
        lifetime = exp - iat
        if lifetime <= 0:
            raise InvalidToken("the token's exp is not after its iat")
        if lifetime > self._max_ttl:
            raise InvalidToken(
                f"the token's lifetime (exp - iat) is {lifetime:.12g} s, longer than the"
                f" {self._max_ttl} s allowed (AUTH_MAX_TTL)"
            )
        broadcast = claims.get(BROADCAST_CLAIM, False)
        if not isinstance(broadcast, bool):
            shown = json.dumps(broadcast)[:20]  # as the token has it, and short
            raise InvalidToken(f"the token's broadcast claim must be true or false, not {shown}")
        try:
            rooms = check_patterns(claims.get(ROOMS_CLAIM, []))
        except ValueError as exc:
            raise InvalidToken(f"the token's rooms claim is not valid: {exc}") from None
        return Grant(principal=sub, rooms=rooms, broadcast=broadcast, expires_at=math.floor(exp))


def _is_time(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def mint(
    secret: str,
    sub: str,
    rooms: Sequence[str],
    ttl_seconds: int,
    issuer: str,
    audience: str,
    now: float | None = None,
    broadcast: bool = False,
) -> str:
    """An HS256 token for `sub` allowed into `rooms` (and to broadcast) for `ttl_seconds`."""
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
        raise ValueError(
            f"the lifetime must be a positive whole number of seconds: {ttl_seconds!r}"
        )
    if not isinstance(broadcast, bool):
        raise ValueError(f"broadcast must be True or False, not {broadcast!r}")
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": sub,
        ROOMS_CLAIM: list(check_patterns(list(rooms))),
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if broadcast:
        claims[BROADCAST_CLAIM] = True
    return jwt.encode(claims, secret, algorithm="HS256")
