"""Alerts: raised once from events, resolved on recovery, acknowledged and resolved by operators
through the API with an audit event each; viewers may read but not act."""
from __future__ import annotations

import orjson
from sqlalchemy import select

from alerts.raiser import AlertRaiser
from data.models import Alert, Event, Role
from security.tokens import create_token


def _events(db, *events):
    with db.session() as s:
        s.add_all(events)


def test_raised_once_per_episode_and_resolved_on_recovery(small_fleet):
    db = small_fleet.db
    episode = {"site_id": "t-wind", "start": "2026-06-01T00:00:00+00:00", "end": "2026-06-01T12:00:00+00:00",
               "intervals": 12, "mean_shortfall_pct": 35.0, "energy_lost": 4200.0, "severity": "critical",
               "basis": "power curve"}
    _events(db, Event(actor="system", kind="anomaly.detected", entity_type="asset", entity_id="t-wind-WTG-01",
                      payload=episode),
            Event(actor="system", kind="integration.failed", entity_type="provider", entity_id="ercot",
                  payload={"message": "ercot: 401 invalid subscription key"}),
            Event(actor="system", kind="integration.failed", entity_type="provider", entity_id="ercot",
                  payload={"message": "ercot: 401 again"}))
    raiser = AlertRaiser(db)
    assert raiser.run_once() == {"raised": 2, "resolved": 0}
    # the same episode seen again (e.g. after a restart) is not raised twice
    assert AlertRaiser(db).run_once() == {"raised": 0, "resolved": 0}
    _events(db, Event(actor="system", kind="integration.recovered", entity_type="provider", entity_id="ercot"))
    assert raiser.run_once() == {"raised": 0, "resolved": 1}
    with db.session() as s:
        alerts = {a.rule: a for a in s.execute(select(Alert)).scalars()}
    assert alerts["underperformance"].severity == "critical" and alerts["underperformance"].site_id == "t-wind"
    assert "35 %" in alerts["underperformance"].title
    assert alerts["integration"].state.value == "resolved"


def test_ack_and_resolve_through_the_api_are_audited(client, small_fleet):
    db = small_fleet.db
    with db.session() as s:
        s.add(Alert(site_id="t-sol", rule="underperformance", severity="warning", title="INV-02 low"))
    alert_id = 1
    viewer = create_token(db, "viewer", ["read"], Role.viewer)
    operator = create_token(db, "operator", ["*"], Role.operator)
    listed = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {viewer}"})
    assert listed.status_code == 200 and listed.json["count"] == 1
    denied = client.post(f"/api/v1/alerts/{alert_id}/ack", headers={"Authorization": f"Bearer {viewer}"})
    assert denied.status_code == 403
    op = {"Authorization": f"Bearer {operator}", "Content-Type": "application/json"}
    acked = client.post(f"/api/v1/alerts/{alert_id}/ack", data=orjson.dumps({"note": "crew on site"}), headers=op)
    assert acked.status_code == 200 and acked.json["state"] == "acknowledged"
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=op).status_code == 409
    assert client.post(f"/api/v1/alerts/{alert_id}/resolve", headers=op).json["state"] == "resolved"
    assert client.post("/api/v1/alerts/999/resolve", headers=op).status_code == 404
    bad = client.post(f"/api/v1/alerts/{alert_id}/resolve", data=b'{"note": 5}', headers=op)
    assert bad.status_code in (400, 409)
    with db.session() as s:
        kinds = [e.kind for e in s.execute(select(Event).where(Event.entity_type == "alert")).scalars()]
    assert kinds == ["alert.acknowledged", "alert.resolved"]
    assert client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {viewer}"}).json["count"] == 0
