"""Room access: which rooms an identity's patterns allow."""

from __future__ import annotations

from fnmatch import fnmatchcase

from domain.model import Identity


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
