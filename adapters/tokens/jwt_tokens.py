"""JWT tokens with PyJWT: verify (HS256, RS256, ES256) and mint (HS256, for local use)."""

from __future__ import annotations

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


class JwtVerifier(TokenVerifier):
    """Checks signature, expiry, issuer and audience; the key comes from `key_for(token)`.

    `key_for` returns the HS256 secret or the public key (a JWKS client picks it by `kid`).
    """

    def __init__(
        self,
        key_for: Callable[[str], Any],
        algorithm: str,
        issuer: str,
        audience: str,
        leeway_seconds: int = 30,
    ) -> None:
        if algorithm not in SYMMETRIC + ASYMMETRIC:
            raise ValueError(f"algorithm {algorithm!r} is not one of {SYMMETRIC + ASYMMETRIC}")
        self._key_for = key_for
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Grant:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=[self._algorithm],  # one algorithm: no alg-confusion attacks
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token's issuer is not the expected one") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the token's audience is not this API") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWKClientError as exc:
            raise InvalidToken(f"no key to check the token with: {exc}") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from None
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub:
            raise InvalidToken("the token's sub claim must be a non-empty string")
        try:
            rooms = check_patterns(claims.get(ROOMS_CLAIM, []))
        except ValueError as exc:
            raise InvalidToken(f"the token's rooms claim is not valid: {exc}") from None
        return Grant(principal=sub, rooms=rooms)


def jwks_key_source(url: str) -> Callable[[str], Any]:
    """Keys from a JWKS endpoint, cached by PyJWT's client and picked by the token's `kid`."""
    client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300)
    return lambda token: client.get_signing_key_from_jwt(token).key


def mint(
    secret: str,
    sub: str,
    rooms: Sequence[str],
    ttl_seconds: int,
    issuer: str,
    audience: str,
    now: float | None = None,
) -> str:
    """An HS256 token for `sub` allowed into `rooms` for `ttl_seconds`."""
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": sub,
        ROOMS_CLAIM: list(check_patterns(list(rooms))),
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
