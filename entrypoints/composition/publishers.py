"""The publishers, for container.py (which alone calls these): the configured one per
@connections endpoint, or the in-process one when this process serves the endpoint itself.

The HTTP publishers are imported when first built: a cold start that only connects never
loads aiohttp or boto3's management client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from adapters.apigateway import local_endpoints
from adapters.apigateway.inprocess_publisher import InProcessPublisher
from adapters.apigateway.local_endpoints import Deliver
from domain.ports import Publisher


def boto3_publisher(endpoint: str, region: str, concurrency: int) -> Publisher:
    from adapters.apigateway.boto3_publisher import Boto3Publisher, management_client

    client = management_client(endpoint, region, concurrency)
    return Boto3Publisher(client, concurrency)


def lean_publisher(endpoint: str, region: str, concurrency: int) -> Publisher:
    from adapters.apigateway.lean_publisher import LeanPublisher

    publisher: Publisher = LeanPublisher(endpoint, region=region, concurrency=concurrency)
    return publisher


class Publishers:
    """One publisher per @connections endpoint, built on first use and kept for the process.

    An endpoint served by this very process (`switchboard serve` registers its own in
    adapters/local_endpoints) gets the in-process publisher instead: the gateway writes the
    frames with no HTTP round trip. Looked up on every call, so a gateway that starts or stops
    later is honoured. On AWS nothing registers, so the configured publisher is always used;
    the handler's code is the same either way.
    """

    def __init__(
        self,
        factory: Callable[..., Publisher],
        local: Callable[[str], Deliver | None] = local_endpoints.lookup,
    ) -> None:
        self._factory = factory
        self._local = local
        self._lock = threading.Lock()
        self._by_endpoint: dict[str, Publisher] = {}

    def for_endpoint(self, endpoint: str) -> Publisher:
        deliver = self._local(endpoint)
        if deliver is not None:
            return InProcessPublisher(deliver)  # a wrapper, cheaper than any lookup cache
        with self._lock:
            publisher = self._by_endpoint.get(endpoint)
            if publisher is None:
                publisher = self._by_endpoint[endpoint] = self._factory(endpoint=endpoint)
            return publisher
