"""botocore's errors, after its own retries, as the ports' StoreError; lazily for page reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from domain.errors import StoreError


@contextmanager
def store_errors(action: str) -> Iterator[None]:
    """Turn botocore's errors into StoreError saying what could not be done."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise StoreError(f"DynamoDB could not {action}: {error}") from error


def guarded(ids: Iterator[str], action: str) -> Iterator[str]:
    """The ids, page by page: a caller can start posting before the last page is read."""
    with store_errors(action):
        yield from ids
