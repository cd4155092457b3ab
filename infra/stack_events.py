"""Watching a CloudFormation stack: its status, its new events as progress lines, its failures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

Printer = Callable[[str], None]


class DeployError(Exception):
    """A stack operation failed; the message says what failed and why."""


def describe(cfn: Any, stack: str) -> dict[str, Any] | None:
    """The stack's description, or None when it does not exist (or is deleted)."""
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
        return None
    return dict(stacks[0])


def event_ids(cfn: Any, stack: str) -> set[str]:
    """The ids of the events already there, so that watching prints only new ones."""
    return {e["EventId"] for e in _recent_events(cfn, stack)}


def watch(
    cfn: Any,
    stack_id: str,
    seen: set[str],
    out: Printer,
    poll_seconds: float,
    timeout_seconds: float,
) -> str:
    """Print new events until the stack settles; return its final status ("" once deleted).

    Settled means the stack's own closing event is among the new ones: right after
    ExecuteChangeSet, DescribeStacks may still show the previous operation's status.
    """
    deadline = time.monotonic() + timeout_seconds
    closed = False
    while True:
        for event in reversed(_recent_events(cfn, stack_id)):
            if event["EventId"] not in seen:
                seen.add(event["EventId"])
                out(format_event(event))
                closed = closed or _closes_the_stack(event)
        described = describe(cfn, stack_id)
        if described is None:
            return ""
        status = str(described["StackStatus"])
        if closed and not status.endswith("_IN_PROGRESS"):
            return status
        if time.monotonic() > deadline:
            raise DeployError(
                f"Gave up waiting after {timeout_seconds:.0f} s; the stack is {status}. "
                "Watch it in the CloudFormation console."
            )
        time.sleep(poll_seconds)


def _closes_the_stack(event: dict[str, Any]) -> bool:
    return event.get("ResourceType") == "AWS::CloudFormation::Stack" and not str(
        event.get("ResourceStatus", "")
    ).endswith("_IN_PROGRESS")


def failures(cfn: Any, stack_id: str, since: set[str]) -> list[str]:
    """The failed resource events that are not in `since`, oldest first, one line each."""
    return [
        format_event(e)
        for e in reversed(_recent_events(cfn, stack_id))
        if e["EventId"] not in since and str(e.get("ResourceStatus", "")).endswith("_FAILED")
    ]


def format_event(event: dict[str, Any]) -> str:
    stamp = event["Timestamp"].strftime("%H:%M:%S") if "Timestamp" in event else "--:--:--"
    line = (
        f"  {stamp}  {event.get('ResourceStatus', ''):<28} "
        f"{event.get('LogicalResourceId', '')} ({event.get('ResourceType', '')})"
    )
    reason = event.get("ResourceStatusReason")
    return f"{line}: {reason}" if reason else line


def _recent_events(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """The newest page of events (newest first); one page holds a deploy's worth of progress."""
    try:
        return list(cfn.describe_stack_events(StackName=stack).get("StackEvents", []))
    except ClientError as error:
        if "does not exist" in str(error):
            return []
        raise
