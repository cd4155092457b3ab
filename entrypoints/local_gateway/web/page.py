"""The chat page at /: three files shipped in the package, served from a fixed table only."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"

# URL path -> (file in static/, content type). The table is the whole surface: a request path is
# looked up, never joined to a directory, so no path (encoded or not) can reach another file.
PAGE_FILES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}

# The page loads only its own script and style; it may open WebSockets anywhere (ws: or wss:),
# since the URL is editable so the same page can talk to a deployed stage.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


def page_response(path: str) -> tuple[int, dict[str, str], bytes] | None:
    """Status, headers and body for one of the page's URL paths; None for any other path."""
    entry = PAGE_FILES.get(path)
    if entry is None:
        return None
    name, content_type = entry
    headers = {
        "Content-Type": content_type,
        # Served from the working tree: a reload after an edit must show the edit.
        "Cache-Control": "no-store",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return 200, headers, (STATIC / name).read_bytes()
