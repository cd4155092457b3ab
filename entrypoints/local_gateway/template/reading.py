"""A user's template as plain data: CloudFormation (YAML with its short tags, or JSON), or SAM
expanded by aws-sam-translator as CloudFormation's transform does; and each function's code
folder, which a deployed template would have uploaded to S3."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_LOCAL_BUCKET = "switchboard-local"  # stands for the code folders while SAM expands the template


class TemplateError(ValueError):
    """The template cannot be served; the message names the resource and property."""


@dataclass(frozen=True)
class Template:
    path: Path
    resources: dict[str, dict[str, Any]]
    parameters: dict[str, dict[str, Any]]
    code: dict[str, Path]  # a function's logical id: the folder its code comes from
    conditions: dict[str, Any]
    packaged: tuple[str, ...] = ()  # the functions whose Code is an S3 object: from --code


def read_template(path: Path, region: str, code_folder: Path | None = None) -> Template:
    """`code_folder`: the code of every function whose template names an S3 object (a package
    that a deploy uploads), such as this project's own template."""
    from samtranslator.yaml_helper import yaml_parse

    try:
        data = yaml_parse(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TemplateError(f"cannot read the template {path}: {error}") from error
    except Exception as error:  # YAML's and JSON's errors say where
        raise TemplateError(f"{path} is not YAML or JSON: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template: it has no Resources")
    folder = path.resolve().parent
    code: dict[str, Path] = {}
    transforms = data.get("Transform") or []
    if SAM_TRANSFORM in (transforms if isinstance(transforms, list) else [transforms]):
        data = _expand_sam(data, folder, code, region)
    packaged = []
    for name, resource in data["Resources"].items():
        if resource.get("Type") == "AWS::Lambda::Function" and name not in code:
            properties = resource.get("Properties", {})
            code[name] = _lambda_code(name, properties, folder, code_folder)
            packaged += [name] if isinstance(properties.get("Code"), dict) else []
    parameters, conditions = data.get("Parameters") or {}, data.get("Conditions") or {}
    return Template(path, data["Resources"], parameters, code, conditions, tuple(packaged))


def _expand_sam(
    data: dict[str, Any], folder: Path, code: dict[str, Path], region: str
) -> dict[str, Any]:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    data = copy.deepcopy(data)
    defaults = (data.get("Globals") or {}).get("Function") or {}
    for name, resource in data["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.setdefault("Properties", {})
        if "InlineCode" in properties:
            raise TemplateError(f"{name}: InlineCode is not served; give CodeUri a folder")
        uri = properties.get("CodeUri", defaults.get("CodeUri", "."))
        if not isinstance(uri, str) or uri.startswith("s3://"):
            raise TemplateError(f"{name}: CodeUri {uri!r} is not a local folder")
        code[name] = _folder(name, "CodeUri", folder / uri)
        properties["CodeUri"] = f"s3://{_LOCAL_BUCKET}/{name}"
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator asks boto3 for the region
    try:
        return dict(transform(data, {}, _NoManagedPolicies()))
    except InvalidDocumentException as error:
        causes = "; ".join(str(cause) for cause in error.causes) or str(error)
        raise TemplateError(f"SAM cannot expand the template: {causes}") from error
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous


class _NoManagedPolicies:
    """IAM is not reached (nor enforced) locally: managed policy names stay unresolved."""

    def load(self) -> dict[str, str]:
        return {}


def _lambda_code(
    name: str, properties: dict[str, Any], folder: Path, code_folder: Path | None
) -> Path:
    code = properties.get("Code")
    if isinstance(code, str):  # `aws cloudformation package` style: a local folder
        return _folder(name, "Code", folder / code)
    if isinstance(code, dict) and "S3Key" in code and code_folder is not None:
        return _folder(name, "Code (serve --code)", code_folder)
    raise TemplateError(
        f"{name}: Code must name a local folder to run here (an S3 object needs serve --code "
        "FOLDER; a ZipFile is not served)"
    )


def _folder(name: str, prop: str, path: Path) -> Path:
    if not path.is_dir():
        raise TemplateError(f"{name}: {prop} {path} is not a folder")
    return path.resolve()
