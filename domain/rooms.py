"""Room access: which rooms an identity's patterns allow."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from domain.model import Identity

# A room's name: 1-128 characters of letters, digits, "_", ".", ":" and "-".
ROOM_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


USER_ROOM_PREFIX = "user:"


def user_room(sub: str) -> str | None:
    """The room every connection of user `sub` is in from $connect (None when `sub` cannot be
    part of a room name)."""
    room = USER_ROOM_PREFIX + sub
    return room if ROOM_PATTERN.fullmatch(room) else None


def is_user_room(room: str) -> bool:
    return room.startswith(USER_ROOM_PREFIX)


def may_enter(identity: Identity | None, room: str) -> bool:
    """True when no authorizer limited the connection, or one of its patterns matches.

    Patterns are shell-style (`public:*`); `{sub}` stands for the caller's own subject,
    so `user:{sub}` lets a user into their own room only.
    """
    if identity is None or identity.allowed_rooms is None:
        return True
    sub = identity.principal or ""
    for pattern in identity.allowed_rooms:
        if "{sub}" in pattern:
            if not sub:
                continue
            # The subject is literal text, never a pattern: escape fnmatch's specials.
            escaped = "".join(f"[{c}]" if c in "*?[]" else c for c in sub)
            pattern = pattern.replace("{sub}", escaped)
        if fnmatchcase(room, pattern):
            return True
    return False


# Room patterns in a grant: room characters plus fnmatch's wildcards and `{sub}`.
PATTERN_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-*?[]{}"
)


def check_patterns(patterns: object) -> tuple[str, ...]:
    """The grant's room patterns as a tuple; ValueError saying what is wrong otherwise."""
    if not isinstance(patterns, list | tuple):
        raise ValueError("the rooms claim must be a list of room patterns")
    checked: list[str] = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not 1 <= len(pattern) <= 128:
            raise ValueError("each room pattern must be a string of 1 to 128 characters")
        if not set(pattern) <= PATTERN_CHARACTERS:
            raise ValueError(f"room pattern {pattern!r} has characters a room cannot have")
        checked.append(pattern)
    return tuple(checked)
