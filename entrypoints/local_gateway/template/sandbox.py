"""One function's process, as Lambda runs one: started in the function's code folder with its
environment, it imports the handler once, then runs one invocation at a time.

Run as a script by `python -I` (functions.py): nothing of serve's is on its path, only the
function's folder and the installed packages. Requests come as JSON lines on stdin; answers go
back as JSON lines on the file descriptor named by argv[2], so that whatever the handler prints
(stdout, stderr) reaches the console as it would reach CloudWatch.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class Context:
    """Lambda's context object, from the fields the gateway sends."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__.update({k: v for k, v in fields.items() if k != "deadline_ms"})
        self.identity = None
        self.client_context = None
        self._deadline = time.time() + fields["deadline_ms"] / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(error: BaseException) -> dict[str, Any]:
    """What Lambda reports of an error the handler raised."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_exception(error)[1:],
    }


def main() -> None:
    handler_spec, answers = sys.argv[1], os.fdopen(int(sys.argv[2]), "w", buffering=1)
    sys.path.insert(0, os.getcwd())  # the code folder: Lambda's /var/task
    module_name, _, function_name = handler_spec.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        if not callable(handler):
            raise TypeError(f"{handler_spec} is a {type(handler).__name__}, not a function")
    except Exception as error:
        answers.write(json.dumps({"init_error": _error(error)}) + "\n")
        return
    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"result": handler(request["event"], Context(request["context"]))}
            text = json.dumps(answer)
        except Exception as error:
            traceback.print_exception(error, file=sys.stderr)
            text = json.dumps({"error": _error(error)})
        answers.write(text + "\n")


if __name__ == "__main__":
    main()
