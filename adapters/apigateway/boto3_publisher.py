"""Publisher through boto3's apigatewaymanagementapi client, on a bounded thread pool."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from adapters.apigateway.outcomes import outcome_of, screened
from domain.model import PostOutcome
from domain.ports import Publisher

log = logging.getLogger(__name__)


def management_client(
    endpoint: str,
    region: str,
    concurrency: int,
    session: boto3.session.Session | None = None,
    connect_timeout: float = 2.0,
    read_timeout: float = 5.0,
) -> Any:
    """An @connections client whose pool fits `concurrency` threads and that never retries.

    botocore would otherwise retry 429 and 5xx itself (up to 3 or 5 times, with its own
    backoff) inside one post_to_connection call: the domain's Fanout already retries with
    jitter under a deadline shared by the whole broadcast, and nested retries would multiply
    the attempts and blow that deadline. One attempt here; the domain decides the rest.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    config = Config(
        # botocore's pool defaults to 10: wider thread pools would discard connections
        # and pay a TLS handshake per post.
        max_pool_connections=concurrency,
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    session = session or boto3.session.Session()
    return session.client(
        "apigatewaymanagementapi", endpoint_url=endpoint, region_name=region, config=config
    )


class Boto3Publisher(Publisher):
    """Posts with `client.post_to_connection`, at most `concurrency` posts in flight."""

    def __init__(self, client: Any, concurrency: int = 32) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self._client = client  # boto3 clients are thread-safe; built before the threads start
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="post")

    def post(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        ids, settled = screened(payload, connection_ids)
        if settled is not None:
            return settled
        outcomes = self._pool.map(lambda cid: self._post_one(payload, cid), ids)
        return dict(zip(ids, outcomes, strict=True))

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def disconnect(self, connection_id: str) -> PostOutcome:
        return self._call("close", connection_id, self._client.delete_connection)

    def _post_one(self, payload: bytes, connection_id: str) -> PostOutcome:
        return self._call("post to", connection_id, self._client.post_to_connection, payload)

    def _call(
        self, what: str, connection_id: str, call: Callable[..., Any], data: bytes | None = None
    ) -> PostOutcome:
        extra = {} if data is None else {"Data": data}
        try:
            call(ConnectionId=connection_id, **extra)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = error.response.get("Error", {}).get("Code", "")
            outcome = outcome_of(status, code)
            if outcome is PostOutcome.REJECTED:
                log.warning("%s %s rejected: %s", what, connection_id, error)
            return outcome
        except BotoCoreError as error:
            # Connection refused, timeouts, connections closed mid-request: transient.
            log.debug("%s %s failed: %s", what, connection_id, error)  # counted as FAILED
            return PostOutcome.FAILED
        except Exception:
            log.exception("unexpected error: %s %s", what, connection_id)
            return PostOutcome.FAILED
        return PostOutcome.DELIVERED
