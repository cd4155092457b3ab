"""What every session and the @connections API share while `switchboard serve` runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.limits import IDLE_TIMEOUT_SECONDS, MAX_CONNECTION_SECONDS
from entrypoints.local_gateway.authorizer.authorization import Authorizer
from entrypoints.local_gateway.lambda_runtime.events import Stage
from entrypoints.local_gateway.lambda_runtime.invoker import Invoker
from entrypoints.local_gateway.websocket.connections import ConnectionRegistry
from entrypoints.local_gateway.websocket.faults import DisconnectDrops
from entrypoints.local_gateway.websocket.routes import RouteSelector


@dataclass
class Runtime:
    stage: Stage
    invoker: Invoker
    selector: RouteSelector
    registry: ConnectionRegistry = field(default_factory=ConnectionRegistry)
    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    max_duration: float = MAX_CONNECTION_SECONDS
    # The $connect authorizer (--authorizer, --auth); None lets every handshake on to $connect.
    authorizer: Authorizer | None = None
    # --drop-disconnect-rate: $disconnect calls to drop, as AWS may (best-effort delivery).
    disconnect_drops: DisconnectDrops = field(default_factory=DisconnectDrops)
    # The Origin values a WebSocket upgrade may carry (its own page's, --allow-origin's); an
    # upgrade without Origin (CLI tools, SDKs) always passes, any other gets 403.
    allowed_origins: tuple[str, ...] = ()
    # Set at shutdown: new handshakes are refused while open sockets are closed.
    closing: bool = False
    # The routes with an integration (--template: a template's; None: every route, one handler).
    # A frame whose route has none gets API Gateway's "Forbidden"; $connect and $disconnect
    # without one just connect and close.
    integrated: frozenset[str] | None = None
    # Routes with a route response (--template): the integration's body goes back to the sender.
    two_way: frozenset[str] = frozenset()
    # The host:port put in the events' domainName (--template: serve's TLS listener, so that
    # https://{domainName}/{stage} reaches the @connections API); None: the Host header's.
    domain_name: str | None = None

    def integrates(self, route_key: str) -> bool:
        return self.integrated is None or route_key in self.integrated
