"""Validation of telemetry batches: every bad row named, good rows kept."""
from __future__ import annotations

import datetime as dt

import pytest

from ingest.validation import BatchFormatError, parse_csv_batch, parse_json_batch, validate_rows

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
CAPS = {"a1": 1000.0, "a2": 2000.0}


def row(**overrides):
    base = {"asset_id": "a1", "metric": "power_kw", "ts": "2026-06-01T11:55:00Z", "value": 500.0}
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("bad", "field", "fragment"),
    [
        (row(asset_id="nope"), "asset_id", "unknown asset"),
        (row(metric="power"), "metric", "unknown metric"),
        (row(value="abc"), "value", "valid number"),
        (row(value=float("nan")), "value", "finite"),
        (row(ts="2026-06-01T11:55:00"), "ts", "timezone"),
        (row(ts="2027-06-01T11:55:00Z"), "ts", "future"),
        (row(ts="1990-06-01T11:55:00Z"), "ts", "older than"),
        (row(value=99999.0), "value", "plausible range"),
        (row(extra=1), "extra", "unknown field"),
        ({"asset_id": "a1"}, "metric", "required"),
    ],
)
def test_each_bad_row_is_named(bad, field, fragment):
    out = validate_rows([row(), bad, row(asset_id="a2")], CAPS, NOW)
    assert [p.asset_id for p in out.points] == ["a1", "a2"]
    assert len(out.rejected) == 1
    rejection = out.rejected[0]
    assert rejection.index == 1
    assert rejection.field == field
    assert fragment in rejection.error


def test_duplicate_within_batch_is_rejected_once():
    out = validate_rows([row(), row(value=600.0)], CAPS, NOW)
    assert len(out.points) == 1 and out.points[0].value == 500.0
    assert "duplicate of row 0" in out.rejected[0].error


def test_timestamps_are_normalised_to_utc():
    out = validate_rows([row(ts="2026-06-01T13:55:00+02:00")], CAPS, NOW)
    assert out.points[0].ts == dt.datetime(2026, 6, 1, 11, 55, tzinfo=dt.UTC)


def test_non_object_row():
    out = validate_rows([42], CAPS, NOW)
    assert out.rejected[0].field == "row"


def test_json_envelope_and_limits():
    assert parse_json_batch({"points": [1, 2]}, 10) == [1, 2]
    assert parse_json_batch([1], 10) == [1]
    with pytest.raises(BatchFormatError, match="JSON list"):
        parse_json_batch({"data": []}, 10)
    with pytest.raises(BatchFormatError, match="limit is 1"):
        parse_json_batch([1, 2], 1)


def test_csv_header_checked():
    rows = parse_csv_batch("asset_id,metric,ts,value\na1,power_kw,2026-06-01T11:55:00Z,1.5\n", 10)
    assert rows == [{"asset_id": "a1", "metric": "power_kw", "ts": "2026-06-01T11:55:00Z", "value": "1.5"}]
    with pytest.raises(BatchFormatError, match="missing value"):
        parse_csv_batch("asset_id,metric,ts\n", 10)


def test_csv_that_the_csv_module_refuses_is_a_format_error_naming_the_line():
    # a stray carriage return (found by the API fuzz test: it used to be a 500)
    with pytest.raises(BatchFormatError, match="missing asset_id"):
        parse_csv_batch("\r\u00c9\x15$", 10)
    # old Mac line ends are line ends
    rows = parse_csv_batch("asset_id,metric,ts,value\ra1,power_kw,2026-06-01T11:55:00Z,1.5\r", 10)
    assert rows == [{"asset_id": "a1", "metric": "power_kw", "ts": "2026-06-01T11:55:00Z", "value": "1.5"}]
    with pytest.raises(BatchFormatError, match="CSV line 2: field larger than field limit"):
        parse_csv_batch("asset_id,metric,ts,value\n" + "a" * 200_000 + ",power_kw,t,1\n", 10)


def test_inprocess_bus_refuses_a_message_off_schema(small_fleet):
    from sqlalchemy import select

    from bus.registry import SchemaError
    from data.models import DeadLetter

    bus = small_fleet.bus
    with pytest.raises(SchemaError, match="telemetry.v1"):
        bus.publish("telemetry.v1", {"v": 1, "source": "x", "asset_id": ["a"], "metric": ["power_kw"],
                                     "ts_ms": ["not a number"], "value": [1.0]})
    with small_fleet.db.session() as s:
        letter = s.execute(select(DeadLetter)).scalar_one()
    assert letter.source == "bus.publish" and "ts_ms" in letter.reason
