"""Route selection reads frames as strict JSON: NaN and Infinity make a frame not JSON."""

from __future__ import annotations

import pytest

from entrypoints.local_gateway.websocket.routes import DEFAULT_ROUTE, RouteSelector

SELECTOR = RouteSelector(["sendmessage"])


@pytest.mark.parametrize(
    "frame",
    [
        '{"action": "sendmessage", "n": NaN}',
        '{"action": "sendmessage", "n": Infinity}',
        '{"action": "sendmessage", "n": -Infinity}',
        '{"action": "sendmessage", "n": [1, {"deep": NaN}]}',
    ],
)
def test_non_numeric_numbers_make_a_frame_not_json_so_it_goes_to_default(frame: str) -> None:
    assert SELECTOR.select(frame) == DEFAULT_ROUTE


@pytest.mark.parametrize(
    ("frame", "route"),
    [
        ('{"action": "sendmessage", "n": 1e308}', "sendmessage"),
        ('{"action": "sendmessage", "text": "NaN Infinity"}', "sendmessage"),  # in strings: fine
        ('{"action": "other"}', DEFAULT_ROUTE),
        ("NaN", DEFAULT_ROUTE),
        ("not json", DEFAULT_ROUTE),
    ],
)
def test_strict_json_still_routes_on_its_action(frame: str, route: str) -> None:
    assert SELECTOR.select(frame) == route
