"""The template's values for given parameters (the rest at their defaults), as CloudFormation
would resolve them: Ref, Fn::If on the template's Conditions, Fn::Sub. Whatever only AWS
knows (a resource's id, the region) stays a placeholder: `<Api>`, `<AWS::Region>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NO_VALUE: Any = object()  # AWS::NoValue: the property is left out


class Values:
    def __init__(self, template: Mapping[str, Any], given: Mapping[str, str] | None = None):
        defaults = {k: str(p.get("Default", "")) for k, p in template["Parameters"].items()}
        self.parameters = defaults | dict(given or {})
        self.conditions: Mapping[str, Any] = template.get("Conditions", {})
        unknown = set(given or {}) - set(defaults)
        if unknown:
            raise KeyError(f"the template has no parameter(s) {sorted(unknown)}")

    def of(self, node: Any) -> Any:
        """`node` with its intrinsic functions resolved; NO_VALUE for AWS::NoValue."""
        if isinstance(node, list):
            return [v for v in (self.of(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Ref", "Fn::")):
            return {
                k: v for k, v in ((k, self.of(v)) for k, v in node.items()) if v is not NO_VALUE
            }
        ((function, argument),) = node.items()
        if function == "Ref":
            return NO_VALUE if argument == "AWS::NoValue" else self._ref(argument)
        if function == "Fn::If":
            condition, yes, no = argument
            return self.of(yes if self.holds(condition) else no)
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._ref(m.group(1)), argument)
        if function == "Fn::GetAtt":
            return f"<{'.'.join(argument)}>"
        raise ValueError(f"cfn_values does not resolve {function}")

    def holds(self, condition: str) -> bool:
        return self._true(self.conditions[condition])

    def _true(self, node: Mapping[str, Any]) -> bool:
        ((function, argument),) = node.items()
        if function == "Fn::Not":
            return not self._true(argument[0])
        if function == "Fn::Equals":
            return str(self.of(argument[0])) == str(self.of(argument[1]))
        if function == "Fn::And":
            return all(self._true(item) for item in argument)
        if function == "Fn::Or":
            return any(self._true(item) for item in argument)
        if function == "Condition":
            return self.holds(argument)
        raise ValueError(f"cfn_values does not evaluate {function}")

    def _ref(self, name: str) -> str:
        return self.parameters.get(name, f"<{name}>")
