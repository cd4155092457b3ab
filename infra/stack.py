"""Create, update (through a change set) and delete the Switchboard stack."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from infra.aws import Aws
from infra.stack_events import DeployError, Printer, describe, event_ids, failures, watch

# The template creates unnamed IAM roles: CAPABILITY_IAM is the acknowledgement it needs.
CAPABILITIES = ["CAPABILITY_IAM"]
POLL_SECONDS = 5.0
TIMEOUT_SECONDS = 3600.0
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


def deploy(
    aws: Aws,
    stack: str,
    template_body: str,
    template_parameters: set[str],
    parameters: Mapping[str, str],
    out: Printer = print,
    poll_seconds: float = POLL_SECONDS,
) -> dict[str, str]:
    """Create or update `stack` and return its outputs; raise DeployError on failure."""
    unknown = sorted(set(parameters) - template_parameters)
    if unknown:
        raise DeployError(
            f"Unknown parameter(s) {', '.join(unknown)}; the template takes "
            f"{', '.join(sorted(template_parameters))}"
        )
    cfn = aws.client("cloudformation")
    existing = describe(cfn, stack)
    change_type = _change_type(stack, existing)
    given = [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())]
    # Like `aws cloudformation deploy`: an update keeps the values not given this time.
    kept = [
        {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
        for p in (existing or {}).get("Parameters", [])
        if p["ParameterKey"] not in parameters and p["ParameterKey"] in template_parameters
    ]
    name = f"switchboard-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    out(f"Creating change set {name} ({change_type}) for stack {stack}")
    created = cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=change_type,
        TemplateBody=template_body,
        Parameters=given + (kept if change_type == "UPDATE" else []),
        Capabilities=CAPABILITIES,
    )
    change_set = created["Id"]
    stack_id = created["StackId"]
    if not _change_set_ready(cfn, change_set, poll_seconds):
        out("No changes: the stack is up to date")
        cfn.delete_change_set(ChangeSetName=change_set)
        return outputs(cfn, stack_id)
    seen = event_ids(cfn, stack_id)
    cfn.execute_change_set(ChangeSetName=change_set)
    status = watch(cfn, stack_id, set(seen), out, poll_seconds, TIMEOUT_SECONDS)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        failed = failures(cfn, stack_id, seen)
        detail = "\n".join(failed) if failed else "  (no failed resource events)"
        raise DeployError(f"Stack {stack} ended {status or 'deleted'}. Failed resources:\n{detail}")
    return outputs(cfn, stack_id)


def delete(aws: Aws, stack: str, out: Printer = print, poll_seconds: float = POLL_SECONDS) -> None:
    """Delete the stack and wait; raise DeployError when it does not exist or fails to go."""
    cfn = aws.client("cloudformation")
    existing = describe(cfn, stack)
    if existing is None:
        raise DeployError(f"Stack {stack} does not exist in {aws.region_name}")
    stack_id = str(existing["StackId"])
    seen = event_ids(cfn, stack_id)
    out(f"Deleting stack {stack}")
    cfn.delete_stack(StackName=stack_id)
    status = watch(cfn, stack_id, set(seen), out, poll_seconds, TIMEOUT_SECONDS)
    if status not in ("", "DELETE_COMPLETE"):
        detail = "\n".join(failures(cfn, stack_id, seen)) or "  (no failed resource events)"
        raise DeployError(f"Stack {stack} ended {status}. Failed resources:\n{detail}")


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = describe(cfn, stack) or {}
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def physical_id(aws: Aws, stack: str, logical_id: str) -> str | None:
    """The name AWS gave one of the stack's resources, or None when there is none."""
    cfn = aws.client("cloudformation")
    try:
        detail = cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return detail["StackResourceDetail"].get("PhysicalResourceId") or None


def _change_type(stack: str, existing: dict[str, Any] | None) -> str:
    if existing is None or existing["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"
    status = existing["StackStatus"]
    if status == "ROLLBACK_COMPLETE":  # a failed first create can only be deleted
        raise DeployError(
            f"Stack {stack} is ROLLBACK_COMPLETE after a failed create and cannot be updated; "
            f"run `switchboard destroy --stack-name {stack}` and deploy again"
        )
    if status.endswith("_IN_PROGRESS"):
        raise DeployError(f"Stack {stack} is busy ({status}); try again when it settles")
    return "UPDATE"


def _change_set_ready(cfn: Any, change_set: str, poll_seconds: float) -> bool:
    """Wait for the change set; False when it holds no changes, DeployError when it failed."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        described = cfn.describe_change_set(ChangeSetName=change_set)
        status, reason = described["Status"], described.get("StatusReason", "")
        if status == "CREATE_COMPLETE":
            return True
        if status == "FAILED":
            if any(marker in reason for marker in _NO_CHANGES):
                return False
            raise DeployError(f"The change set failed: {reason}")
        if time.monotonic() > deadline:
            raise DeployError(f"Gave up waiting for the change set ({status})")
        time.sleep(poll_seconds)
