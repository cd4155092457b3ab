"""In-process publisher: posts handed to a gateway in this process, with no HTTP in between.

Chosen by the container only when the @connections endpoint is served by this very process
(`switchboard serve`, see local_endpoints.py); on AWS there is never one. The outcomes are the
ones the HTTP API would answer, so the domain cannot tell the difference.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from adapters.apigateway.local_endpoints import Deliver
from adapters.apigateway.outcomes import screened
from domain.model import PostOutcome
from domain.ports import Publisher

log = logging.getLogger(__name__)


class InProcessPublisher(Publisher):
    """Hands each batch to `deliver` in one call; each distinct id is posted once."""

    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def post(self, payload: bytes, connection_ids: Sequence[str]) -> Mapping[str, PostOutcome]:
        ids, settled = screened(payload, connection_ids)
        if settled is not None:
            return settled
        try:
            outcomes = self._deliver(payload, ids)
        except Exception:
            # The gateway is stopping or stuck: transient for the domain, which retries.
            log.exception("in-process delivery of a batch of %d failed", len(ids))
            return dict.fromkeys(ids, PostOutcome.FAILED)
        missing = [cid for cid in ids if cid not in outcomes]
        if missing:
            log.error("in-process delivery left %d ids unanswered: %s", len(missing), missing[0])
        return {cid: outcomes.get(cid, PostOutcome.FAILED) for cid in ids}

    def disconnect(self, connection_id: str) -> PostOutcome:
        try:
            return self._deliver.disconnect(connection_id)
        except Exception:
            log.exception("in-process close of %s failed", connection_id)
            return PostOutcome.FAILED
