"""/api/v1/alerts and /api/v1/alert-rules: filters, ack and resolve with a comment (operators only),
rules CRUD with versions and the 7-day preview, MTTA and MTTR computed by hand from stored rows."""
from __future__ import annotations

import datetime as dt

import orjson
import pytest
from sqlalchemy import select

from alerts.response import response_times
from data.models import Alert, AlertState, Event, Role, utcnow
from ingest.validation import ValidPoint
from security.tokens import create_token
from tests.support.fleet import SOLAR_ASSETS


@pytest.fixture()
def tokens(small_fleet):
    db = small_fleet.db
    return {"viewer": {"Authorization": f"Bearer {create_token(db, 'v', ['read'], Role.viewer)}"},
            "operator": {"Authorization": f"Bearer {create_token(db, 'o', ['*'], Role.operator)}",
                         "Content-Type": "application/json"}}


def test_ack_and_resolve_with_a_comment_operators_only(client, small_fleet, tokens):
    db = small_fleet.db
    with db.session() as s:
        s.add(Alert(site_id="t-sol", rule="underperformance", severity="warning", title="INV-02 low",
                    dedup_key="x:1"))
        s.add(Alert(site_id="t-wind", rule="threshold", severity="critical", title="WTG hot", dedup_key="x:2"))
    listed = client.get("/api/v1/alerts?severity=critical", headers=tokens["viewer"])
    assert listed.status_code == 200 and [a["title"] for a in listed.json["alerts"]] == ["WTG hot"]
    assert client.get("/api/v1/alerts?state=bogus", headers=tokens["viewer"]).status_code == 400
    assert client.post("/api/v1/alerts/1/ack", headers=tokens["viewer"]).status_code == 403
    op = tokens["operator"]
    acked = client.post("/api/v1/alerts/1/ack", data=orjson.dumps({"comment": "crew on site"}), headers=op)
    assert acked.status_code == 200 and acked.json["state"] == "acknowledged"
    assert acked.json["ack_comment"] == "crew on site" and acked.json["acknowledged_by"] == "token:o"
    assert client.post("/api/v1/alerts/1/ack", headers=op).status_code == 409
    done = client.post("/api/v1/alerts/1/resolve", data=orjson.dumps({"comment": "string inverter reset"}), headers=op)
    assert done.json["state"] == "resolved" and done.json["resolve_comment"] == "string inverter reset"
    assert client.post("/api/v1/alerts/999/resolve", headers=op).status_code == 404
    assert client.post("/api/v1/alerts/2/resolve", data=b'{"comment": 5}', headers=op).status_code == 400
    with db.read_session() as s:
        events = [(e.kind, e.payload.get("comment")) for e in
                  s.execute(select(Event).where(Event.entity_type == "alert")).scalars()]
    assert events == [("alert.acknowledged", "crew on site"), ("alert.resolved", "string inverter reset")]
    assert client.get("/api/v1/alerts", headers=tokens["viewer"]).json["count"] == 1


def test_mtta_and_mttr_by_hand_from_stored_rows(client, small_fleet, tokens):
    db = small_fleet.db
    now = utcnow().replace(microsecond=0)
    m = dt.timedelta(minutes=1)
    rows = [  # opened, acknowledged, resolved (minutes before now)
        (100, 90, 40),    # ack 10 min, resolve 60 min
        (80, 76, None),   # ack 4 min, open
        (60, None, 30),   # resolved 30 min without ack
        (50, 20, 5),      # ack 30 min, resolve 45 min
    ]
    with db.session() as s:
        for i, (o, a, r) in enumerate(rows):
            s.add(Alert(site_id="t-sol", rule="threshold", severity="warning", title=f"a{i}", dedup_key=f"k{i}",
                        opened_at=now - o * m, acknowledged_at=now - a * m if a else None,
                        resolved_at=now - r * m if r else None,
                        state=AlertState.resolved if r else AlertState.acknowledged))
        s.add(Alert(site_id="t-sol", rule="threshold", severity="warning", title="old", dedup_key="old",
                    opened_at=now - dt.timedelta(days=40), acknowledged_at=now - dt.timedelta(days=39)))
    # by hand: MTTA = (10 + 4 + 30) / 3 min = 14.667 min; MTTR = (60 + 30 + 45) / 3 = 45 min
    with db.read_session() as s:
        figures = response_times(s, now - dt.timedelta(days=30), now + m)
    assert (figures.opened, figures.acknowledged, figures.resolved) == (4, 3, 3)
    assert figures.mtta_s == pytest.approx((10 + 4 + 30) / 3 * 60)
    assert figures.mttr_s == pytest.approx((60 + 30 + 45) / 3 * 60)
    api = client.get("/api/v1/alerts/metrics?days=30", headers=tokens["viewer"]).json
    assert api["mtta_s"] == pytest.approx(880.0) and api["mttr_s"] == pytest.approx(2700.0)
    assert api["mtta_text"] == "14.7 min" and api["mttr_text"] == "45.0 min"


def test_rules_api_versions_preview_and_refusals(client, small_fleet, tokens):
    svc = small_fleet
    rule = {"kind": "threshold", "name": "Inverter hot", "metric": "temperature_c", "direction": "above",
            "raise_level": 70, "clear_level": 65, "raise_after_min": 0, "clear_after_min": 0}
    op = tokens["operator"]
    assert client.post("/api/v1/alert-rules", data=orjson.dumps(rule), headers={
        **tokens["viewer"], "Content-Type": "application/json"}).status_code == 403
    bad = client.post("/api/v1/alert-rules", data=orjson.dumps({**rule, "clear_level": 90}), headers=op)
    assert bad.status_code == 422
    assert bad.json["error"]["message"] == ("invalid rule: threshold: clear_level 90.0 must not be above raise_level "
                                            "70.0 for direction 'above' (hysteresis)")
    made = client.post("/api/v1/alert-rules", data=orjson.dumps(rule), headers=op)
    assert made.status_code == 201 and made.json["version"] == 1
    rid = made.json["id"]
    assert client.put(f"/api/v1/alert-rules/{rid}", data=orjson.dumps({**rule, "raise_level": 75}),
                      headers=op).json["version"] == 2
    assert client.post(f"/api/v1/alert-rules/{rid}/disable", headers=op).json["enabled"] is False
    got = client.get(f"/api/v1/alert-rules/{rid}", headers=tokens["viewer"]).json
    assert [v["version"] for v in got["versions"]] == [1, 2, 3] and got["raise_level"] == 75
    # preview: two hot spells in the last 7 days of 15-min temperature means
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    temps = [60, 72, 74, 60, 60, 71, 60]
    svc.ingest.submit_points([ValidPoint(SOLAR_ASSETS[0], "temperature_c", now - dt.timedelta(hours=30 - i), t)
                              for i, t in enumerate(temps)], "test")
    seen = client.post("/api/v1/alert-rules/preview", data=orjson.dumps(rule), headers=op).json
    assert seen["raised"] == 2 and {a["subject"] for a in seen["alerts"]} == {SOLAR_ASSETS[0]}
    assert seen["basis"] == "15-min means of temperature_c"
    assert client.post("/api/v1/alert-rules/preview", data=b"[]", headers=op).status_code == 400
    spec = client.get("/api/v1/openapi.json").json
    assert {"/alert-rules", "/alert-rules/{rule_id}", "/alert-rules/preview",
            "/alerts/metrics", "/alert-silences"} <= set(spec["paths"])


def test_the_page_action_is_refused_to_a_viewer_on_the_server(client, small_fleet):
    """A forged callback request from a viewer session is refused by the server-side check."""
    from alerts.lifecycle import Condition, book_of
    from callbacks.alerts import act

    alert_id = book_of(small_fleet).raise_alert(
        Condition("threshold", None, "t-sol", SOLAR_ASSETS[1], "warning", "low", "", "b:3"))
    app = client.application
    with app.test_request_context("/"):
        from flask import g

        from security.access import Caller

        g.fleetlight_caller = Caller("v1", Role.viewer, None, "session")
        message, changed = act("ack", [{"id": alert_id}], "nope")
    assert changed == 0 and "lacks permission 'alerts:ack'" in str(message)
    with small_fleet.db.read_session() as s:
        assert s.get(Alert, alert_id).state == AlertState.open


def test_page_maintenance_window_form_creates_a_window_for_operators_only(client, small_fleet):
    from callbacks.alerts import create_window
    from data.models import AlertSilence
    from security.access import Caller

    app = client.application
    with app.test_request_context("/"):
        from flask import g

        g.fleetlight_caller = Caller("v1", Role.viewer, None, "session")
        assert "lacks permission 'alerts:manage'" in str(create_window("maintenance", "t-sol", 4, "x"))
    with app.test_request_context("/"):
        from flask import g

        g.fleetlight_caller = Caller("olga", Role.operator, None, "session")
        assert "Hours: give a number" in str(create_window("maintenance", "t-sol", "soon", "x"))
        assert "no such site 'nowhere'" in str(create_window("maintenance", "nowhere", 4, "x"))
        assert "Maintenance #1 until" in str(create_window("maintenance", "t-sol", 4, "inverter swap"))
    with small_fleet.db.read_session() as s:
        (row,) = s.execute(select(AlertSilence)).scalars().all()
    assert (row.site_id, row.created_by, row.reason) == ("t-sol", "olga", "inverter swap")
    assert dt.timedelta(hours=3, minutes=59) < row.ends_at - row.starts_at <= dt.timedelta(hours=4)
