"""The function named by --handler or --authorizer: `package.module:function`, with clear errors."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


class HandlerError(ValueError):
    """The --handler (or --authorizer) value does not name a callable; the message says why."""


def load_handler(spec: str, option: str = "--handler") -> Handler:
    """Import `package.module:function` (a dot before the function works too, as in Lambda)."""
    module_name, sep, function_name = spec.rpartition(":")
    if not sep:
        module_name, sep, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise HandlerError(f"{option} {spec!r} must look like module:function")
    # The user's code lives in the folder `serve` runs from; a console script's sys.path starts
    # at its own bin folder instead. Appended, not put first: a file or folder there named like
    # an installed package (boto3.py, aws_lambda_powertools/) must not shadow it. (`python -m`
    # puts the current folder first itself, before any of this code runs.)
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerError(f"cannot import {module_name!r} for {option} {spec!r}: {exc}") from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        where = getattr(module, "__file__", None) or "a namespace package"
        raise HandlerError(
            f"module {module_name!r} ({where}) has no {function_name!r} ({option} {spec!r})"
        )
    if not callable(handler):
        raise HandlerError(f"{spec!r} is a {type(handler).__name__}, not a function")
    return handler  # type: ignore[no-any-return]


class OnFirstCall:
    """A handler named by `spec`, imported on its first call rather than at start: the fan-out
    worker and the publish handler, which many `serve` runs never call (and another app's
    --handler never does)."""

    def __init__(self, spec: str, option: str) -> None:
        self._spec = spec
        self._option = option
        self._lock = threading.Lock()
        self._handler: Handler | None = None

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            if self._handler is None:
                self._handler = load_handler(self._spec, option=self._option)
        return self._handler(event, context)
