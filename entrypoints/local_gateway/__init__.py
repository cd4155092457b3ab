"""API Gateway's WebSocket API on a laptop: `switchboard serve` runs any Python Lambda handler.

Design: one asyncio server on one port. A connection whose first bytes are a whole GET to
/STAGE with `Upgrade: websocket` goes straight to the `websockets` Sans-I/O `ServerProtocol`;
any other request is parsed by h11 (an upgrade among them is handed on re-serialized). The
protocol yields every frame. Frames, not assembled messages, are what API Gateway limits
(32 KB a frame, 128 KB a message): aiohttp and the `websockets` asyncio server only show whole
messages, so they cannot enforce the frame limit, while the Sans-I/O layer does it with
`max_size=(message, frame)`.
Every other request (the @connections API, the page at /) is plain HTTP/1.1 on h11 with
keep-alive. No framing and no HTTP parsing is written here (the first-bytes check only picks
the route; websockets parses and checks the handshake). Handlers run on a thread pool, so a
slow handler never stalls the loop that reads sockets.

Rooms, in the order a message meets them:
  web/             server (the listener, shutdown), http_serving (h11, hand-off of upgrades),
                   http_body (bodies within each route's cap), http_router, page (the chat
                   page and its static/ files)
  websocket/       handshake (Origin, the authorizer, then $connect), origins (which pages may
                   open WebSockets), session (an open connection: frames, limits, timers),
                   wire (the Sans-I/O protocol on a stream),
                   connections (the live ones), dispatch (one connection's calls, in order),
                   routes (route selection), faults (dropped $disconnects, for tests),
                   runtime (what every connection and the @connections API share)
  authorizer/      authorization and policy (a Lambda REQUEST authorizer and its IAM policy)
  lambda_runtime/  events, ids and lambda_context (what a handler receives), invoker and
                   workers (calls on the worker pool), handlers (importing --handler and
                   --authorizer), output (whole lines on stdout), fanout_queue (SQS and the
                   worker Lambda, on threads)
  connections_api/ management_api (@connections over HTTP), signature and sigv4_form (its SigV4
                   check), posting (its POST rules), inprocess (the same posts handed over
                   in-process by the app's publisher, one hop per batch; the default)
  http_api/        publish (POST /publish: the SigV4 check above, then a payload format 2.0
                   event for the publish handler, lambda_runtime/http_events)
  services/        local_store and moto_process (the DynamoDB behind --store)
  template/        --template: a user's app from its CloudFormation or SAM template (reading,
                   intrinsics, app, functions and their sandbox processes, tables, tls, serving)
  options and command (the CLI: it builds the rooms above and connects them), environment
  (what a Lambda function would see, set up in this process), signals (how
  serve stops).
"""
