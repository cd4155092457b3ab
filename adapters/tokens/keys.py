"""The verifier's public keys, as PyJWKs bound to one algorithm: from a PEM, or from a JWKS URL."""

from __future__ import annotations

from collections.abc import Callable

import jwt

from domain.errors import InvalidToken

# The key each asymmetric algorithm needs: the JWK's kty, and its crv where one is fixed.
KEY_TYPES = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}
# A JWKS fetch must end well inside the authorizer's Lambda timeout (10 s in the template):
# an unknown kid costs two fetches (PyJWT fetches again once). urllib applies the timeout to
# connecting and to each read, not to the whole fetch.
JWKS_TIMEOUT_SECONDS = 2.0
JWKS_LIFESPAN_SECONDS = 300.0  # a key removed from the JWKS stops working within this


def public_key(pem: str, algorithm: str) -> jwt.PyJWK:
    """A PEM public key as a JWK bound to `algorithm`; ValueError when it is not a key for it."""
    kty, crv = KEY_TYPES[algorithm]
    wanted = f"a PEM {kty}{f' {crv}' if crv else ''} public key, which {algorithm} needs"
    implementation = jwt.get_algorithm_by_name(algorithm)
    try:
        jwk = implementation.to_jwk(implementation.prepare_key(pem), as_dict=True)
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
        raise ValueError(f"is not {wanted}") from None
    if jwk.get("kty") != kty or (crv and jwk.get("crv") != crv):
        raise ValueError(f"is not {wanted}")
    if "d" in jwk:
        raise ValueError("is a private key: give its public key only")
    return jwt.PyJWK(jwk, algorithm)


def jwks_key_source(
    url: str,
    timeout_seconds: float = JWKS_TIMEOUT_SECONDS,
    lifespan_seconds: float = JWKS_LIFESPAN_SECONDS,
) -> Callable[[str], jwt.PyJWK]:
    """Keys from a JWKS endpoint, picked by the token's `kid`.

    Only the JWK set is cached, for `lifespan_seconds`: PyJWT's per-key cache (`cache_keys`)
    is an LRU that never expires, so a key removed from the set would verify forever.
    """
    client = jwt.PyJWKClient(
        url,
        cache_keys=False,
        cache_jwk_set=True,
        lifespan=lifespan_seconds,
        timeout=timeout_seconds,
    )

    def key_for(token: str) -> jwt.PyJWK:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("its header names no key (kid)")
        return client.get_signing_key(kid)

    return key_for
