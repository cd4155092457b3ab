"""Which web pages may open WebSockets on `serve`: its own page's origin and --allow-origin's."""

from __future__ import annotations

from urllib.parse import urlsplit

# Browsers send an origin's default port as no port at all.
_DEFAULT_PORTS = {"http": 80, "https": 443}


def allowed_origin(value: str) -> str:
    """`value` as browsers send it in Origin (`scheme://host[:port]`, lower case, no default
    port), or ValueError saying what is wrong with it."""
    if value == "null":  # what sandboxed frames and file:// pages send
        return value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an origin: {exc}") from None
    shape = "an origin is scheme://host[:port], e.g. http://localhost:3000"
    if not parts.scheme or not parts.hostname or parts.netloc.count("@"):
        raise ValueError(f"{value!r} is not an origin: {shape}")
    if parts.path or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError(f"{value!r} has a path, query or fragment: {shape}")
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def page_origins(host: str, port: int) -> tuple[str, ...]:
    """The origins of the page `serve` itself serves when bound to `host`:`port`: that address,
    and http://localhost when it is loopback. On every address (0.0.0.0, ::), the loopback
    forms only: a page opened through another of the machine's addresses needs --allow-origin."""
    if host in ("", "0.0.0.0"):
        names = ["127.0.0.1", "localhost"]
    elif host == "::":  # IPv6 and (on most systems) IPv4 too
        names = ["127.0.0.1", "localhost", "[::1]"]
    elif host.lower() == "localhost":  # bound to whichever loopback address it names first
        names = ["localhost", "127.0.0.1", "[::1]"]
    else:
        names = [f"[{host}]" if ":" in host else host.lower()]
        if host in ("127.0.0.1", "::1"):
            names.append("localhost")
    return tuple(f"http://{name}:{port}" for name in names)
