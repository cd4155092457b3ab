"""A REQUEST authorizer for the e2e tests: `?as=` picks its answer; each event it gets is recorded.

`as` absent: Allow with a context; `wildcard`: Allow on any API's $connect, one statement
without a list; `deny`: an explicit Deny; `deny-wins`: Allow on everything and Deny on this
route; `elsewhere`: an Allow for another API only; `unauthorized`: the "Unauthorized" error
(401 on AWS); `raise`: another error; `malformed`: not a policy; `nested`: a context value
that is an object (500 on AWS).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

CONTEXT = {"tenant": "acme", "seats": 7, "admin": False}
_lock = threading.Lock()


def handler(event: dict[str, Any], context: Any) -> Any:
    with _lock, open(os.environ["RECORDING_FILE"] + ".authorizer", "a", encoding="utf-8") as out:
        out.write(json.dumps(event) + "\n")
    answer = (event.get("queryStringParameters") or {}).get("as", "allow")
    if answer == "unauthorized":
        raise Exception("Unauthorized")
    if answer == "raise":
        raise RuntimeError("the authorizer failed on purpose")
    if answer == "malformed":
        return "yes, let them in"
    statements: Any = [_statement("Allow", event["methodArn"])]
    if answer == "deny":
        statements = [_statement("Deny", event["methodArn"])]
    elif answer == "elsewhere":
        statements = [_statement("Allow", "arn:aws:execute-api:us-east-1:123456789012:other0/*")]
    elif answer == "deny-wins":
        statements = [_statement("Allow", "*"), _statement("Deny", event["methodArn"])]
    elif answer == "wildcard":
        statements = _statement("Allow", "arn:aws:execute-api:*:*:*/*/$connect")
    extra = {"nested": {"not": "allowed"}} if answer == "nested" else {}
    return {
        "principalId": "p-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": {**CONTEXT, **extra},
    }


def _statement(effect: str, resource: str) -> dict[str, str]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
