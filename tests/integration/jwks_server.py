"""A JWKS endpoint on 127.0.0.1 that serves keys, garbage or an error, hangs, or hangs up."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class JwksServer:
    """Serves `keys` as a JWK set, or `body` as-is with `status`; `mode` "hang" never answers
    (until closed) and "hang-up" closes the connection without a word. Counts the requests."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.body: bytes | None = None
        self.status = 200
        self.mode = "answer"
        self.requests = 0
        self._closing = threading.Event()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        serving = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        serving.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/.well-known/jwks.json"

    def add_key(self, private_key: Any, kid: str, **fields: Any) -> None:
        """Publish `private_key`'s public half under `kid` (with `alg` etc. from `fields`)."""
        rsa_key = isinstance(private_key, rsa.RSAPrivateKey)
        algorithm = jwt.algorithms.RSAAlgorithm if rsa_key else jwt.algorithms.ECAlgorithm
        jwk = json.loads(algorithm.to_jwk(private_key.public_key()))
        self.keys.append(jwk | {"kid": kid, "use": "sig"} | fields)

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> JwksServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                if server.mode == "hang":
                    server._closing.wait(30)
                    return
                if server.mode == "hang-up":
                    return  # HTTP/1.0: the connection closes with no status line
                body = server.body
                if body is None:
                    body = json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
