"""CloudFormation's intrinsic functions, resolved to the values they have locally: Ref (to a
parameter, a pseudo parameter or a resource), Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select,
Fn::Split, and Fn::If over the template's Conditions (Fn::Equals, Fn::Not, Fn::And, Fn::Or);
AWS::NoValue drops the key or item that holds it. Anything else, or a name with no local
value, is Unresolvable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
NO_VALUE = object()  # what Ref AWS::NoValue stands for, until its key or item is dropped


class Unresolvable(ValueError):
    """An intrinsic function, or a name, that has no local value: the message says which."""


class Resolver:
    """`refs` maps a logical id or parameter name to its Ref value; `attributes` maps
    (logical id, attribute) to its Fn::GetAtt value."""

    def __init__(
        self,
        refs: Mapping[str, str],
        attributes: Mapping[tuple[str, str], str],
        conditions: Mapping[str, Any] | None = None,
        missing: Mapping[str, str] | None = None,
    ) -> None:
        """`conditions`: the template's Conditions section; `missing`: why a name has no
        value (a parameter without a Default), for the error."""
        self._refs = refs
        self._attributes = attributes
        self._conditions = conditions or {}
        self._missing = missing or {}

    def resolve(self, value: Any) -> Any:
        resolved = self._resolve(value)
        return None if resolved is NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return NO_VALUE if argument == "AWS::NoValue" else self.ref(str(argument))
            if key.startswith("Fn::") or key == "Condition":
                return self._function(key, argument)
        fields = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in fields.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            raise Unresolvable(f"Condition {name}: not in the template's Conditions")
        return bool(self._resolve(self._conditions[name]))

    def ref(self, name: str) -> str:
        if name in self._missing:
            raise Unresolvable(f"Ref {name}: {self._missing[name]}")
        if name not in self._refs:
            raise Unresolvable(f"Ref {name}: no parameter or resource of that name")
        return self._refs[name]

    def attribute(self, name: str, attribute: str) -> str:
        if (name, attribute) not in self._attributes:
            raise Unresolvable(f"Fn::GetAtt {name}.{attribute}: not known locally")
        return self._attributes[(name, attribute)]

    def _function(self, key: str, argument: Any) -> Any:
        if key == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            if not isinstance(parts, list) or len(parts) != 2:
                raise Unresolvable(f"Fn::GetAtt {argument!r}: expected [resource, attribute]")
            return self.attribute(str(parts[0]), str(self.resolve(parts[1])))
        if key == "Fn::If":
            name, then, otherwise = argument
            return self._resolve(then if self.condition(str(name)) else otherwise)
        if key == "Condition":
            return self.condition(str(argument))
        if key == "Fn::Equals":
            left, right = (self._resolve(side) for side in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._resolve(argument[0])
        if key == "Fn::And":
            return all(self._resolve(item) for item in argument)
        if key == "Fn::Or":
            return any(self._resolve(item) for item in argument)
        if key == "Fn::Sub":
            return self._sub(argument)
        if key == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(str(item) for item in self.resolve(items))
        if key == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::Split":
            delimiter, text = argument
            return str(self.resolve(text)).split(str(delimiter))
        raise Unresolvable(f"{key} is not resolved locally")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        local = {name: self.resolve(value) for name, value in dict(variables).items()}

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if "." in name and name.split(".", 1)[0] in self._known_resources():
                return self.attribute(*name.split(".", 1))
            return self.ref(name)

        return _SUB_VARIABLE.sub(value, str(text)).replace("${!", "${")

    def _known_resources(self) -> set[str]:
        return {name for name, _ in self._attributes}
