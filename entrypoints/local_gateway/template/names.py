"""What each resource is called locally: its Ref value and its Fn::GetAtt attributes, as
CloudFormation would give them for a stack named `stack` in `region`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entrypoints.local_gateway.lambda_runtime.lambda_context import ACCOUNT_ID
from entrypoints.local_gateway.template.intrinsics import Resolver, Unresolvable
from entrypoints.local_gateway.template.reading import TemplateError

STACK = "local"


def parameter_values(parameters: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    values = {}
    for name, declared in parameters.items():
        if "Default" not in declared:
            raise TemplateError(f"Parameters.{name}: no Default, and serve takes no values")
        default = declared["Default"]
        values[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
    return values


def pseudo_parameters(region: str) -> dict[str, str]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": STACK,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{STACK}/local",
        "AWS::URLSuffix": "amazonaws.com",
    }


def resolver(
    resources: Mapping[str, Mapping[str, Any]],
    parameters: Mapping[str, str],
    region: str,
    api_id: str,
    domain: str,
    sqs_endpoint: str = "http://127.0.0.1",
) -> Resolver:
    """Every resource's Ref and attributes, from its physical name (which may itself Ref a
    parameter: resolved with the parameters first)."""
    refs: dict[str, str] = {**pseudo_parameters(region), **parameters}
    early = Resolver(refs, {})
    attributes: dict[tuple[str, str], str] = {}
    arn = f"{region}:{ACCOUNT_ID}"
    for name, resource in resources.items():
        kind, properties = resource.get("Type", ""), resource.get("Properties") or {}
        if kind == "AWS::DynamoDB::Table":
            table = physical(early, name, properties, "TableName")
            refs[name] = table
            attributes[(name, "Arn")] = f"arn:aws:dynamodb:{arn}:table/{table}"
            attributes[(name, "StreamArn")] = f"arn:aws:dynamodb:{arn}:table/{table}/stream/local"
        elif kind == "AWS::Lambda::Function":
            function = physical(early, name, properties, "FunctionName")
            refs[name] = function
            attributes[(name, "Arn")] = f"arn:aws:lambda:{arn}:function:{function}"
        elif kind == "AWS::ApiGatewayV2::Api" and properties.get("ProtocolType") == "WEBSOCKET":
            refs[name] = api_id
            attributes[(name, "ApiId")] = api_id
            attributes[(name, "ApiEndpoint")] = f"wss://{domain}"
        elif kind == "AWS::SQS::Queue":
            queue = physical(early, name, properties, "QueueName")
            if properties.get("FifoQueue") in (True, "true") and not queue.endswith(".fifo"):
                queue += ".fifo"
            refs[name] = f"{sqs_endpoint}/{ACCOUNT_ID}/{queue}"
            attributes[(name, "Arn")] = f"arn:aws:sqs:{arn}:{queue}"
            attributes[(name, "QueueName")] = queue
            attributes[(name, "QueueUrl")] = refs[name]
        elif kind == "AWS::IAM::Role":
            role = physical(early, name, properties, "RoleName")
            refs[name] = role
            attributes[(name, "Arn")] = f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
        else:
            refs[name] = name  # routes, integrations, authorizers...: their logical ids
    return Resolver(refs, attributes)


def physical(early: Resolver, name: str, properties: Mapping[str, Any], key: str) -> str:
    """The name the template gives (resolved), else CloudFormation's pattern: stack-logical."""
    if key not in properties:
        return f"{STACK}-{name}"
    try:
        return str(early.resolve(properties[key]))
    except Unresolvable as error:
        raise TemplateError(f"{name}.{key}: {error}") from error
