"""Read infra/template.yaml: YAML that knows CloudFormation's short tags (!Ref, !Sub, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).with_name("template.yaml")


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data; `!Ref X` becomes {"Ref": "X"}, `!Sub s` {"Fn::Sub": s}."""
    try:
        import yaml
    except ImportError as error:  # PyYAML ships with the `local` extra, not on Lambda
        raise RuntimeError(
            "Reading the template needs PyYAML: pip install 'switchboard[local]'"
        ) from error

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":  # the short form "Res.Attr" means ["Res", "Attr"]
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    Loader.add_multi_constructor("!", construct)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template (no Resources)")
    return data


def lambda_python_version(template: dict[str, Any]) -> str:
    """The Python version of the template's Lambda runtime: "python3.13" -> "3.13"."""
    runtimes = {
        resource["Properties"]["Runtime"]
        for resource in template["Resources"].values()
        if resource.get("Type") == "AWS::Lambda::Function"
    }
    if len(runtimes) != 1:
        raise ValueError(f"expected one Lambda runtime in the template, found {sorted(runtimes)}")
    runtime = str(runtimes.pop())
    if not runtime.startswith("python3."):
        raise ValueError(f"the Lambda runtime {runtime!r} is not a Python 3 runtime")
    return runtime.removeprefix("python")
