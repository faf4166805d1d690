"""The HTTP surface of the live channel (Socket.IO on ``/socket.io``): who may open it, and its headers.

* **Origin** (cross-site WebSocket hijacking): a browser sends the page's ``Origin`` with every
  handshake, on the websocket and the polling transport alike, and the session cookie rides along.
  :func:`origin_allowed` accepts only the app's own origin (scheme and host of the request, as the
  trusted proxies report them with ``FLEETLIGHT_PROXY_HOPS``) and the origins listed in
  ``FLEETLIGHT_ALLOWED_ORIGINS``. Engine.IO calls it for every request that carries an
  ``Origin``; clients without one (scripts, not browsers) still need a token or a session.
* **Headers**: Socket.IO answers before Flask sees the request, so Flask's ``after_request``
  never runs for it; :class:`LiveChannelHeaders` adds a CSP (nothing may load or frame it) and
  ``nosniff`` to those responses.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

SOCKET_PATH = "/socket.io"
SOCKET_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


def _settings() -> Any | None:
    from core import runtime

    try:
        return runtime.services().settings
    except RuntimeError:
        return None


def _forwarded(environ: dict[str, Any], header: str, hops: int) -> str | None:
    raw = environ.get(header)
    if not raw or hops <= 0:
        return None
    values = [v.strip() for v in str(raw).split(",")]
    return values[-hops] if len(values) >= hops else None


def own_origin(environ: dict[str, Any], proxy_hops: int = 0) -> str | None:
    """Return the app's own origin for this request (``scheme://host[:port]``), or None without a Host."""
    scheme = _forwarded(environ, "HTTP_X_FORWARDED_PROTO", proxy_hops) or environ.get("wsgi.url_scheme", "http")
    host = _forwarded(environ, "HTTP_X_FORWARDED_HOST", proxy_hops) or environ.get("HTTP_HOST")
    if not host:
        return None
    return f"{scheme.lower()}://{host.lower()}"


def _normalise(origin: str) -> str:
    origin = origin.strip().rstrip("/").lower()
    for scheme, port in (("http://", ":80"), ("https://", ":443")):
        if origin.startswith(scheme) and origin.endswith(port):
            return origin[: -len(port)]
    return origin


def origin_allowed(origin: str | None, environ: dict[str, Any] | None = None) -> bool:
    """Return True if a browser page from ``origin`` may open the live channel (Engine.IO's CORS hook)."""
    if origin is None:
        return True  # not a browser: the connect handler still demands a session or a token
    if not origin or origin == "null":
        return False  # sandboxed frames, file:// pages
    settings = _settings()
    hops = getattr(settings, "proxy_hops", 0) if settings is not None else 0
    extra = getattr(settings, "allowed_origins", []) if settings is not None else []
    allowed = {_normalise(o) for o in extra}
    own = own_origin(environ or {}, hops)
    if own:
        allowed.add(_normalise(own))
    return _normalise(origin) in allowed


class LiveChannelHeaders:
    """WSGI middleware adding :data:`SOCKET_HEADERS` to every ``/socket.io`` response."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Return the wrapped app's response, with the headers added on the live channel's path."""
        if not str(environ.get("PATH_INFO", "")).startswith(SOCKET_PATH):
            return self.app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers = list(headers) + [(n, v) for n, v in SOCKET_HEADERS if n.lower() not in present]
            return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

        return self.app(environ, start)
