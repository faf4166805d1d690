"""Fixtures of the security tests: users per role and signed-in test clients."""
from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from data.models import Role
from tests.support.live_services import free_port

PASSWORD = "correct-horse-battery-9"
ROLES = [r.value for r in Role if r != Role.wall]


def make_user(db, role: str, username: str | None = None, password: str = PASSWORD, scope=None):
    """Create a user with ``role`` and return its UserInfo."""
    from security.users import create_user

    return create_user(db, username or f"{role}-user", password, Role(role), portfolio_scope=scope)


def csrf_from_form(html: str) -> str:
    """Return the csrf_token value of the sign-in form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token in the form"
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD, next_url: str = "/"):
    """Sign ``client`` in through the form; return the POST response."""
    page = client.get("/login")
    token = csrf_from_form(page.get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": next_url})


def csrf_header(client) -> dict[str, str]:
    """Return the X-CSRFToken header Dash's renderer would send (value of the _csrf_token cookie)."""
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None, "no _csrf_token cookie"
    return {"X-CSRFToken": cookie.value}


@pytest.fixture()
def signed_in(dash_app, services):
    """Return a factory: signed_in(role, scope=None) -> a test client signed in with that role."""
    made: dict[str, object] = {}

    def factory(role: str, scope=None):
        name = f"{role}-{len(made)}"
        make_user(services.db, role, name, scope=scope)
        client = dash_app.server.test_client()
        response = sign_in(client, name)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        made[name] = client
        return client

    return factory


@pytest.fixture()
def wall_client(dash_app, services):
    """Return (client signed in as a wall screen, token id)."""
    from api.admin import create_admin_token

    token, token_id = create_admin_token("lobby-screen", Role.wall, ["read"], None, "test")
    client = dash_app.server.test_client()
    response = client.get("/wall/activate", query_string={"token": token})
    assert response.status_code == 302
    return client, token_id


@pytest.fixture()
def hub(dash_app, small_fleet):
    """Yield a running hub on the app's Socket.IO server, wired to this test's services."""
    from live.hub import attach_hub

    live = attach_hub(dash_app.server.extensions["fleetlight_socketio"], small_fleet)
    live.interval_s = 0.05
    live.start()
    yield live
    live.stop()


@pytest.fixture()
def served(dash_app, hub):
    """Serve the app (Flask + Socket.IO) on a loopback port in a thread; yield its base URL."""
    # undo what an earlier Flask-SocketIO test_client patched on the shared server (it breaks real clients)
    sio_server = dash_app.server.extensions["fleetlight_socketio"].server
    for name in ("_send_packet", "_send_eio_packet"):
        sio_server.__dict__.pop(name, None)
    sio_server.async_handlers = sio_server.eio.async_handlers = True  # python-socketio's defaults
    port = free_port()
    server = make_server("127.0.0.1", port, dash_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
