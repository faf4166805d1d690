"""Portfolio scoping (API lists, overview) and Socket.IO room authorisation."""
from __future__ import annotations

import pytest

from data.models import Portfolio, Role, Site, SiteKind
from security.access import Caller, authorize_room


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
            scoped_ok = authorize_room(room, scoped)
            lines.append(f"{room:14} " + " ".join(f"{c:>5}" for c in cells) + f"  {'A' if scoped_ok else '-':>13}")
        assert authorize_room("site:p-sol", scoped) and not authorize_room("site:t-sol", scoped)
        assert not authorize_room("live", scoped)  # fleet-wide rooms carry every site
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
    assert not scoped.is_connected(live_hub.NAMESPACE)  # fleet-wide room refused to a scoped user
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
