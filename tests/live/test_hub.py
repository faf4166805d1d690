"""The Socket.IO hub: rooms, full state on (re)connect, batched pushes, map diffs, access."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from data.models import utcnow
from ingest.validation import ValidPoint
from live.hub import NAMESPACE
from tests.support.fleet import SOLAR_ASSETS, WIND_ASSETS
from tests.support.live_services import wait_for


def _client(dash_app, token: str, rooms: list[str]):
    socketio = dash_app.server.extensions["fleetlight_socketio"]
    return socketio.test_client(dash_app.server, namespace=NAMESPACE, auth={"token": token, "rooms": rooms})


_SEEN: dict[int, list] = {}


@pytest.fixture(autouse=True)
def _restore_socketio_server(dash_app):
    """Undo Flask-SocketIO's test client patches of the shared server (they break real clients)."""
    server = dash_app.server.extensions["fleetlight_socketio"].server
    saved = (server.async_handlers, server.eio.async_handlers)
    yield
    for name in ("_send_packet", "_send_eio_packet"):
        server.__dict__.pop(name, None)
    server.async_handlers, server.eio.async_handlers = saved


def _events(client, name: str) -> list:
    """Return every ``name`` event received by ``client`` so far (kept across calls)."""
    seen = _SEEN.setdefault(id(client), [])
    seen.extend(client.get_received(NAMESPACE))
    return [e["args"][0] for e in seen if e["name"] == name]


def _submit(services, kw: float, asset: str = SOLAR_ASSETS[0], ts: dt.datetime | None = None) -> None:
    ts = ts or utcnow().replace(microsecond=0)
    services.extras["ingest"].submit_points([ValidPoint(asset, "power_kw", ts, kw)], "test")


def _collect(client, name: str, predicate, timeout: float = 5.0) -> dict:
    def check() -> dict | None:
        return next((p for p in _events(client, name) if predicate(p)), None)

    return wait_for(check, timeout, what=f"a {name} push")


def test_anonymous_socket_is_refused(dash_app, live_hub):
    socketio = dash_app.server.extensions["fleetlight_socketio"]
    client = socketio.test_client(dash_app.server, namespace=NAMESPACE, auth={"rooms": ["live"]})
    assert not client.is_connected(NAMESPACE)


def test_full_state_on_connect_then_batched_pushes(dash_app, live_hub, small_fleet, viewer_token):
    _submit(small_fleet, 400.0)
    client = _client(dash_app, viewer_token, ["live", "map"])
    assert client.is_connected(NAMESPACE)
    full = _collect(client, "live_sites", lambda p: p["full"])
    assert full["constants"]["stale_after_s"] == 900 and "offline" in full["constants"]["statuses"]
    assert set(full["sites"]) == {"t-sol", "t-wind"} and full["sites"]["t-sol"]["output_mw"] == 0.4
    map_full = _collect(client, "map.status", lambda p: len(p["changed"]) == 2)
    assert map_full["changed"]["t-sol"] == {"status": "producing", "output_mw": 0.4}
    _SEEN[id(client)] = []
    # several points within one batch interval arrive as one push with the latest value
    now = utcnow().replace(microsecond=0)
    for i, kw in enumerate((500.0, 600.0, 700.0)):
        _submit(small_fleet, kw, ts=now + dt.timedelta(seconds=i + 1))
    push = _collect(client, "live_sites", lambda p: not p["full"] and p["sites"].get("t-sol", {}).get("output_mw") == 0.7)
    assert set(push["sites"]) == {"t-sol"}  # only the changed site
    assert push["fleet"]["values"]["output_mw"] == 0.7 and push["fleet"]["text"]["output_mw"] == "0.7 MW"
    diff = _collect(client, "map.status", lambda p: p["changed"].get("t-sol", {}).get("output_mw") == 0.7)
    assert set(diff["changed"]) == {"t-sol"}
    assert _collect(client, "map_status", lambda p: "t-sol" in p["changed"])  # dash-socketio friendly twin
    client.disconnect(NAMESPACE)


def test_reconnect_catches_up_with_what_was_missed(dash_app, live_hub, small_fleet, viewer_token):
    client = _client(dash_app, viewer_token, ["live"])
    _collect(client, "live_sites", lambda p: p["full"])
    client.disconnect(NAMESPACE)
    _submit(small_fleet, 1500.0, asset=WIND_ASSETS[1])  # while the screen was away
    time.sleep(0.2)
    again = _client(dash_app, viewer_token, ["live"])
    full = _collect(again, "live_sites", lambda p: p["full"])
    assert full["sites"]["t-wind"]["output_mw"] == 1.5
    again.disconnect(NAMESPACE)


def test_site_room_gets_asset_values(dash_app, live_hub, small_fleet, viewer_token):
    client = _client(dash_app, viewer_token, ["site:t-sol"])
    _collect(client, "site_live", lambda p: p["site_id"] == "t-sol")
    _submit(small_fleet, 321.0, asset=SOLAR_ASSETS[2])
    push = _collect(client, "site_live", lambda p: p["assets"].get(SOLAR_ASSETS[2], {}).get("power_kw", [0, 0])[1] == 321.0)
    assert push["kpis"]["scope"] == "site" and push["kpis"]["values"]["output_mw"] == 0.321
    client.disconnect(NAMESPACE)


def test_stopped_data_turns_sites_stale(dash_app, live_hub, small_fleet, viewer_token):
    # the point turns stale (older than 15 min) 6 s from now: time enough to see it producing first
    # on a busy machine, where connecting alone has taken more than a second
    _submit(small_fleet, 800.0, ts=utcnow().replace(microsecond=0) - dt.timedelta(minutes=14, seconds=54))
    client = _client(dash_app, viewer_token, ["map"])
    _collect(client, "map.status", lambda p: p["changed"].get("t-sol", {}).get("status") == "producing")

    def stale_pushed() -> dict | None:
        live_hub._last_sweep = 0.0
        live_hub._wake.set()
        return next((p for p in _events(client, "map.status") if p["changed"].get("t-sol", {}).get("status") == "stale"), None)

    wait_for(stale_pushed, 15, interval=0.2, what="a map.status push naming t-sol stale")
    client.disconnect(NAMESPACE)
