"""Replaying dead letters: one dead letter per failed message, however often its replay fails, and
the admin page's selection, detail pane and replay action always naming the same dead letter."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from data.models import Asset, AssetKind, DeadLetter, Event, Role, TelemetryPoint
from tests.security.conftest import csrf_header, make_user, sign_in


@pytest.fixture()
def admin_token(services):
    """Return a bearer token of role admin."""
    from security.tokens import create_token

    return create_token(services.db, "test-admin", ["*"], Role.admin)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _letters(db) -> list[DeadLetter]:
    with db.session() as s:
        return list(s.execute(select(DeadLetter).order_by(DeadLetter.id)).scalars())


def _ts(minutes_ago: int = 1) -> str:
    return (dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=minutes_ago)).isoformat()


def _add_asset(services, asset_id: str) -> None:
    with services.db.session() as s:
        s.add(Asset(id=asset_id, site_id="t-sol", name=asset_id, kind=AssetKind.inverter, capacity_kw=1000.0))
    services.ingest.assets.refresh()


def test_a_replay_that_fails_again_counts_on_the_original(client, small_fleet, ingest_token, admin_token):
    body = {"points": [{"asset_id": "t-sol-INV-77", "metric": "power_kw", "ts": _ts(), "value": 20.0}]}
    assert client.post("/api/v1/telemetry", json=body, headers=_auth(ingest_token)).status_code == 422
    [letter] = _letters(small_fleet.db)
    assert letter.attempts == 1 and letter.last_error is None and letter.last_attempt_at is None
    for attempt in (2, 3):
        before = dt.datetime.now(dt.UTC)
        refused = client.post(f"/api/v1/dead-letters/{letter.id}/replay", headers=_auth(admin_token))
        assert refused.status_code == 422 and "unknown asset" in refused.get_json()["error"]["message"]
        [again] = _letters(small_fleet.db)  # still one dead letter, the same one
        assert again.id == letter.id and again.attempts == attempt
        assert "unknown asset 't-sol-INV-77'" in again.last_error and again.last_attempt_at >= before
        assert again.reason == letter.reason and again.replayed_at is None
    _add_asset(small_fleet, "t-sol-INV-77")
    done = client.post(f"/api/v1/dead-letters/{letter.id}/replay", headers=_auth(admin_token)).get_json()
    assert done["outcome"] == "resubmitted" and done["dead_letter"]["attempts"] == 4
    [final] = _letters(small_fleet.db)
    assert final.replayed_at is not None and final.attempts == 4
    with small_fleet.db.session() as s:
        kinds = [e.kind for e in s.execute(select(Event).where(Event.entity_id == str(letter.id))).scalars()]
        assert s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one() == 1
    assert kinds == ["dead_letter.replay_failed", "dead_letter.replay_failed", "dead_letter.replayed"]


def test_a_republished_message_whose_consumer_fails_again_makes_no_new_dead_letter(client, small_fleet, admin_token):
    from bus.deadletter import dead_letter

    ts_ms = int(dt.datetime.now(dt.UTC).timestamp()) * 1000
    message = {"v": 1, "source": "test", "asset_id": ["t-wind-WTG-01"], "metric": ["power_kw"], "ts_ms": [ts_ms],
               "value": [55.0]}
    letter_id = dead_letter(small_fleet.db, "bus.audit", "telemetry.v1", "audit: OperationalError: locked", message)

    def failing_audit(_message):
        raise RuntimeError("audit store still down")

    small_fleet.bus.subscribe("telemetry.v1", failing_audit, group="audit")
    refused = client.post(f"/api/v1/dead-letters/{letter_id}/replay", headers=_auth(admin_token))
    assert refused.status_code == 503
    [letter] = _letters(small_fleet.db)
    assert letter.id == letter_id and letter.attempts == 2
    assert "audit store still down" in letter.last_error and letter.replayed_at is None


def test_a_csv_row_is_replayed_by_the_csv_rules(client, small_fleet, ingest_token, admin_token):
    csv_body = f"asset_id,metric,ts,value\nt-sol-INV-78,power_kw,{_ts()},1.5e2\n"
    response = client.post("/api/v1/telemetry", data=csv_body, content_type="text/csv", headers=_auth(ingest_token))
    assert response.status_code == 422
    [letter] = _letters(small_fleet.db)
    assert letter.payload["format"] == "csv" and letter.payload["row"]["value"] == "1.5e2"
    _add_asset(small_fleet, "t-sol-INV-78")
    done = client.post(f"/api/v1/dead-letters/{letter.id}/replay", headers=_auth(admin_token))
    assert done.status_code == 200, done.get_json()
    with small_fleet.db.session() as s:
        assert s.execute(select(TelemetryPoint.value)).scalar_one() == 150.0


# --- the admin page, through Dash's callback endpoint ------------------------------------------------


def _dash(client, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
          state: list[tuple[str, str, object]] = ()) -> dict:
    """Run one Dash callback through /_dash-update-component and return {id: {property: value}}."""
    if len(outputs) == 1:
        output, outputs_spec = f"{outputs[0][0]}.{outputs[0][1]}", {"id": outputs[0][0], "property": outputs[0][1]}
    else:
        output = ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
        outputs_spec = [{"id": i, "property": p} for i, p in outputs]
    body = {"output": output, "outputs": outputs_spec,
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]}
    response = client.post("/_dash-update-component", json=body, headers=csrf_header(client))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["response"]


def _rows(client, selected_id):
    out = _dash(client, [("dl-table", "data"), ("dl-table", "selected_rows")],
                [("dl-topic", "value", None), ("dl-state", "value", None), ("dl-reload", "n_clicks", None),
                 ("dl-result", "children", None)], [("dl-selected", "data", selected_id)])
    return out["dl-table"]["data"], out["dl-table"]["selected_rows"]


def _detail(client, selected_rows, data):
    out = _dash(client, [("dl-detail", "children"), ("dl-selected", "data")],
                [("dl-table", "selected_rows", selected_rows)], [("dl-table", "data", data)])
    return str(out["dl-detail"]["children"]), out["dl-selected"]["data"]


def test_selection_detail_and_replay_name_the_same_dead_letter(dash_app, client, small_fleet, ingest_token):
    for k in range(3):
        body = {"points": [{"asset_id": f"t-sol-INV-9{k}", "metric": "power_kw", "ts": _ts(k + 1), "value": 1.0}]}
        assert client.post("/api/v1/telemetry", json=body, headers=_auth(ingest_token)).status_code == 422
    make_user(small_fleet.db, "admin", "ada")
    admin = dash_app.server.test_client()
    assert sign_in(admin, "ada").status_code == 302
    data, selected_rows = _rows(admin, None)
    assert [r["id"] for r in data] == [3, 2, 1] and selected_rows == []
    # the operator picks the middle row: dead letter 2
    detail, selected_id = _detail(admin, [1], data)
    assert selected_id == 2 and "id 2 " in detail and "attempts 1" in detail
    result = _dash(admin, [("dl-result", "children")], [("dl-replay", "n_clicks", 1)],
                   [("dl-selected", "data", selected_id), ("dl-force", "value", [])])["dl-result"]["children"]
    assert "Dead letter 2 not replayed" in str(result) and "unknown asset 't-sol-INV-91'" in str(result)
    # meanwhile another batch fails: a new dead letter comes first in the table
    body = {"points": [{"asset_id": "t-sol-INV-99", "metric": "power_kw", "ts": _ts(9), "value": 1.0}]}
    assert client.post("/api/v1/telemetry", json=body, headers=_auth(ingest_token)).status_code == 422
    data, selected_rows = _rows(admin, selected_id)
    assert [r["id"] for r in data] == [4, 3, 2, 1]
    assert selected_rows == [2] and data[2]["id"] == 2 and data[2]["attempts"] == 2  # still dead letter 2
    assert "unknown asset" in data[2]["last_error"] and data[2]["last_attempt_at"]
    detail, selected_id = _detail(admin, selected_rows, data)
    assert selected_id == 2 and "id 2 " in detail and "attempts 2" in detail and "Last error" in detail
    # fixed: the next replay acts on dead letter 2 and the page still shows dead letter 2
    _add_asset(small_fleet, "t-sol-INV-91")
    result = _dash(admin, [("dl-result", "children")], [("dl-replay", "n_clicks", 2)],
                   [("dl-selected", "data", selected_id), ("dl-force", "value", [])])["dl-result"]["children"]
    assert "Dead letter 2 resubmitted" in str(result)
    data, selected_rows = _rows(admin, selected_id)
    assert data[selected_rows[0]]["id"] == 2 and data[selected_rows[0]]["replayed_at"]
    assert len(_letters(small_fleet.db)) == 4
    # a filter that hides the selected row clears the selection instead of moving it
    out = _dash(admin, [("dl-table", "data"), ("dl-table", "selected_rows")],
                [("dl-topic", "value", None), ("dl-state", "value", "open"), ("dl-reload", "n_clicks", None),
                 ("dl-result", "children", None)], [("dl-selected", "data", 2)])
    assert out["dl-table"]["selected_rows"] == [] and 2 not in [r["id"] for r in out["dl-table"]["data"]]
    detail, selected_id = _detail(admin, [], out["dl-table"]["data"])
    assert selected_id is None and "Select a dead letter" in detail
