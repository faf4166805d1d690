"""The OpenAPI document of POST /api/v1/telemetry describes exactly what the validator accepts.

Rows are built from every combination of good and bad field values (types, grammar of ``ts``,
missing and extra fields); each is checked against the ``PointIn`` schema served at
/api/v1/openapi.json (JSON Schema 2020-12, ``pattern`` included) and run through the validator.
Asset, metric, time window and value range are chosen inside the server's rules, so that a row is
accepted exactly when the schema says it is valid and its date and time exist in the calendar (the
one rule a JSON Schema pattern cannot state; the description of ``ts`` says it).
"""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import jsonschema
import pytest

from ingest.validation import BatchFormatError, parse_json_batch, validate_rows

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
CAPACITY = {"t-sol-INV-01": 1000.0, "x" * 80: 1000.0, "x" * 81: 1000.0}
MISSING = object()

ASSET_IDS = ["t-sol-INV-01", "x" * 80, "x" * 81, "", 17, None, True, ["t-sol-INV-01"]]
METRIC_NAMES = ["power_kw", "", 3, None, {"name": "power_kw"}]
STAMPS = [
    "2026-06-01T11:55:00Z", "2026-06-01T11:55:00.5Z", "2026-06-01T11:55:00.123456+05:30",
    "2026-06-01T11:55:00-01:00", "2026-06-01T11:55:00.1234567Z", "2026-06-01T11:55:00+0100",
    "2026-06-01T11:55Z", "2026-06-01", "2026-06-01 11:55:00Z", "2026-06-01T11:55:00", "2026-06-01t11:55:00z",
    "2026-02-30T11:55:00Z", "2026-06-30T23:59:60Z", "2026-13-01T00:00:00Z", "2026-06-01T24:00:00Z",
    "2026-06-01T11:55:00+24:00", "1780314900", 1780314900, 1780314900000.0, None, True, "２０２６-06-01T11:55:00Z",
]
VALUES = [10, 10.5, -0.0, 0, 1e2, True, False, "10.5", "10", None, [10.5], {"v": 1}]


def _point_schema(client) -> dict[str, Any]:
    doc = client.get("/api/v1/openapi.json").json
    registry_doc = {"components": doc["components"]}
    body = doc["paths"]["/telemetry"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return {**body, "components": registry_doc["components"]}


def _calendar(ts: Any) -> bool:
    """Return whether a ts string names an existing date and time (fromisoformat refuses Feb 30, :60, 24:00)."""
    try:
        dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return False
    return True


def _rows() -> list[dict[str, Any]]:
    fields = {"asset_id": ASSET_IDS, "metric": METRIC_NAMES, "ts": STAMPS, "value": VALUES}
    good = {"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": "2026-06-01T11:55:00Z", "value": 10.5}
    rows = []
    for name, options in fields.items():  # each field through every option, the others good
        for option in [*options, MISSING]:
            rows.append({k: (option if k == name else v) for k, v in good.items()})
    for a, m, t, v in itertools.product(ASSET_IDS[:4], METRIC_NAMES[:3], STAMPS[::3], VALUES[::2]):  # and mixed
        rows.append({"asset_id": a, "metric": m, "ts": t, "value": v})
    rows += [{**good, "extra": 1}, {**good, "Value": 1}, {}, {"points": [good]}]
    return [{k: v for k, v in row.items() if v is not MISSING} for row in rows]


def test_every_row_is_accepted_exactly_when_the_schema_and_the_calendar_say_so(client):
    schema = _point_schema(client)
    point = jsonschema.Draft202012Validator({**schema["components"]["schemas"]["PointIn"],
                                             "components": schema["components"]})
    disagreements = []
    rows = _rows()
    assert len(rows) > 300
    for row in rows:
        expected = point.is_valid(row) and _calendar(row.get("ts"))
        outcome = validate_rows([row], CAPACITY, NOW)
        accepted = len(outcome.points) == 1
        if accepted != expected:
            disagreements.append((row, expected, [r.error for r in outcome.rejected]))
    assert disagreements == []


@pytest.mark.parametrize("body", [
    {"points": []}, [], {"points": [{}]}, [{}], {"points": [], "meta": 1}, {"data": []}, {"points": {}}, "points",
    17, None, {"points": None},
])
def test_the_envelope_is_accepted_exactly_when_the_schema_says_so(client, body):
    schema = _point_schema(client)
    # the envelope alone: rows are checked above, so any row shape passes here
    envelope = jsonschema.Draft202012Validator({
        "oneOf": [{**schema["oneOf"][0], "properties": {"points": {"type": "array"}}}, {"type": "array"}]})
    try:
        parse_json_batch(body, 100)
        accepted = True
    except BatchFormatError:
        accepted = False
    assert accepted == envelope.is_valid(body)
