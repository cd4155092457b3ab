"""The $connect authorizer's token verifier, over the key source its settings name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.ports import TokenVerifier
from entrypoints.composition.settings import AuthSettings, SettingsError


def token_verifier(settings: AuthSettings) -> TokenVerifier:
    """A JWT verifier with its key from SSM, a JWKS URL, or the settings themselves."""
    from adapters.tokens.jwt_tokens import JwtVerifier
    from adapters.tokens.keys import jwks_key_source, public_key

    key_for: Callable[[str], Any]
    if settings.secret_parameter:
        import boto3

        from adapters.tokens.ssm_secret import SsmSecret

        ssm = boto3.client("ssm", region_name=settings.region)
        key_for = SsmSecret(ssm, settings.secret_parameter)
    elif settings.jwks_url:
        key_for = jwks_key_source(settings.jwks_url)
    else:
        key: Any = settings.secret
        if settings.algorithm != "HS256":  # checked once here: a PEM for the wrong algorithm
            try:
                key = public_key(settings.public_key or "", settings.algorithm)
            except ValueError as exc:
                raise SettingsError(f"AUTH_PUBLIC_KEY {exc}") from None
        key_for = lambda _token: key  # noqa: E731
    return JwtVerifier(
        key_for,
        settings.algorithm,
        settings.issuer,
        settings.audience,
        max_ttl_seconds=settings.max_ttl,
    )
