"""Fixtures: the gateway with the recording handler, and room for a thousand sockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.gateway_process import Gateway, start_gateway


@pytest.fixture(scope="module")
def recording_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The recording handler behind the gateway, with one custom route: `echo`."""
    gateway = start_gateway(tmp_path_factory.mktemp("gateway"), "--routes", "echo")
    yield gateway
    gateway.stop()
