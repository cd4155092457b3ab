"""An authorizer's IAM policy, judged as API Gateway does for `execute-api:Invoke` on $connect."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

INVOKE = "execute-api:Invoke"


class MalformedPolicy(ValueError):
    """The authorizer's answer is not a policy API Gateway can read (a 500 on AWS)."""


def allows(document: Any, resource: str) -> bool:
    """True when a statement allows invoking `resource` and none denies it.

    As in IAM, an explicit Deny wins over any Allow, and no matching statement means Deny.
    """
    allowed = False
    for statement in _statements(document):
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise MalformedPolicy(f"a statement's Effect is {effect!r}, not Allow or Deny")
        action = _matches(statement, "Action", INVOKE, ignore_case=True)
        if not (action and _matches(statement, "Resource", resource)):
            continue
        if effect == "Deny":
            return False
        allowed = True
    return allowed


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        raise MalformedPolicy("policyDocument must be an object")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):  # IAM takes one statement without the list
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        raise MalformedPolicy("policyDocument.Statement must be a statement or a list of them")
    return statements


def _matches(statement: Mapping[str, Any], key: str, value: str, ignore_case: bool = False) -> bool:
    patterns = statement.get(key)
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise MalformedPolicy(f"a statement's {key} must be a string or a list of strings")
    return any(_glob(value, pattern, ignore_case) for pattern in patterns)


def _glob(value: str, pattern: str, ignore_case: bool) -> bool:
    # IAM's wildcards are `*` and `?` only: brackets are literal there, not character sets.
    pattern = pattern.replace("[", "[[]")
    if ignore_case:  # action names are case-insensitive in IAM, resources are not
        return fnmatchcase(value.lower(), pattern.lower())
    return fnmatchcase(value, pattern)
