"""The web process: the Dash app on its Flask server, with every part installed explicitly.

``create_app`` never starts threads, so importing ``app`` (for the CLI, gunicorn or tests) is
cheap and side-effect free; :func:`serve` (``python app.py``) and the gunicorn hooks start the
components and stop them on SIGTERM.
"""
from __future__ import annotations

import logging
import signal
from typing import Any

from dash import Dash

from api import create_api_blueprint
from bootstrap.banner import startup_lines
from bootstrap.build import build, start, stop
from bootstrap.cli import register_cli
from bootstrap.services import Services
from callbacks import register_all
from components.shell import shell_layout
from core.logging_setup import configure_logging
from core.settings import REPO_ROOT, Settings, get_settings
from live.hub import bind_socketio
from observability import requests as observability_requests
from security import web as security_web

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Dash:
    """Return the Dash app (multi-page) with the REST API, CLI, callbacks, security, live hub and gateway."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    services = services or build(settings, "web")
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(REPO_ROOT / "pages"),
        assets_folder=str(REPO_ROOT / "assets"),
        title="Fleetlight",
        update_title=None,  # type: ignore[arg-type]  # Dash accepts None (no "Updating..." title)
        suppress_callback_exceptions=True,
        serve_locally=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    server = app.server
    server.config["SECRET_KEY"] = settings.resolved_secret_key()
    server.config["MAX_CONTENT_LENGTH"] = settings.ingest_max_body_bytes
    server.extensions["fleetlight"] = services
    server.register_blueprint(create_api_blueprint())
    register_cli(server)
    register_all(app)
    observability_requests.install(server, frozenset(app.callback_map))
    app.layout = shell_layout(security_web.user_menu)
    security_web.install(app, services)
    if services.socketio is not None:
        bind_socketio(services.socketio, server, settings.redis_url)
        server.extensions["fleetlight_socketio"] = services.socketio
    return app


def serve(app: Dash, services: Services) -> int:
    """Start the components, serve through Flask-SocketIO until SIGTERM/SIGINT, stop everything; return 0."""
    settings = services.settings

    def interrupt(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        raise KeyboardInterrupt  # ends werkzeug's serve_forever in the main thread

    start(services)
    for line in startup_lines(settings, services.db):
        log.info("%s", line)
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if services.socketio is not None:
            services.socketio.run(app.server, host=settings.host, port=settings.port, debug=settings.debug,
                                  use_reloader=False, allow_unsafe_werkzeug=True)
        else:
            app.run(host=settings.host, port=settings.port, debug=settings.debug, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        left = stop(services)
    log.info("stopped%s", f" (threads left: {', '.join(left)})" if left else "")
    return 0


def disconnect_clients(services: Services) -> int:
    """Close every Socket.IO connection of this process; return how many were closed.

    A server stopping gracefully (gunicorn) waits for open requests, and an open websocket never
    ends by itself: closing them lets the worker exit (clients reconnect to another process).
    """
    server = getattr(services.socketio, "server", None)
    eio = getattr(server, "eio", None)
    if eio is None:
        return 0
    sockets = dict(eio.sockets)
    for sid, sock in sockets.items():
        try:
            sock.close(wait=False, abort=True)
        except Exception:
            log.exception("could not close live client %s", sid)
    return len(sockets)

