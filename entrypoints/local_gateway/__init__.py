"""API Gateway's WebSocket API on a laptop: `switchboard serve` runs any Python Lambda handler.

Design: one asyncio server on one port. Each TCP connection's request head is parsed by h11;
a GET to /STAGE with `Upgrade: websocket` is handed (its head re-serialized by h11, plus the
bytes that followed it) to the `websockets` Sans-I/O `ServerProtocol`, which yields every
frame. Frames, not assembled messages, are what API Gateway limits (32 KB a frame, 128 KB a
message): aiohttp and the `websockets` asyncio server only show whole messages, so they cannot
enforce the frame limit, while the Sans-I/O layer does it with `max_size=(message, frame)`.
Every other request (the @connections API, the page at /) is plain HTTP/1.1 on h11 with
keep-alive. No framing and no HTTP parsing is written here. Handlers run on a thread pool, so
a slow handler never stalls the loop that reads sockets.

Modules: ids, events, lambda_context, routes, invoker (handler calls), connections (live
sockets), websocket (one client's session), http (h11 serving and the router),
management_api (@connections), server (the listener and shutdown), local_store (the store
behind --store) and command (the CLI).
"""
