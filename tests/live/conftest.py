"""Fixtures of the live tests: a hub on this test's services, tokens for Socket.IO clients."""
from __future__ import annotations

import pytest

from data.models import Role


@pytest.fixture()
def live_hub(dash_app, small_fleet):
    """Yield a running hub (50 ms batches) wired to this test's ingest, on the app's Socket.IO server."""
    from live.hub import attach_hub

    socketio = dash_app.server.extensions["fleetlight_socketio"]
    hub = attach_hub(socketio, small_fleet)
    hub.interval_s = 0.05
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture()
def viewer_token(services):
    """Return a bearer token of role viewer (may join the fleet rooms)."""
    from security.tokens import create_token

    return create_token(services.db, "test-viewer", ["read"], Role.viewer)


@pytest.fixture()
def admin_token(services):
    """Return a bearer token of role admin."""
    from security.tokens import create_token

    return create_token(services.db, "test-admin", ["*"], Role.admin)
