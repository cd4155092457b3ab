"""serve's --allow-origin values, its own page's origins, and what the exposure warning says."""

from __future__ import annotations

import argparse
import re

import pytest

from entrypoints.local_gateway.options import add_arguments, exposure_warning
from entrypoints.local_gateway.websocket.origins import page_origins


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_arguments(parser)
    return parser.parse_args(argv)


def test_allowed_origins_are_kept_as_browsers_send_them() -> None:
    args = parse(
        *("--allow-origin", "HTTP://App.Example:80"),
        *("--allow-origin", "https://[::1]:3000"),
        *("--allow-origin", "null"),
    )
    assert args.allow_origin == ["http://app.example", "https://[::1]:3000", "null"]
    assert parse().allow_origin == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("localhost:3000", "is not an origin: an origin is scheme://host[:port]"),
        ("http://app.example/", "has a path, query or fragment"),
        ("http://app.example?x=1", "has a path, query or fragment"),
        ("http://user@app.example", "is not an origin"),
        ("http://app.example:99999", "is not an origin: Port out of range"),
    ],
)
def test_a_bad_origin_is_a_clear_error(value: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentError, match=re.escape(message)):
        parse("--allow-origin", value)


@pytest.mark.parametrize(
    ("host", "origins"),
    [
        ("127.0.0.1", ("http://127.0.0.1:8080", "http://localhost:8080")),
        ("::1", ("http://[::1]:8080", "http://localhost:8080")),
        ("0.0.0.0", ("http://127.0.0.1:8080", "http://localhost:8080")),
        ("192.168.1.20", ("http://192.168.1.20:8080",)),
        ("Dev-Box", ("http://dev-box:8080",)),
    ],
)
def test_the_gateways_own_page_origins(host: str, origins: tuple[str, ...]) -> None:
    assert page_origins(host, 8080) == origins


def test_the_exposure_warning_says_what_the_signature_check_can_and_cannot_stop() -> None:
    assert exposure_warning("127.0.0.1", 8080, allow_unsigned=False) is None
    warning = exposure_warning("0.0.0.0", 8080, allow_unsigned=False) or ""
    text = " ".join(warning.split())
    assert "form, its date (within 5 minutes) and its region" in text
    assert "verifies the signature itself only for its own access key" in text
    assert "any other key, even a made-up one, is accepted: serve has no IAM" in text
    unsigned = " ".join((exposure_warning("0.0.0.0", 8080, allow_unsigned=True) or "").split())
    assert "not checked at all (--allow-unsigned)" in unsigned
