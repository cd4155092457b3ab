"""Which first bytes go straight to the WebSocket handshake and which go through h11."""

from __future__ import annotations

import pytest

from entrypoints.local_gateway.http_serving import _opens_the_stage

HEAD = b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET /dev HTTP/1.1\r\n" + HEAD, True),
        (b"GET /dev/?token=abc HTTP/1.1\r\n" + HEAD, True),
        (b"GET /dev HTTP/1.1\r\nhost: x\r\nUPGRADE:WebSocket\r\n\r\n", True),
        (b"GET /dev HTTP/1.1\r\n" + HEAD + b"\x81\x05hello", True),  # a frame right behind
        (b"GET /other HTTP/1.1\r\n" + HEAD, False),  # another path: h11 answers 404
        (b"POST /dev HTTP/1.1\r\n" + HEAD, False),
        (b"GET /dev HTTP/1.0\r\n" + HEAD, False),
        (b"GET /dev HTTP/1.1\r\nHost: x\r\n\r\n", False),  # no upgrade: plain HTTP
        (b"GET /dev HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n", False),  # head not whole
        (b"GET /dev HTTP/1.1\r\nX-Upgrade: websocket\r\n\r\n", False),
    ],
)
def test_only_a_whole_upgrade_head_for_the_stage_skips_h11(data: bytes, expected: bool) -> None:
    assert _opens_the_stage(data, "/dev") is expected
