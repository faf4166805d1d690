"""POST/GET /api/v1/telemetry: auth, formats, bad input, exactly-once storage, series reads."""
from __future__ import annotations

import datetime as dt

import orjson
from sqlalchemy import func, select

from data.models import DeadLetter, TelemetryPoint

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def iso(minutes_ago: int) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).isoformat()


def post_json(client, token, body, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/telemetry", data=orjson.dumps(body), content_type="application/json", headers=headers, **kw)


def count_points(db) -> int:
    with db.session() as s:
        return s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one()


def test_ingest_requires_a_valid_token(client, small_fleet):
    assert post_json(client, None, {"points": []}).status_code == 401
    response = post_json(client, "fl_wrong-token-value-000000000", {"points": []})
    assert response.status_code == 401
    assert "invalid" in response.json["error"]["message"]


def test_token_without_write_scope_is_forbidden(client, small_fleet):
    from data.models import Role
    from security.tokens import create_token

    reader = create_token(small_fleet.db, "reader", ["read"], Role.viewer)
    response = post_json(client, reader, {"points": [{"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": iso(1), "value": 1}]})
    assert response.status_code == 403


def test_good_batch_stored_exactly_once(client, small_fleet, ingest_token):
    body = {"points": [{"asset_id": a, "metric": "power_kw", "ts": iso(m), "value": 100.0 + m}
                       for a in ("t-sol-INV-01", "t-wind-WTG-01") for m in range(5)]}
    first = post_json(client, ingest_token, body)
    assert first.status_code == 200, first.json
    assert first.json["stored"] == 10 and first.json["rejected"] == 0
    again = post_json(client, ingest_token, body)
    assert again.status_code == 200
    assert again.json["stored"] == 0 and again.json["duplicates"] == 10
    assert count_points(small_fleet.db) == 10


def test_mixed_batch_keeps_good_rows_and_names_bad_ones(client, small_fleet, ingest_token):
    rows = [
        {"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": iso(1), "value": 10},
        {"asset_id": "ghost", "metric": "power_kw", "ts": iso(1), "value": 10},
        {"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": iso(2), "value": "NaN"},
        {"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": iso(3), "value": "abc"},
        {"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": "2026-01-01T00:00:00", "value": 1},
        {"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": (NOW + dt.timedelta(days=2)).isoformat(), "value": 1},
        {"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": iso(1), "value": 11},
        {"asset_id": "t-sol-INV-02", "metric": "power_kw", "ts": iso(1), "value": 12},
    ]
    response = post_json(client, ingest_token, rows)
    assert response.status_code == 422
    body = response.json
    assert body["stored"] == 2 and body["rejected"] == 6
    fields = {e["index"]: (e["field"], e["error"]) for e in body["errors"]}
    assert fields[1][0] == "asset_id" and "unknown asset" in fields[1][1]
    assert fields[2][0] == "value" and fields[3][0] == "value"
    assert fields[4][0] == "ts" and "timezone" in fields[4][1]
    assert "future" in fields[5][1]
    assert "duplicate of row 0" in fields[6][1]
    assert count_points(small_fleet.db) == 2
    with small_fleet.db.session() as s:
        letters = s.execute(select(DeadLetter)).scalars().all()
    assert len(letters) == 6
    assert all(d.reason and d.payload["row"] for d in letters)


def test_csv_batch(client, small_fleet, ingest_token):
    csv_body = "asset_id,metric,ts,value\n" + "".join(
        f"t-wind-WTG-02,power_kw,{iso(m)},{500 + m}\n" for m in range(3)
    ) + f"t-wind-WTG-02,wind_speed_ms,{iso(0)},7.5\n"
    response = client.post("/api/v1/telemetry", data=csv_body, content_type="text/csv",
                           headers={"Authorization": f"Bearer {ingest_token}"})
    assert response.status_code == 200, response.json
    assert response.json["stored"] == 4


def test_unreadable_bodies(client, small_fleet, ingest_token):
    auth = {"Authorization": f"Bearer {ingest_token}"}
    bad_json = client.post("/api/v1/telemetry", data=b'{"points": [', content_type="application/json", headers=auth)
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json["error"]["message"]
    xml = client.post("/api/v1/telemetry", data=b"<a/>", content_type="application/xml", headers=auth)
    assert xml.status_code == 415
    header = client.post("/api/v1/telemetry", data="a,b\n1,2\n", content_type="text/csv", headers=auth)
    assert header.status_code == 400 and "missing" in header.json["error"]["message"]
    empty = post_json(client, ingest_token, {"points": []})
    assert empty.status_code == 400


def test_oversized_body_is_refused(client, small_fleet, ingest_token):
    limit = small_fleet.settings.ingest_max_body_bytes
    big = b'{"points": [' + b" " * (limit + 10) + b"]}"
    response = client.post("/api/v1/telemetry", data=big, content_type="application/json",
                           headers={"Authorization": f"Bearer {ingest_token}"})
    assert response.status_code == 413
    assert count_points(small_fleet.db) == 0


def test_series_read_back_at_resolutions(client, small_fleet, ingest_token):
    base = NOW.replace(minute=0, second=0) - dt.timedelta(hours=2)
    rows = [{"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": (base + dt.timedelta(minutes=5 * i)).isoformat(),
             "value": float(i)} for i in range(12)]
    assert post_json(client, ingest_token, rows).status_code == 200
    auth = {"Authorization": f"Bearer {ingest_token}"}
    params = {"asset_id": "t-sol-INV-01", "start": base.isoformat(), "end": (base + dt.timedelta(hours=1)).isoformat()}
    raw = client.get("/api/v1/telemetry", query_string={**params, "resolution": "raw"}, headers=auth)
    assert raw.status_code == 200 and raw.json["count"] == 12
    quarter = client.get("/api/v1/telemetry", query_string={**params, "resolution": "15min"}, headers=auth).json
    assert [p["value"] for p in quarter["points"]] == [1.0, 4.0, 7.0, 10.0]
    assert quarter["interval_label"] == "start"
    hourly = client.get("/api/v1/telemetry", query_string={"site_id": "t-sol", "resolution": "1h",
                                                           "start": params["start"], "end": params["end"]}, headers=auth).json
    assert hourly["points"][0]["value"] == 5.5 and hourly["points"][0]["count"] == 12


def test_series_parameters_validated(client, small_fleet, ingest_token):
    auth = {"Authorization": f"Bearer {ingest_token}"}
    bad = client.get("/api/v1/telemetry", query_string={"asset_id": "x", "resolution": "5min"}, headers=auth)
    assert bad.status_code == 400 and bad.json["error"]["details"][0]["field"] == "resolution"
    naive = client.get("/api/v1/telemetry", query_string={"asset_id": "x", "start": "2026-01-01T00:00"}, headers=auth)
    assert naive.status_code == 400 and "start" in naive.json["error"]["message"]
    neither = client.get("/api/v1/telemetry", headers=auth)
    assert neither.status_code == 400 and "asset_id or site_id" in str(neither.json)
    # times at the ends of the calendar (found by the API fuzz test: they used to overflow into a 500)
    for start, end, field in (("", "0001-01-01T00:00:00Z", "end"), ("0001-01-01T00:00:00+05:00", "", "start"),
                              ("9999-12-31T00:00:00-05:00", "9999-12-31T23:00:00-05:00", "start")):
        query = {"asset_id": "x", **({"start": start} if start else {}), **({"end": end} if end else {})}
        far = client.get("/api/v1/telemetry", query_string=query, headers=auth)
        assert far.status_code == 400 and far.json["error"]["details"][0]["field"] == field, far.json
        assert "between 1970-01-01 and 2200-01-01" in str(far.json)


def test_nul_characters_are_rejected_and_kept(client, small_fleet, ingest_token):
    rows = [{"asset_id": "ghost\x00id", "metric": "power_kw", "ts": iso(1), "value": 1.0}]
    response = post_json(client, ingest_token, rows)
    assert response.status_code == 422
    csv_body = "asset_id,metric,ts,value\n\x00,power_kw,x,1\n"
    response = client.post("/api/v1/telemetry", data=csv_body, content_type="text/csv",
                           headers={"Authorization": f"Bearer {ingest_token}"})
    assert response.status_code == 422
    with small_fleet.db.session() as s:
        assert len(s.execute(select(DeadLetter)).scalars().all()) == 2
