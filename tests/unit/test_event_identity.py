"""What the handler reads of an event's authorizer context: limits fail closed, the broadcast
grant and the token's expiry in either of the forms API Gateway may pass, and the endpoint in
the region's partition."""

from __future__ import annotations

from typing import Any

import pytest

from entrypoints.events import BadEvent, WebSocketEvent
from tests.support import load_event


def identity_of(authorizer: dict[str, Any] | None) -> Any:
    event = load_event("message", routeKey="$default") | {"body": "x"}
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    return WebSocketEvent.parse(event).identity


def test_without_an_authorizer_there_is_no_limit() -> None:
    identity = identity_of(None)
    assert (identity.allowed_rooms, identity.may_broadcast, identity.token_expires_at) == (
        None, True, None,
    )  # fmt: skip
    assert not identity.authorized


@pytest.mark.parametrize(
    "rooms",
    [None, "", 7, ["public:*"], "public:*, ../etc", "bad room", "x" * 200],
    ids=["absent", "empty", "a number", "a list", "a bad pattern", "a space", "too long"],
)
def test_an_authorizer_context_without_good_rooms_allows_none(rooms: Any) -> None:
    context = {"principalId": "bob", "sub": "bob"}
    if rooms is not None:
        context["rooms"] = rooms
    identity = identity_of(context)
    assert identity.authorized and identity.allowed_rooms == ()
    assert identity.principal == "bob"


def test_room_patterns_travel_comma_separated() -> None:
    identity = identity_of({"sub": "alice", "rooms": "public:*, user:{sub}"})
    assert identity.allowed_rooms == ("public:*", "user:{sub}")


@pytest.mark.parametrize(
    ("value", "granted"),
    [(True, True), ("true", True), (False, False), ("false", False), ("yes", False), (1, False),
     (None, False)],
)  # fmt: skip
def test_the_broadcast_grant_is_true_or_its_text_only(value: Any, granted: bool) -> None:
    context: dict[str, Any] = {"sub": "alice", "rooms": ""}
    if value is not None:
        context["broadcast"] = value
    assert identity_of(context).may_broadcast is granted


@pytest.mark.parametrize(
    ("value", "expires"),
    [(1_800_000_000, 1_800_000_000), ("1800000000", 1_800_000_000), (1.8e9, 1_800_000_000),
     (None, None), ("soon", 0), (True, 0), ([], 0)],
)  # fmt: skip
def test_the_token_expiry_is_read_and_a_malformed_one_is_long_past(
    value: Any, expires: int | None
) -> None:
    context: dict[str, Any] = {"sub": "alice", "rooms": ""}
    if value is not None:
        context["exp"] = value
    assert identity_of(context).token_expires_at == expires


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("eu-west-1", "abc.execute-api.eu-west-1.amazonaws.com"),
        ("cn-north-1", "abc.execute-api.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "abc.execute-api.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", "abc.execute-api.us-gov-west-1.amazonaws.com"),
    ],
)
def test_the_management_endpoint_is_in_the_region_s_partition(region: str, host: str) -> None:
    event = load_event("message", apiId="abc", stage="prod") | {"body": "x"}
    assert WebSocketEvent.parse(event).management_endpoint(region) == f"https://{host}/prod"


def test_an_event_without_connected_at_is_bad() -> None:
    event = load_event("connect")
    del event["requestContext"]["connectedAt"]
    with pytest.raises(BadEvent, match="connectedAt"):
        WebSocketEvent.parse(event)
