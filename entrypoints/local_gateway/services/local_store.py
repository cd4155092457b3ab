"""The store behind `serve --store`: memory, or DynamoDB at an endpoint or in embedded moto."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, MutableMapping

log = logging.getLogger("local_gateway")


@contextlib.contextmanager
def prepared_store(
    env: MutableMapping[str, str], store: str, endpoint: str | None, table: str, region: str
) -> Iterator[str | None]:
    """Set STORE (and DYNAMODB_ENDPOINT) in `env`; with DynamoDB, make sure the table exists.

    With no endpoint, a moto server of our own (a child process, on a free loopback port)
    stands in for DynamoDB and stops on exit. Yields the endpoint; None for the memory store.
    """
    env["STORE"] = store
    if store == "memory":
        yield None
        return
    if endpoint:
        env["DYNAMODB_ENDPOINT"] = endpoint
        _ensure_table(endpoint, table, region)
        yield endpoint
        return
    from entrypoints.local_gateway.services.moto_process import MotoStartError, moto_server

    try:
        with moto_server() as endpoint:
            env["DYNAMODB_ENDPOINT"] = endpoint
            log.info("embedded moto DynamoDB at %s", endpoint)
            _ensure_table(endpoint, table, region)
            yield endpoint
    except MotoStartError as exc:
        raise StoreSetupError(str(exc)) from exc


def _ensure_table(endpoint: str, table: str, region: str) -> None:
    import boto3

    from infra.tables import ensure_table

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    try:
        created = ensure_table(client, table)
    except Exception as exc:
        raise StoreSetupError(f"cannot prepare table {table!r} at {endpoint}: {exc}") from exc
    log.info("DynamoDB table %s %s at %s", table, "created" if created else "found", endpoint)


class StoreSetupError(RuntimeError):
    """The DynamoDB endpoint could not be reached or its table could not be made ready."""
