"""POST /api/v1/telemetry over a real loopback HTTP server: body limits (chunked or not), bad rows at
the ends of the calendar, deep nesting, strict types. Each case used to store partial data or 500."""
from __future__ import annotations

import datetime as dt
import http.client
import threading
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from data.models import DeadLetter, TelemetryPoint

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture()
def served(dash_app, small_fleet):
    """Yield the port of the app served by werkzeug's threaded server on loopback."""
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(5)


def count(db, model) -> int:
    with db.session() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def send(port: int, token: str, content_type: str, body: bytes | Iterator[bytes], chunked: bool):
    """POST ``body`` (chunked: an iterator of chunks) and return (status, decoded JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    try:
        if chunked:
            conn.request("POST", "/api/v1/telemetry", body=body, headers=headers, encode_chunked=True)
        else:
            conn.request("POST", "/api/v1/telemetry", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, orjson.loads(response.read() or b"null")
    finally:
        conn.close()


CSV_HEADER = b"asset_id,metric,ts,value,note\n"
NOTE = "x" * 200  # an extra column (ignored) so that the body passes the size limit below the row limit


def csv_lines(n: int) -> list[bytes]:
    """Return ``n`` distinct good CSV lines (one asset, one point per second) of about 260 bytes."""
    start = NOW - dt.timedelta(days=20)
    return [f"t-sol-INV-01,power_kw,{(start + dt.timedelta(seconds=i)).isoformat()},55.5,{NOTE}\n".encode()
            for i in range(n)]


def in_chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_csv_body_over_the_limit_is_refused_whole(served, small_fleet, ingest_token, chunked):
    limit = small_fleet.settings.ingest_max_body_bytes
    lines = csv_lines(limit // 250 + 500)
    body = CSV_HEADER + b"".join(lines)
    assert len(body) > limit
    status, answer = send(served, ingest_token, "text/csv", in_chunks(body) if chunked else body, chunked)
    assert status == 413, answer
    assert f"limit of {limit} bytes" in answer["error"]["message"]
    assert count(small_fleet.db, TelemetryPoint) == 0 and count(small_fleet.db, DeadLetter) == 0


def test_json_body_over_the_limit_is_refused_whole(served, small_fleet, ingest_token):
    limit = small_fleet.settings.ingest_max_body_bytes
    point = {"asset_id": "t-sol-INV-01", "metric": "power_kw", "value": 55.5}
    start = NOW - dt.timedelta(days=20)
    points = [{**point, "ts": (start + dt.timedelta(seconds=i)).isoformat()} for i in range(45_000)]
    body = orjson.dumps({"points": points})
    body = body[:-1] + b" " * (limit - len(body) + 100) + b"}"  # JSON whitespace past the limit
    assert len(body) > limit
    status, answer = send(served, ingest_token, "application/json", in_chunks(body), chunked=True)
    assert status == 413, answer  # was 400 "not valid JSON": the body had been cut at the limit
    assert f"limit of {limit} bytes" in answer["error"]["message"]
    assert count(small_fleet.db, TelemetryPoint) == 0 and count(small_fleet.db, DeadLetter) == 0


def test_chunked_body_under_the_limit_is_stored_exactly(served, small_fleet, ingest_token):
    lines = csv_lines(2000)
    body = CSV_HEADER + b"".join(lines)
    status, answer = send(served, ingest_token, "text/csv", in_chunks(body, 777), chunked=True)
    assert status == 200, answer
    assert answer["stored"] == 2000
    with small_fleet.db.session() as s:
        values = set(s.execute(select(TelemetryPoint.value)).scalars())
    assert values == {55.5}


def post(client, token, body: bytes, content_type: str = "application/json"):
    return client.post("/api/v1/telemetry", data=body, content_type=content_type,
                       headers={"Authorization": f"Bearer {token}"})


def good(minutes_ago: int, **overrides) -> dict:
    point = {"asset_id": "t-sol-INV-01", "metric": "power_kw",
             "ts": (NOW - dt.timedelta(minutes=minutes_ago)).isoformat(), "value": 10.0 + minutes_ago}
    return {**point, **overrides}


def test_timestamps_at_the_ends_of_the_calendar_are_rejected_by_row(client, small_fleet, ingest_token):
    rows = [good(1), good(2, ts="0001-01-01T00:30:00+01:00"), good(3), good(4, ts="9999-12-31T23:30:00-01:00"),
            good(5, ts="0001-01-01T00:00:00Z"), good(6, ts="9999-12-31T23:59:59.999999Z")]
    response = post(client, ingest_token, orjson.dumps({"points": rows}))
    assert response.status_code == 422, response.json
    body = response.json
    assert body["stored"] == 2 and body["rejected"] == 4
    errors = {e["index"]: e for e in body["errors"]}
    assert set(errors) == {1, 3, 4, 5}
    assert all(e["field"] == "ts" for e in errors.values())
    assert "older than" in errors[1]["error"] and "future" in errors[3]["error"]
    assert count(small_fleet.db, TelemetryPoint) == 2
    assert count(small_fleet.db, DeadLetter) == 4


def test_json_nested_deep_is_a_client_error(client, small_fleet, ingest_token):
    deep = b"[" * 1000 + b"1" + b"]" * 1000  # below orjson's own depth limit of 1024
    as_body = post(client, ingest_token, deep)
    assert as_body.status_code == 422, as_body.json
    assert as_body.json["errors"][0]["field"] == "row" and "got an array" in as_body.json["errors"][0]["error"]
    too_deep = post(client, ingest_token, b"[" * 1100 + b"]" * 1100)
    assert too_deep.status_code == 400 and "depth" in too_deep.json["error"]["message"]
    in_value = post(client, ingest_token, b'{"points": [' + orjson.dumps(good(1)) + b', {"asset_id": "t-sol-INV-01", '
                    b'"metric": "power_kw", "ts": "' + good(2)["ts"].encode() + b'", "value": ' + deep[:-2] + b"]]}]}")
    assert in_value.status_code == 422, in_value.json
    error = in_value.json["errors"][0]
    assert error["index"] == 1 and error["field"] == "value" and "array" in error["error"]
    assert count(small_fleet.db, TelemetryPoint) == 1
    nested_row = post(client, ingest_token, b'{"points": [' + deep + b"]}")
    assert nested_row.status_code == 422 and nested_row.json["errors"][0]["field"] == "row"


@pytest.mark.parametrize(
    ("bad", "field", "fragment"),
    [
        ({"value": True}, "value", "boolean"),
        ({"value": False}, "value", "boolean"),
        ({"value": "55.5"}, "value", "numeric strings are not accepted"),
        ({"value": None}, "value", "null"),
        ({"ts": 1780314900}, "ts", "epoch numbers are not accepted"),
        ({"ts": 1780314900000.0}, "ts", "epoch numbers are not accepted"),
        ({"ts": "1780314900"}, "ts", "not an RFC 3339 date-time"),
        ({"ts": "2026-06-01"}, "ts", "not an RFC 3339 date-time"),
        ({"ts": "2026-06-01T11:55Z"}, "ts", "not an RFC 3339 date-time"),
        ({"ts": "2026-02-30T11:55:00Z"}, "ts", "not a date and time of the calendar"),
        ({"ts": "2026-06-01 11:55:00"}, "ts", "no timezone offset"),
        ({"ts": "２０２６-06-01T11:55:00Z"}, "ts", "not an RFC 3339"),
        ({"asset_id": 17}, "asset_id", "must be a string"),
        ({"asset_id": ""}, "asset_id", "must not be empty"),
        ({"metric": ["power_kw"]}, "metric", "must be a string"),
    ],
)
def test_strict_types_by_default(client, small_fleet, ingest_token, bad, field, fragment):
    rows = [good(1), good(2, **bad), good(3)]
    response = post(client, ingest_token, orjson.dumps(rows))
    assert response.status_code == 422, response.json
    assert response.json["stored"] == 2
    [error] = response.json["errors"]
    assert error["index"] == 1 and error["field"] == field and fragment in error["error"], error
    with small_fleet.db.session() as s:
        letter = s.execute(select(DeadLetter)).scalar_one()
    assert letter.payload["format"] == "json" and letter.reason.startswith(f"{field}: ")


def test_integer_values_and_offsets_are_accepted(client, small_fleet, ingest_token):
    local = (NOW - dt.timedelta(minutes=5)).astimezone(dt.timezone(dt.timedelta(hours=-5, minutes=-30)))
    rows = [good(1, value=12), good(2, ts=(NOW - dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")),
            good(3, ts=local.isoformat())]
    response = post(client, ingest_token, orjson.dumps(rows))
    assert response.status_code == 200, response.json
    with small_fleet.db.session() as s:
        stamps = sorted(s.execute(select(TelemetryPoint.ts)).scalars())
    assert stamps[0] == NOW - dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("true", "not a finite decimal number"), ("nan", "not a finite decimal number"),
     ("inf", "not a finite decimal number"), ("1,5", "not a finite decimal number"), ("", "not a finite decimal")],
)
def test_csv_values_are_decimal_numbers(client, small_fleet, ingest_token, value, fragment):
    ts = [(NOW - dt.timedelta(minutes=m)).isoformat() for m in (1, 2, 3)]
    body = (f"asset_id,metric,ts,value\nt-sol-INV-01,power_kw,{ts[0]},1.5e2\n"
            f't-sol-INV-01,power_kw,{ts[1]},"{value}"\nt-sol-INV-01,power_kw,{ts[2]},-3\n')
    response = post(client, ingest_token, body.encode(), "text/csv")
    assert response.status_code == 422, response.json
    assert response.json["stored"] == 2
    [error] = response.json["errors"]
    assert error["index"] == 1 and error["field"] == "value" and fragment in error["error"]
    with small_fleet.db.session() as s:
        assert sorted(s.execute(select(TelemetryPoint.value)).scalars()) == [-3.0, 150.0]
        assert s.execute(select(DeadLetter)).scalar_one().payload["format"] == "csv"


def test_openapi_describes_exactly_what_is_accepted(client):
    from ingest.validation import TS_PATTERN

    doc = client.get("/api/v1/openapi.json").json
    point = doc["components"]["schemas"]["PointIn"]
    assert point["additionalProperties"] is False
    assert sorted(point["required"]) == ["asset_id", "metric", "ts", "value"]
    assert point["properties"]["value"]["type"] == "number"
    ts = point["properties"]["ts"]
    assert ts["type"] == "string" and ts["format"] == "date-time" and ts["pattern"] == TS_PATTERN
    operation = doc["paths"]["/telemetry"]["post"]
    assert "text/csv" in operation["requestBody"]["content"]
    assert "413" in operation["responses"]


@pytest.mark.parametrize(
    ("bad", "field", "fragment"),
    [
        ({"ts": "2026-06-30T23:59:60Z"}, "ts", "leap second"),  # polars read it, Python's datetime did not: 500
        ({"asset_id": 17, "ts": 1780314900}, "asset_id", "must be a string"),  # two wrong types in one row: 500
        ({"metric": None, "ts": 1780314900000.0, "value": "1"}, "metric", "must be a string"),
    ],
)
def test_a_row_that_used_to_break_the_batch_is_rejected_by_name(client, small_fleet, ingest_token, bad, field,
                                                               fragment):
    rows = [good(1), good(2, **bad), good(3)]
    response = post(client, ingest_token, orjson.dumps({"points": rows}))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["stored"] == 2
    [error] = response.json["errors"]
    assert error["index"] == 1 and error["field"] == field and fragment in error["error"], error
    assert count(small_fleet.db, TelemetryPoint) == 2 and count(small_fleet.db, DeadLetter) == 1


def test_a_number_beyond_a_double_is_rejected_by_row(client, small_fleet, ingest_token):
    too_large = orjson.dumps(good(2, value=0)).replace(b'"value":0', b'"value":1e400')  # valid JSON
    rows = [orjson.dumps(good(1)), too_large, orjson.dumps(good(3))]
    response = post(client, ingest_token, b'{"points": [' + b", ".join(rows) + b"]}")
    assert response.status_code == 422, response.json  # was 400 "number is infinity" for the whole batch
    assert response.json["stored"] == 2
    [error] = response.json["errors"]
    assert error["index"] == 1 and error["field"] == "value" and "not a finite number" in error["error"], error
    assert count(small_fleet.db, TelemetryPoint) == 2 and count(small_fleet.db, DeadLetter) == 1
    broken = post(client, ingest_token, b'{"points": [{"value": 1e400, ]}')
    assert broken.status_code == 400 and "not valid JSON" in broken.json["error"]["message"]
