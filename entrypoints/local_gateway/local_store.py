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

    With no endpoint, an embedded moto server on a free loopback port stands in for DynamoDB
    and stops on exit. Yields the DynamoDB endpoint, or None for the memory store.
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
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        env["DYNAMODB_ENDPOINT"] = endpoint
        log.info("embedded moto DynamoDB at %s", endpoint)
        _ensure_table(endpoint, table, region)
        yield endpoint
    finally:
        server.stop()


def _ensure_table(endpoint: str, table: str, region: str) -> None:
    import boto3

    from adapters.dynamodb_schema import ensure_table

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    try:
        created = ensure_table(client, table)
    except Exception as exc:
        raise StoreSetupError(f"cannot prepare table {table!r} at {endpoint}: {exc}") from exc
    log.info("DynamoDB table %s %s at %s", table, "created" if created else "found", endpoint)


class StoreSetupError(RuntimeError):
    """The DynamoDB endpoint could not be reached or its table could not be made ready."""
