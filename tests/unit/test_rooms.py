"""Room access: patterns allow what they say, and a subject never widens them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model import Identity
from domain.rooms import check_patterns, may_enter

rooms = st.text(alphabet="abcXYZ019_.:-", min_size=1, max_size=12)
# Subjects as tokens carry them: anything, fnmatch's specials included.
subjects = st.text(alphabet="ab*?[]!-^\\{}:.", min_size=1, max_size=8) | st.text(min_size=1)


def limited(*patterns: str, sub: str | None = "alice") -> Identity:
    return Identity(principal=sub, allowed_rooms=patterns)


@given(rooms)
def test_no_identity_or_no_authorizer_allows_every_room(room: str) -> None:
    assert may_enter(None, room)
    assert may_enter(Identity(source_ip="127.0.0.1", principal="alice"), room)


def test_an_authorizer_that_allowed_nothing_allows_nothing() -> None:
    assert not may_enter(limited(), "lobby")


@pytest.mark.parametrize(
    ("patterns", "room", "allowed"),
    [
        (("public:*",), "public:lobby", True),
        (("public:*",), "public:", True),
        (("public:*",), "private:lobby", False),
        (("public:*",), "Public:lobby", False),  # case matters: rooms are case-sensitive
        (("public:*",), "xpublic:lobby", False),
        (("lobby",), "lobby", True),
        (("lobby",), "lobby2", False),
        (("room-?",), "room-1", True),
        (("room-?",), "room-12", False),
        (("user:{sub}",), "user:alice", True),
        (("user:{sub}",), "user:bob", False),
        (("user:{sub}",), "user:alice2", False),
        (("user:{sub}",), "user:", False),
        (("user:{sub}:*",), "user:alice:inbox", True),
        (("user:{sub}:*",), "user:bob:inbox", False),
        (("public:*", "user:{sub}"), "user:alice", True),
        (("public:*", "user:{sub}"), "public:x", True),
        (("public:*", "user:{sub}"), "team:x", False),
    ],
)
def test_patterns(patterns: tuple[str, ...], room: str, allowed: bool) -> None:
    assert may_enter(limited(*patterns), room) is allowed


@pytest.mark.parametrize("sub", [None, ""])
def test_sub_patterns_allow_nothing_without_a_subject(sub: str | None) -> None:
    identity = limited("user:{sub}", sub=sub)
    for room in ["user:", "user:alice", "user:{sub}", "user:*"]:
        assert not may_enter(identity, room)


@pytest.mark.parametrize(
    ("sub", "room"),
    [
        ("*", "user:alice"),
        ("*", "user:"),
        ("a*", "user:alice"),
        ("?", "user:x"),
        ("ali?e", "user:alice"),
        ("[a-z]", "user:q"),
        ("[!x]", "user:a"),
        ("]", "user:a"),
    ],
)
def test_wildcards_in_the_subject_do_not_widen_access(sub: str, room: str) -> None:
    assert not may_enter(limited("user:{sub}", sub=sub), room)
    # ... but the subject's own, literal room is still theirs.
    assert may_enter(limited("user:{sub}", sub=sub), f"user:{sub}")


@settings(max_examples=300, deadline=None)
@given(subjects, st.one_of(rooms.map(lambda r: f"user:{r}"), subjects.map(lambda s: f"user:{s}")))
def test_a_sub_pattern_allows_exactly_the_subjects_own_room(sub: str, room: str) -> None:
    assert may_enter(limited("user:{sub}", sub=sub), room) is (room == f"user:{sub}")


@settings(max_examples=200, deadline=None)
@given(subjects, rooms)
def test_a_sub_pattern_with_a_wildcard_suffix_stays_within_the_subjects_prefix(
    sub: str, suffix: str
) -> None:
    identity = limited("user:{sub}:*", sub=sub)
    assert may_enter(identity, f"user:{sub}:{suffix}")
    other = f"user:{sub}x:{suffix}"
    assert not may_enter(identity, other)


def test_a_grants_patterns_are_checked() -> None:
    assert check_patterns(["public:*", "user:{sub}", "room-[0-9]"]) == (
        "public:*",
        "user:{sub}",
        "room-[0-9]",
    )
    assert check_patterns(()) == ()


@pytest.mark.parametrize(
    "patterns",
    [
        "public:*",  # a string is not a list of patterns
        None,
        {"public:*": True},
        [1],
        [""],
        ["r" * 129],
        ["has space"],
        ["slash/room"],
        ["é"],
    ],
)
def test_a_grant_with_bad_patterns_is_refused(patterns: object) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        check_patterns(patterns)
