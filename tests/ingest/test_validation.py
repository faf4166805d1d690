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


@pytest.mark.parametrize("ts", ["2026-06-01T11:55:00.5+00:00", "2026-06-01T11:55:00.123456Z", "2026-06-01T13:54:59.999+01:59",
                                "2026-06-01T06:25:00-05:30", "2026-06-01T11:55:00-00:00", "2026-06-02T11:54:00+23:59"])
def test_the_column_parse_and_the_stored_timestamp_agree(ts):
    out = validate_rows([row(ts=ts)], CAPS, NOW)
    assert not out.rejected, out.rejected
    point = out.points[0]
    assert point.ts.tzinfo is dt.UTC and point.ts == dt.datetime.fromisoformat(ts)
    assert out.columns["ts_ms"] == [int(point.ts.timestamp() * 1000)]
    assert out.columns["asset_id"] == ["a1"] and out.columns["value"] == [500.0]


@pytest.mark.parametrize("ts", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0000-01-01T00:00:00Z"])
def test_timestamps_at_the_ends_of_the_calendar_are_rejected_not_raised(ts):
    out = validate_rows([row(), row(ts=ts), row(asset_id="a2")], CAPS, NOW)
    assert [p.asset_id for p in out.points] == ["a1", "a2"]
    assert out.rejected[0].index == 1 and out.rejected[0].field == "ts"


def test_csv_rows_are_text_and_values_decimal_numbers():
    rows = parse_csv_batch("asset_id,metric,ts,value\n a1 ,power_kw,2026-06-01T11:55:00Z, 1.5e2 \n"
                           "a1,power_kw,2026-06-01T11:56:00Z,true\na1,power_kw,2026-06-01T11:57:00Z\n", 10)
    out = validate_rows(rows, CAPS, NOW, text=True)
    assert [(p.asset_id, p.value) for p in out.points] == [("a1", 150.0)]
    assert [(r.index, r.field) for r in out.rejected] == [(1, "value"), (2, "value")]
    assert "not a finite decimal number" in out.rejected[0].error and "too few fields" in out.rejected[1].error


def test_json_strings_are_taken_as_sent():
    out = validate_rows([row(asset_id=" a1"), row(ts=" 2026-06-01T11:55:00Z")], CAPS, NOW)
    assert [(r.field, r.error.split(" ")[0]) for r in out.rejected] == [("asset_id", "unknown"), ("ts", "timestamp")]


def test_a_capacity_function_is_given_the_batch_asset_ids():
    asked = []

    def capacities(wanted):
        asked.append(set(wanted))
        return CAPS

    out = validate_rows([row(), row(asset_id="a2"), row(asset_id=7)], capacities, NOW)
    assert asked == [{"a1", "a2"}] and len(out.points) == 2 and out.rejected[0].field == "asset_id"
