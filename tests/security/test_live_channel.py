"""The live channel from a browser's point of view: cross-site WebSocket hijacking is refused on both
transports (real Socket.IO and websocket clients against a served app), and /socket.io carries a CSP."""
from __future__ import annotations

import httpx
import pytest
import socketio
import websocket

from live.hub import NAMESPACE
from tests.support.live_services import wait_for

FOREIGN = ["http://127.0.0.1:1", "http://evil.example", "null", "https://127.0.0.1"]


@pytest.fixture()
def analyst_cookie(signed_in) -> str:
    """Return the session cookie of a signed-in analyst."""
    return "session=" + signed_in("analyst").get_cookie("session").value


def _ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


def test_websocket_from_a_foreign_origin_is_refused(served, analyst_cookie):
    for origin in FOREIGN:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(_ws_url(served), header=[f"Cookie: {analyst_cookie}"], origin=origin,
                                        timeout=5)
        assert refused.value.status_code == 400, origin
    ws = websocket.create_connection(_ws_url(served), header=[f"Cookie: {analyst_cookie}"], origin=served, timeout=5)
    try:
        assert ws.recv().startswith("0")
        ws.send('40/live,{"rooms":["live","markets"]}')
        assert ws.recv().startswith("40/live,")  # the session cookie alone joins, from the app's own page
    finally:
        ws.close()


def test_polling_from_a_foreign_origin_is_refused(served, analyst_cookie):
    url = served + "/socket.io/?EIO=4&transport=polling"
    with httpx.Client(timeout=5) as http:
        for origin in FOREIGN:
            got = http.get(url, headers={"Origin": origin, "Cookie": analyst_cookie})
            assert got.status_code == 400, (origin, got.status_code)
            assert "access-control-allow-origin" not in got.headers
        opened = http.get(url, headers={"Origin": served, "Cookie": analyst_cookie})
        assert opened.status_code == 200 and opened.text.startswith("0")
        assert opened.headers["access-control-allow-origin"] == served
        sid = httpx.Response(200, content=opened.text[1:]).json()["sid"]
        # a foreign page cannot ride on a session opened elsewhere either
        sent = http.post(url + f"&sid={sid}", content='40/live,{"rooms":["live"]}',
                         headers={"Origin": "http://evil.example", "Cookie": analyst_cookie})
        assert sent.status_code == 400


def test_socketio_client_from_a_foreign_origin_is_refused(served, analyst_cookie):
    for transports in (["websocket"], ["polling"]):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(served, namespaces=[NAMESPACE], transports=transports, wait_timeout=5,
                           headers={"Origin": "http://127.0.0.1:1", "Cookie": analyst_cookie},
                           auth={"rooms": ["live"]})
        client.disconnect()
        ok = socketio.Client(reconnection=False)
        # over websocket, websocket-client sends the server's own origin itself (a second one would be refused)
        own = {} if transports == ["websocket"] else {"Origin": served}
        ok.connect(served, namespaces=[NAMESPACE], transports=transports, wait_timeout=5,
                   headers={**own, "Cookie": analyst_cookie}, auth={"rooms": ["live"]})
        try:
            wait_for(lambda c=ok: c.connected and NAMESPACE in c.namespaces, 5, what="same-origin connect")
        finally:
            ok.disconnect()


def test_allowed_origins_setting_admits_a_listed_front_end(served, analyst_cookie, services):
    services.settings.allowed_origins = ["https://wall.example.com"]
    url = served + "/socket.io/?EIO=4&transport=polling"
    assert httpx.get(url, headers={"Origin": "https://wall.example.com", "Cookie": analyst_cookie}).status_code == 200
    assert httpx.get(url, headers={"Origin": "https://other.example.com", "Cookie": analyst_cookie}).status_code == 400


def test_socket_responses_carry_the_csp(served):
    got = httpx.get(served + "/socket.io/?EIO=4&transport=polling", timeout=5)
    assert "default-src 'none'" in got.headers["content-security-policy"]
    assert got.headers["x-content-type-options"] == "nosniff"
    bad = httpx.get(served + "/socket.io/?EIO=9", timeout=5)
    assert "content-security-policy" in bad.headers


def test_allowed_origins_setting_is_checked():
    from core.settings import SettingsError, load_settings

    assert load_settings(allowed_origins="https://a.example, http://b.example:8080").allowed_origins == [
        "https://a.example", "http://b.example:8080"]
    with pytest.raises(SettingsError, match="FLEETLIGHT_ALLOWED_ORIGINS"):
        load_settings(allowed_origins="wall.example.com")
