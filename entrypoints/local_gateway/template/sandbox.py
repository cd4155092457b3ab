"""One function's process, as Lambda runs one: started in the function's code folder with its
environment, it imports the handler once, then runs one invocation at a time.

Run as a script by `python -I -u` (functions.py): nothing of serve's is on its path, only the
function's folder and the installed packages. Requests come as JSON lines on stdin. Whatever the
handler prints (stdout and stderr) and the answers share one pipe, the file descriptor named by
argv[2], in the order written: an answer is a line that starts with MARKER, and every line before
it belongs to that invocation, as CloudWatch would show it.
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


MARKER = "\x1eswitchboard-answer "


def answer(fd: int, value: dict[str, Any]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(fd, (MARKER + json.dumps(value) + "\n").encode())


def main() -> None:
    handler_spec, fd = sys.argv[1], int(sys.argv[2])
    os.dup2(fd, 1)  # the handler's stdout and stderr: the same pipe, before its answers
    os.dup2(fd, 2)
    sys.path.insert(0, os.getcwd())  # the code folder: Lambda's /var/task
    module_name, _, function_name = handler_spec.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        if not callable(handler):
            raise TypeError(f"{handler_spec} is a {type(handler).__name__}, not a function")
    except Exception as error:
        traceback.print_exception(error, file=sys.stderr)
        answer(fd, {"init_error": _error(error)})
        return
    answer(fd, {"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = {"result": handler(request["event"], Context(request["context"]))}
            json.dumps(result)  # what cannot go back as JSON fails the invocation, as on Lambda
        except Exception as error:
            traceback.print_exception(error, file=sys.stderr)
            result = {"error": _error(error)}
        answer(fd, result)


if __name__ == "__main__":
    main()
