"""A local @connections endpoint: answers posts as API Gateway does, on cue, and records them.

Long: it answers as API Gateway does (cues for each status) and records what it got.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from domain.limits import MAX_PAYLOAD_BYTES

# Status -> (x-amzn-ErrorType, message), as API Gateway answers PostToConnection.
ERRORS = {
    400: ("BadRequestException", "Invalid connectionId: bad id"),
    403: ("ForbiddenException", "Forbidden"),
    410: ("GoneException", "Gone"),
    413: ("PayloadTooLargeException", "Payload too large"),
    429: ("LimitExceededException", "Rate exceeded"),
    500: ("InternalServerErrorException", "Internal server error"),
}


@dataclass(frozen=True)
class Received:
    """One request as it reached the sink."""

    connection_id: str  # decoded from the path
    raw_path: str  # as sent, percent-encoding included
    body: bytes
    authorization: str | None
    signature_valid: bool | None  # None when the access key is not one the sink knows
    status: int  # what the sink answered

    @property
    def access_key(self) -> str | None:
        if not self.authorization or "Credential=" not in self.authorization:
            return None
        return self.authorization.split("Credential=", 1)[1].split("/", 1)[0]


class HttpSink:
    """POST /{stage}/@connections/{id} on 127.0.0.1, served from a background thread.

    Every id gets 200 unless cued: `cue(id, 429, 429)` answers the next two posts with 429,
    `gone(id)` answers 410 for good, `stall(id, seconds)` delays the answer.
    """

    def __init__(self, stage: str = "test", secrets: dict[str, str] | None = None) -> None:
        self.stage = stage
        self._secrets = dict(secrets or {})  # access key -> secret, to verify signatures
        self._lock = threading.Lock()
        self._cues: defaultdict[str, list[int]] = defaultdict(list)
        self._stall_first: dict[str, float] = {}
        self._gone: set[str] = set()
        self._stalls: dict[str, float] = {}
        self.received: list[Received] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.stage}"

    def start(self) -> HttpSink:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        # A stalled answer may still be pending: end it here, not in the garbage collector.
        asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> HttpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def cue(self, connection_id: str, *statuses: int) -> None:
        with self._lock:
            self._cues[connection_id].extend(statuses)

    def gone(self, connection_id: str) -> None:
        with self._lock:
            self._gone.add(connection_id)

    def stall(self, connection_id: str, seconds: float) -> None:
        with self._lock:
            self._stalls[connection_id] = seconds

    def stall_first(self, connection_id: str, seconds: float) -> None:
        """The next post to this id is taken (recorded as delivered: the frame is on its way)
        but answered only after `seconds`; the ones after it are answered at once."""
        with self._lock:
            self._stall_first[connection_id] = seconds

    def bodies(self, connection_id: str) -> list[bytes]:
        """What the sink accepted (answered 200) for this id, in order."""
        with self._lock:
            return [
                r.body
                for r in self.received
                if r.connection_id == connection_id and r.status == 200
            ]

    async def _start(self) -> None:
        app = web.Application(client_max_size=4 * MAX_PAYLOAD_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A short shutdown: a stalled answer must not hold the test's teardown for long.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _handle(self, request: web.Request) -> web.Response:
        parts = request.raw_path.split("?", 1)[0].split("/")
        if (
            request.method != "POST"
            or len(parts) != 4
            or parts[1:3] != [self.stage, "@connections"]
        ):
            return _error(404, "NotFoundException", f"no route for {request.method} {request.path}")
        connection_id = unquote(parts[3])
        body = await request.read()
        with self._lock:
            stall = self._stalls.get(connection_id, 0.0)
            late = self._stall_first.pop(connection_id, 0.0)
            cues = self._cues.get(connection_id)
            status = 410 if connection_id in self._gone else (cues.pop(0) if cues else 200)
        if len(body) > MAX_PAYLOAD_BYTES:
            status = 413
        auth = request.headers.get("Authorization")
        received = Received(
            connection_id, request.raw_path, body, auth, self._verify(request, body), status
        )
        if late:  # taken now, answered too late for the client to know
            with self._lock:
                self.received.append(received)
            await asyncio.sleep(late)
            return web.Response(status=status)
        if stall:
            await asyncio.sleep(stall)
        with self._lock:
            self.received.append(received)
        if status == 200:
            return web.Response(status=200)
        kind, message = ERRORS.get(
            status, ("InternalServerErrorException", "Internal server error")
        )
        return _error(status, kind, message)

    def _verify(self, request: web.Request, body: bytes) -> bool | None:
        """Recompute the SigV4 signature with botocore from what arrived, if the key is known."""
        auth = request.headers.get("Authorization", "")
        fields = dict(
            part.strip().split("=", 1)
            for part in auth.removeprefix("AWS4-HMAC-SHA256 ").split(",")
            if "=" in part
        )
        scope = fields.get("Credential", "").split("/")
        if len(scope) != 5 or scope[0] not in self._secrets:
            return None
        access_key, _date, region, service, _ = scope
        signed = {
            name: request.headers.get(name, "") for name in fields["SignedHeaders"].split(";")
        }
        url = f"http://{request.host}{request.raw_path}"
        aws_request = AWSRequest(method=request.method, url=url, data=body, headers=signed)
        aws_request.context["timestamp"] = request.headers.get("X-Amz-Date", "")
        signer = SigV4Auth(Credentials(access_key, self._secrets[access_key]), service, region)
        canonical = signer.canonical_request(aws_request)
        expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        return expected == fields.get("Signature")


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"message": message}).encode(),
        content_type="application/json",
        headers={"x-amzn-ErrorType": kind},
    )


async def _cancel_the_rest() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
