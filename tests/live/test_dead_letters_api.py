"""Dead letters through the API: listing needs admin; replay re-validates, marks, audits."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from data.models import Asset, AssetKind, Event, TelemetryPoint


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_rejected_row_is_listed_and_replayed_once_fixed(client, small_fleet, ingest_token, admin_token, viewer_token):
    ts = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    body = {"points": [{"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": ts, "value": 10.0},
                       {"asset_id": "t-sol-INV-99", "metric": "power_kw", "ts": ts, "value": 20.0}]}
    assert client.post("/api/v1/telemetry", json=body, headers=_auth(ingest_token)).status_code == 422
    assert client.get("/api/v1/dead-letters", headers=_auth(viewer_token)).status_code == 403
    listing = client.get("/api/v1/dead-letters?topic=telemetry.v1", headers=_auth(admin_token)).get_json()
    assert listing["total"] == 1
    letter = listing["items"][0]
    assert "unknown asset 't-sol-INV-99'" in letter["reason"] and letter["replayed_at"] is None
    # still invalid: refused, not marked
    refused = client.post(f"/api/v1/dead-letters/{letter['id']}/replay", headers=_auth(admin_token))
    assert refused.status_code == 422 and "unknown asset" in refused.get_json()["error"]["message"]
    # the asset is commissioned: the replay now stores the row
    with small_fleet.db.session() as s:
        s.add(Asset(id="t-sol-INV-99", site_id="t-sol", name="late inverter", kind=AssetKind.inverter, capacity_kw=1000.0))
    small_fleet.ingest.assets.refresh()
    done = client.post(f"/api/v1/dead-letters/{letter['id']}/replay", headers=_auth(admin_token))
    assert done.status_code == 200 and done.get_json()["outcome"] == "resubmitted"
    again = client.post(f"/api/v1/dead-letters/{letter['id']}/replay", headers=_auth(admin_token))
    assert again.status_code == 409
    with small_fleet.db.session() as s:
        stored = s.execute(select(func.count()).select_from(TelemetryPoint).where(TelemetryPoint.asset_id == "t-sol-INV-99")).scalar_one()
        events = s.execute(select(Event).where(Event.kind == "dead_letter.replayed")).scalars().all()
    assert stored == 1
    assert len(events) == 1 and events[0].actor == "token:test-admin" and events[0].entity_id == str(letter["id"])
    shown = client.get(f"/api/v1/dead-letters/{letter['id']}", headers=_auth(admin_token)).get_json()
    assert shown["replayed_at"] is not None and shown["payload"]["row"]["asset_id"] == "t-sol-INV-99"


def test_bus_message_dead_letter_is_republished(client, small_fleet, admin_token):
    from bus.deadletter import dead_letter

    ts_ms = int(dt.datetime.now(dt.UTC).timestamp()) * 1000
    message = {"v": 1, "source": "test", "asset_id": ["t-wind-WTG-01"], "metric": ["power_kw"], "ts_ms": [ts_ms],
               "value": [55.0]}
    letter_id = dead_letter(small_fleet.db, "bus.store", "telemetry.v1", "handler store: OperationalError: locked", message)
    done = client.post(f"/api/v1/dead-letters/{letter_id}/replay", headers=_auth(admin_token))
    assert done.status_code == 200 and done.get_json()["outcome"] == "republished"
    with small_fleet.db.session() as s:
        assert s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one() == 1
    assert client.post("/api/v1/dead-letters/999999/replay", headers=_auth(admin_token)).status_code == 404
