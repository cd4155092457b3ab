"""A secret kept in SSM Parameter Store (SecureString), read once and cached for a while."""

from __future__ import annotations

import threading
import time
from typing import Any


class SsmSecret:
    """Calls GetParameter with decryption at most once per `ttl_seconds` (rotation-friendly)."""

    def __init__(self, client: Any, name: str, ttl_seconds: float = 300.0) -> None:
        self._client = client
        self._name = name
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._value: str | None = None
        self._fetched_at = 0.0

    def __call__(self, _token: str = "") -> str:
        with self._lock:
            if self._value is None or time.monotonic() - self._fetched_at > self._ttl:
                response = self._client.get_parameter(Name=self._name, WithDecryption=True)
                self._value = response["Parameter"]["Value"]
                self._fetched_at = time.monotonic()
            return self._value
