"""The chat page's files: exactly three paths answer, with a strict policy; nothing else does."""

from __future__ import annotations

import pytest

from entrypoints.local_gateway.web.page import PAGE_FILES, page_response


@pytest.mark.parametrize(
    ("path", "kind", "marker"),
    [
        ("/", "text/html", b"<title>Switchboard chat</title>"),
        ("/app.js", "text/javascript", b'"use strict";'),
        ("/style.css", "text/css", b"Switchboard chat"),
    ],
)
def test_each_page_file_is_served_with_its_type_and_a_strict_policy(
    path: str, kind: str, marker: bytes
) -> None:
    response = page_response(path)

    assert response is not None
    status, headers, body = response
    assert status == 200
    assert headers["Content-Type"].startswith(kind)
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self' ws: wss:" in policy
    assert "unsafe-inline" not in policy
    assert marker in body


def test_the_page_refers_only_to_its_own_files() -> None:
    response = page_response("/")
    assert response is not None
    html = response[2].decode()

    # Relative references work both from the gateway's / and from a file:// URL.
    assert 'src="app.js"' in html
    assert 'href="style.css"' in html
    assert "http://" not in html and "https://" not in html  # no CDN: works offline
    assert set(PAGE_FILES) == {"/", "/app.js", "/style.css"}


@pytest.mark.parametrize(
    ("path", "loaders"),
    [
        ("/app.js", ("fetch(", "XMLHttpRequest", "import(", "importScripts", "sendBeacon")),
        ("/style.css", ("@import", "url(")),
    ],
)
def test_the_script_and_style_load_nothing_from_elsewhere(
    path: str, loaders: tuple[str, ...]
) -> None:
    response = page_response(path)
    assert response is not None
    text = response[2].decode()

    assert "http://" not in text and "https://" not in text
    # The script's one connection is the WebSocket the user chose; nothing else is fetched.
    assert [loader for loader in loaders if loader in text] == []


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/index.html",
        "/app.js/",
        "/APP.JS",
        "/static/app.js",
        "/page.py",
        "/../pyproject.toml",
        "/static/../page.py",
        "/static/../../../pyproject.toml",
        "//etc/passwd",
        "/%2e%2e/",
        "/%2e%2e/page.py",
        "/..%2fpage.py",
        "/app.js%00",
        "/app.js?x=1",
        "/./app.js",
        "\\app.js",
        "/dev",
        "/dev/@connections/abc=",
    ],
)
def test_no_other_path_answers(path: str) -> None:
    assert page_response(path) is None
