"""One WebSocket connection under locust: connect, join (or rejoin with since), send, leave or
drop, and a receiving greenlet that hands the server's frames to its Inbox (ws_inbox.py).
Long (~190 lines): one locust user's whole life on a socket, recovery included.

websocket-client does the framing; locust's gevent monkey-patching makes its blocking socket
calls cooperative, so every connection's receiver is one greenlet. Everything measured goes
to locust's statistics through `events.request` (request type "WS") and to the ledger.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any

import gevent
import websocket
from delivery_ledger import Ledger, Membership
from gevent.event import AsyncResult
from ws_inbox import Inbox, Report, SessionError

ACK_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10.0


class Session:
    """`member`: a membership to carry on (a rejoin). `keep_member`: the member outlives this
    connection (recovery: it rejoins with since), so neither a drop nor a close ends what it
    expects."""

    def __init__(
        self,
        url: str,
        ledger: Ledger,
        report: Report,
        sender_id: str,
        grace_s: float,
        member: Membership | None = None,
        keep_member: bool = False,
    ) -> None:
        self.url = url
        self.sender_id = sender_id
        self.grace_s = grace_s
        self._inbox = Inbox(ledger, report, member)
        self._keep_member = keep_member
        self._ledger = ledger
        self._report = report
        self._ws: websocket.WebSocket | None = None
        self._receiver: gevent.Greenlet | None = None
        self._pending: AsyncResult | None = None
        self._closing = False

    @property
    def member(self) -> Membership | None:
        return self._inbox.member

    @property
    def open(self) -> bool:
        return self._ws is not None and self._receiver is not None and not self._receiver.dead

    def connect(self) -> bool:
        self._inbox.started = started = time.perf_counter()
        try:
            self._ws = websocket.create_connection(self.url, timeout=CONNECT_TIMEOUT_S)
        except (OSError, websocket.WebSocketException) as exc:
            return self._fail("connect", started, SessionError(f"connect: {exc!r}"))
        self._ws.settimeout(None)  # the receiver waits as long as the connection lives
        self._report("connect", _ms_since(started), 0, None)
        self._receiver = gevent.spawn(self._receive, self._ws)
        return True

    def join(self, room: str, since: int | None = None) -> bool:
        """join; with `since` (a rejoin), the messages after it are replayed. The membership
        starts when the ack arrives (see _joined): the store has it by then."""
        started = time.perf_counter()
        self._inbox.since = since
        frame: dict[str, Any] = {"action": "join", "room": room}
        if since is not None:
            frame["since"] = since
        return self._request(frame, "join", started)

    def send(self) -> bool:
        """sendmessage to this session's room with a unique id (the envelope carries it back)
        and the send time in the data."""
        assert self._ws is not None and self.member is not None
        msg_id = f"{self.sender_id}.{time.monotonic_ns()}"
        data = {"from": self.sender_id, "ts": time.time() * 1000}
        message = {"action": "sendmessage", "room": self.member.room, "id": msg_id, "data": data}
        frame = json.dumps(message)
        at, started = time.monotonic(), time.perf_counter()
        try:
            self._ws.send(frame)
        except (OSError, websocket.WebSocketException) as exc:
            return self._fail("send", started, SessionError(f"send: {exc!r}"))
        self._ledger.sent(self.member.room, msg_id, at)
        self._report("send", _ms_since(started), len(frame), None)
        return True

    def leave(self) -> bool:
        """Stop counting on deliveries, keep receiving for the grace period, then leave."""
        assert self.member is not None
        self._ledger.stop_expecting(self.member, time.monotonic())
        gevent.sleep(self.grace_s)
        started = time.perf_counter()
        return self._request({"action": "leave", "room": self.member.room}, "leave", started)

    def drop(self) -> None:
        """The connection goes away without a close frame, as when a network fails: the server
        learns it from TCP alone. Nothing is reported: this is the scenario, not an error."""
        ws, receiver, self._ws = self._ws, self._receiver, None
        self._closing = True
        if receiver is not None:
            receiver.kill(block=False)
        if ws is not None and ws.sock is not None:
            with contextlib.suppress(OSError):  # already gone: a drop is what was wanted
                ws.sock.shutdown(socket.SHUT_RDWR)
            ws.shutdown()  # type: ignore[no-untyped-call]  # websocket-client leaves it untyped

    def close(self) -> None:
        """Close frame, wait (bounded) for the server's, then drop the socket either way."""
        ws, receiver, self._ws = self._ws, self._receiver, None
        self._closing = True
        if self.member is not None and not self._keep_member:
            self._ledger.stop_expecting(self.member, time.monotonic())
        if ws is None:
            return
        try:
            ws.send_close()
            if receiver is not None:
                receiver.join(timeout=3.0)
        except (OSError, websocket.WebSocketException):
            pass  # the socket is going away anyway: nothing left to tell the server
        finally:
            ws.shutdown()  # type: ignore[no-untyped-call]  # websocket-client leaves it untyped
            if receiver is not None:
                receiver.kill(block=False)

    def _request(self, frame: dict[str, Any], name: str, started: float) -> bool:
        assert self._ws is not None
        self._pending = pending = AsyncResult()
        try:
            self._ws.send(json.dumps(frame))
            pending.get(timeout=ACK_TIMEOUT_S)
        except gevent.Timeout:
            return self._fail(name, started, SessionError(f"{name}: no ack in {ACK_TIMEOUT_S}s"))
        except (OSError, websocket.WebSocketException, SessionError) as exc:
            return self._fail(name, started, SessionError(f"{name}: {exc}"))
        finally:
            self._pending = None
        self._report(name, _ms_since(started), 0, None)
        return True

    def _receive(self, ws: websocket.WebSocket) -> None:
        try:
            while True:
                opcode, data = ws.recv_data()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    # websocket-client has already answered the close frame.
                    if not self._closing:
                        code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                        self._dropped(SessionError(f"closed by the server (code {code})"))
                    return
                self._on_frame(data.decode("utf-8", "replace"))
        except (OSError, websocket.WebSocketException) as exc:
            if not self._closing:
                self._dropped(SessionError(f"receive: {exc!r}"))

    def _on_frame(self, text: str) -> None:
        answer = self._inbox.take(text)
        if self._pending is None or answer is None:
            return
        if isinstance(answer, SessionError):
            self._pending.set_exception(answer)
        else:
            self._pending.set(answer)

    def _dropped(self, exc: SessionError) -> None:
        if self.member is not None and not self._keep_member:
            self._ledger.stop_expecting(self.member, time.monotonic() - self.grace_s)
        self._report("close", 0, 0, exc)
        self._ledger.error("close")
        if self._pending is not None:
            self._pending.set_exception(exc)

    def _fail(self, name: str, started: float, exc: SessionError) -> bool:
        self._report(name, _ms_since(started), 0, exc)
        self._ledger.error(name)
        return False


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
