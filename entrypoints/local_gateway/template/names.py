"""What each resource is called locally: its Ref value and its Fn::GetAtt attributes, as
CloudFormation would give them for a stack named `stack` in `region`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entrypoints.local_gateway.lambda_runtime.lambda_context import ACCOUNT_ID
from entrypoints.local_gateway.template.intrinsics import Resolver, Unresolvable
from entrypoints.local_gateway.template.reading import TemplateError

STACK = "local"


def parameter_values(
    parameters: Mapping[str, Mapping[str, Any]], given: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each parameter's value (--parameter's, else its Default), and why the others have none."""
    unknown = sorted(set(given) - set(parameters))
    if unknown:
        raise TemplateError(f"--parameter {unknown[0]}: the template has no such parameter")
    values, missing = {}, {}
    for name, declared in parameters.items():
        if name in given:
            values[name] = given[name]
        elif "Default" in declared:
            default = declared["Default"]
            values[name] = (
                ",".join(map(str, default)) if isinstance(default, list) else str(default)
            )
        else:
            missing[name] = f"parameter {name} has no Default: serve --parameter {name}=VALUE"
    return values, missing


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
    parameters: tuple[Mapping[str, str], Mapping[str, str]],
    conditions: Mapping[str, Any],
    region: str,
    api_id: str,
    domain: str,
    sqs_endpoint: str = "http://127.0.0.1",
) -> Resolver:
    """Every resource's Ref and attributes, from its physical name (which may itself Ref a
    parameter: resolved with the parameters first)."""
    values, missing = parameters
    refs: dict[str, str] = {**pseudo_parameters(region), **values}
    early = Resolver(refs, {}, conditions, missing)
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
    return Resolver(refs, attributes, conditions, missing)


def physical(early: Resolver, name: str, properties: Mapping[str, Any], key: str) -> str:
    """The name the template gives (resolved), else CloudFormation's pattern: stack-logical."""
    if key not in properties:
        return f"{STACK}-{name}"
    try:
        return str(early.resolve(properties[key]))
    except Unresolvable as error:
        raise TemplateError(f"{name}.{key}: {error}") from error
