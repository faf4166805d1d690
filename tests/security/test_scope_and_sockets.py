"""Portfolio scoping (API lists, overview) and Socket.IO room authorisation."""
from __future__ import annotations

import pytest

from data.models import Portfolio, Role, Site, SiteKind
from security.access import Caller, authorize_room, room_for


@pytest.fixture()
def two_portfolios(small_fleet):
    with small_fleet.db.session() as s:
        s.add(Portfolio(id="partner", name="Partner portfolio"))
        s.flush()
        s.add(Site(id="p-sol", portfolio_id="partner", name="Partner Solar", kind=SiteKind.solar, capacity_mw=2.0,
                   market="ERCOT"))
    return small_fleet


def test_scoped_user_sees_only_their_sites(signed_in, two_portfolios):
    partner = signed_in("viewer", scope=["partner"])
    everyone = signed_in("viewer")
    assert [s["site_id"] for s in partner.get("/api/v1/sites").json["sites"]] == ["p-sol"]
    assert len(everyone.get("/api/v1/sites").json["sites"]) == 3
    assert partner.get("/api/v1/sites/t-sol").status_code == 404
    assert partner.get("/api/v1/assets").json["count"] == 0
    assert partner.get("/api/v1/assets", query_string={"site_id": "t-sol"}).json["count"] == 0
    assert partner.get("/api/v1/assets/t-sol-INV-01").status_code == 404
    assert everyone.get("/api/v1/assets/t-sol-INV-01").status_code == 200


def test_scoped_overview(dash_app, signed_in, two_portfolios):
    from callbacks.overview import overview_view

    partner = signed_in("viewer", scope=["partner"])
    with dash_app.server.test_request_context("/", headers={"Cookie": f"session={partner.get_cookie('session').value}"}):
        view = overview_view(None, None, "light")
    assert [r["site_id"] for r in view["rows"]] == ["p-sol"]
    with dash_app.server.test_request_context("/"):
        assert overview_view(None, None, "light")["rows"] == []  # anonymous request: nothing
    assert len(overview_view(None, None, "light")["rows"]) == 3  # no request (jobs, reports): unfiltered


ROOMS = ["live", "overview", "map", "markets", "site:t-sol", "site:p-sol", "page:/", "page:/admin", "admin",
         "commands", "no-such-room"]
EXPECTED = {  # room -> roles allowed (unscoped callers)
    "live": "wall viewer analyst operator manager admin", "overview": "wall viewer analyst operator manager admin",
    "map": "wall viewer analyst operator manager admin", "markets": "wall viewer analyst operator manager admin",
    "site:t-sol": "wall viewer analyst operator manager admin", "site:p-sol": "wall viewer analyst operator manager admin",
    "page:/": "viewer analyst operator manager admin", "page:/admin": "admin", "admin": "admin",
    "commands": "operator manager admin", "no-such-room": "admin",  # roles are cumulative (issue 11)
}


def test_socket_room_matrix(dash_app, two_portfolios):
    lines = [f"{'room':14} " + " ".join(f"{r.value[:5]:>5}" for r in Role) + "  scoped-viewer"]
    with dash_app.server.test_request_context("/"):
        assert not any(authorize_room(room) for room in ROOMS)  # anonymous
        scoped = Caller("partner", Role.viewer, None, "session", 99, ("partner",))
        for room in ROOMS:
            cells = []
            for role in Role:
                caller = Caller(f"x-{role.value}", role, None, "session")
                allowed = authorize_room(room, caller)
                assert allowed is (role.value in EXPECTED[room].split()), (room, role)
                cells.append("A" if allowed else "-")
            joined = room_for(room, scoped)
            cell = "-" if joined is None else "A" if joined == room else "A@scope"
            lines.append(f"{room:14} " + " ".join(f"{c:>5}" for c in cells) + f"  {cell:>13}")
        assert authorize_room("site:p-sol", scoped) and not authorize_room("site:t-sol", scoped)
        assert not authorize_room("live", scoped)  # fleet-wide rooms carry every site ...
        assert room_for("live", scoped) == "live@p:partner"  # ... so a scoped caller joins its scope's room
    print("\n" + "\n".join(lines))


def test_hub_connect_uses_the_session(dash_app, signed_in, two_portfolios, services):
    socketio = dash_app.server.extensions.get("fleetlight_socketio")
    if socketio is None:
        pytest.skip("live hub not installed")
    from live import hub as live_hub

    live_hub.attach_hub(socketio, services)  # not started: connect answers from the stored state
    viewer = signed_in("viewer")
    ok = socketio.test_client(dash_app.server, namespace=live_hub.NAMESPACE, flask_test_client=viewer,
                              auth={"rooms": ["live", "markets"]})
    assert ok.is_connected(live_hub.NAMESPACE)
    ok.disconnect(namespace=live_hub.NAMESPACE)
    partner = signed_in("viewer", scope=["partner"])
    scoped = socketio.test_client(dash_app.server, namespace=live_hub.NAMESPACE, flask_test_client=partner,
                                  auth={"rooms": ["live"]})
    assert scoped.is_connected(live_hub.NAMESPACE)  # joined as its scope's room, live@p:partner (issue 11)
    scoped.disconnect(namespace=live_hub.NAMESPACE)
    foreign = socketio.test_client(dash_app.server, namespace=live_hub.NAMESPACE, flask_test_client=partner,
                                   auth={"rooms": ["site:t-sol", "live@p:test"]})
    assert not foreign.is_connected(live_hub.NAMESPACE)  # another portfolio's site or scope room: refused
    site = socketio.test_client(dash_app.server, namespace=live_hub.NAMESPACE, flask_test_client=partner,
                                auth={"rooms": ["site:p-sol"]})
    assert site.is_connected(live_hub.NAMESPACE)
    site.disconnect(namespace=live_hub.NAMESPACE)
    anonymous = socketio.test_client(dash_app.server, namespace=live_hub.NAMESPACE,
                                     flask_test_client=dash_app.server.test_client(), auth={"rooms": ["live"]})
    assert not anonymous.is_connected(live_hub.NAMESPACE)


def test_scoped_user_gets_only_their_sites_from_the_live_state(signed_in, two_portfolios, services, dash_app):
    from live.hub import attach_hub

    hub = attach_hub(dash_app.server.extensions["fleetlight_socketio"], services)
    hub.load()  # not started: the route answers from the loaded state
    partner = signed_in("viewer", scope=["partner"])
    everyone = signed_in("viewer")
    scoped = partner.get("/api/v1/live/state").json
    assert set(scoped["sites"]) == {"p-sol"}
    assert scoped["fleet"]["values"]["capacity_mw"] == 2.0  # totals over the partner's site alone (issue 11, item 6)
    assert set(everyone.get("/api/v1/live/state").json["sites"]) == {"t-sol", "t-wind", "p-sol"}


FLEET_ROOMS = ["live", "overview", "map", "markets"]


def _received(client, namespace) -> list[tuple[str, str]]:
    import json

    return [(m["name"], json.dumps(m["args"])) for m in client.get_received(namespace)]


def test_scoped_socket_pushes_carry_only_their_sites(dash_app, signed_in, two_portfolios, services):
    """A scoped user on the fleet-wide rooms gets full states and pushes of their sites alone, with
    totals over them; an unscoped viewer on the same rooms still gets every site."""
    import datetime as dt
    import time

    from data.models import Asset, AssetKind
    from live import hub as live_hub
    from security.access import room_for

    with services.db.session() as s:
        s.add(Asset(id="p-sol-INV-01", site_id="p-sol", name="Partner inverter", kind=AssetKind.inverter,
                    capacity_kw=2000.0))
    services.ingest.assets.refresh()
    socketio = dash_app.server.extensions["fleetlight_socketio"]
    hub = live_hub.attach_hub(socketio, services)
    hub.load()
    ns = live_hub.NAMESPACE
    partner = socketio.test_client(dash_app.server, namespace=ns, flask_test_client=signed_in("viewer", scope=["partner"]),
                                   auth={"rooms": FLEET_ROOMS + ["site:p-sol"]})
    everyone = socketio.test_client(dash_app.server, namespace=ns, flask_test_client=signed_in("viewer"),
                                    auth={"rooms": FLEET_ROOMS})
    assert partner.is_connected(ns) and everyone.is_connected(ns)
    time.sleep(0.3)  # full states are sent just after the handshake
    first_partner, first_everyone = _received(partner, ns), _received(everyone, ns)
    assert {e for e, _ in first_partner} >= {"live_sites", "overview_kpis", "map_status", "market_kpis"}
    assert not [e for e, text in first_partner if "t-sol" in text or "t-wind" in text], first_partner
    assert any("t-sol" in text for e, text in first_everyone if e == "live_sites")

    now = dt.datetime.now(dt.UTC)
    hub.on_stored([("t-sol-INV-01", "power_kw", now, 1234.0), ("p-sol-INV-01", "power_kw", now, 777.0)])
    assert hub.flush() == 2
    hub._last_kpi_push = 0.0
    hub._kpi_due = True
    hub._push_kpis_if_due(time.monotonic() + 10)
    pushed_partner, pushed_everyone = _received(partner, ns), _received(everyone, ns)
    assert {e for e, _ in pushed_partner} >= {"live_sites", "map_status", "overview_kpis", "market_kpis"}
    assert not [e for e, text in pushed_partner if "t-sol" in text or "t-wind" in text], pushed_partner
    live = next(text for e, text in pushed_partner if e == "live_sites")
    assert "p-sol" in live and '"capacity_mw": 2.0' in live  # totals over the partner's site alone
    assert any("t-sol" in text and "p-sol" in text for e, text in pushed_everyone if e == "live_sites")
    with dash_app.server.test_request_context("/"):
        caller = Caller("partner", Role.viewer, None, "session", 99, ("partner",))
        assert [room_for(r, caller) for r in FLEET_ROOMS] == [f"{r}@p:partner" for r in FLEET_ROOMS]
        assert room_for("site:t-sol", caller) is None and room_for("admin", caller) is None
    partner.disconnect(namespace=ns)
    everyone.disconnect(namespace=ns)
    hub._prune_scopes()
    assert hub._scopes == {}


def test_a_worker_hub_pushes_to_the_scopes_of_the_users(dash_app, signed_in, two_portfolios, services):
    """A hub serving no connections (the store worker, pushing through Redis) learns the portfolio
    scopes from the users and sends each its cut: a scoped client connected to the web process
    receives the worker's pushes without other portfolios' sites."""
    import datetime as dt
    import time

    from data.models import Asset, AssetKind
    from live import hub as live_hub

    with services.db.session() as s:
        s.add(Asset(id="p-sol-INV-01", site_id="p-sol", name="Partner inverter", kind=AssetKind.inverter,
                    capacity_kw=2000.0))
    services.ingest.assets.refresh()
    socketio = dash_app.server.extensions["fleetlight_socketio"]
    web = live_hub.attach_hub(socketio, services)  # the web process: takes the connection
    web.load()
    ns = live_hub.NAMESPACE
    partner = socketio.test_client(dash_app.server, namespace=ns, flask_test_client=signed_in("viewer", scope=["partner"]),
                                   auth={"rooms": ["live"]})
    assert partner.is_connected(ns)
    time.sleep(0.3)
    partner.get_received(ns)
    worker = live_hub.LiveHub(socketio, services.db, serving=False)  # same server stands in for Redis
    worker.load()
    assert worker._scopes == {"p:partner": frozenset({"p-sol"})}
    shared = live_hub.LiveHub(socketio, services.db, serving=True, shared=True)  # a web process behind Redis
    shared.load()
    assert shared._scopes == {"p:partner": frozenset({"p-sol"})}
    shared._prune_scopes()
    assert shared._scopes  # kept: clients of other processes are not in this process's rooms
    now = dt.datetime.now(dt.UTC)
    worker.on_stored([("t-sol-INV-01", "power_kw", now, 1000.0), ("p-sol-INV-01", "power_kw", now, 500.0)])
    assert worker.flush() == 2
    pushed = _received(partner, ns)
    live = [text for event, text in pushed if event == "live_sites"]
    assert live and all("p-sol" in t and "t-sol" not in t and "t-wind" not in t for t in live), pushed
    partner.disconnect(namespace=ns)
