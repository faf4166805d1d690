"""Validation of telemetry batches from outside (HTTP JSON or CSV, bus messages, devices).

A batch is split into good points and rejected rows; each rejection names the row, the field and
what was wrong. Good rows are never lost because a neighbour was bad.

The batch is checked as columns: the rows' fields are pulled into four lists once, their types
checked per column, and the timestamp grammar, calendar, time window, plausible range and
in-batch duplicates are computed with polars over the whole batch. Python touches a row only
to build the accepted :class:`ValidPoint` and to word the reason of a rejected row.

What is accepted (the OpenAPI document of ``POST /api/v1/telemetry`` says the same):

- a point is an object with exactly the fields ``asset_id``, ``metric``, ``ts``, ``value``;
- ``asset_id`` (1-80 characters) and ``metric`` (a name of :data:`ingest.metrics.METRICS`) are
  strings, taken as they are (in JSON, surrounding whitespace makes an unknown asset or metric);
- ``ts`` is an RFC 3339 date-time string with seconds and an explicit offset:
  ``YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`` naming a date and time of the calendar
  (no February 30, no hour 24, no offset beyond ±23:59, no leap second ``:60``); epoch numbers,
  dates without a time and times without an offset are refused;
- ``value`` is a JSON number (integer or decimal), finite; ``true``/``false``, ``null`` and
  numeric strings are refused. In CSV, where every field is text, surrounding whitespace of a
  field is ignored and ``value`` is a decimal number written as ``[+-]digits[.digits][e[+-]digits]``;
  ``nan``, ``inf`` and words are refused.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from ingest.metrics import METRICS

CSV_COLUMNS = ("asset_id", "metric", "ts", "value")
_KEYS = frozenset(CSV_COLUMNS)
MAX_ASSET_ID = 80
MAX_METRIC = 32
# RFC 3339 section 5.6 date-time, upper-case T and Z (what every client library writes)
# (fractions to the microsecond, the stored precision; [0-9] because \d also matches other scripts' digits)
TS_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?", re.ASCII)
_CSV_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"
_SHOWN_CHARS = 200


class BatchFormatError(ValueError):
    """The batch as a whole is unreadable (not JSON, wrong envelope, bad CSV header, too many rows)."""


class PointIn(BaseModel):
    """One telemetry point as sent by a device or client (the OpenAPI description of a row).

    Validation itself is columnar (:func:`validate_rows`); this model documents exactly what it
    accepts and is kept in step with it by tests.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    asset_id: str = Field(min_length=1, max_length=MAX_ASSET_ID, description="id of a known asset")
    metric: str = Field(min_length=1, max_length=MAX_METRIC, description="metric name, e.g. power_kw: "
                        + ", ".join(sorted(METRICS)))
    ts: str = Field(pattern=TS_PATTERN, json_schema_extra={"format": "date-time"},
                    description="RFC 3339 date-time with seconds and an offset (Z or +HH:MM), e.g. "
                    "2026-06-01T11:55:00Z, naming a date and time of the calendar (no February 30, no hour 24, no "
                    "offset beyond ±23:59, no leap second :60); no epoch numbers, no naive times")
    value: float = Field(allow_inf_nan=False, description="a JSON number (not a string, not a boolean), finite, "
                         "in the metric's unit and plausible range")


class ValidPoint(NamedTuple):
    """A validated point: ts is tz-aware UTC."""

    asset_id: str
    metric: str
    ts: dt.datetime
    value: float


@dataclass(frozen=True)
class Rejection:
    """Why row ``index`` of a batch was refused."""

    index: int
    field: str
    error: str
    row: Any

    def as_dict(self) -> dict[str, Any]:
        """Return the rejection as a JSON-ready dict (nested or long values shortened)."""
        return {"index": self.index, "field": self.field, "error": self.error, "row": _jsonable(self.row)}


@dataclass
class ValidationOutcome:
    """The good points of a batch (also as bus columns) and the rejected rows."""

    points: list[ValidPoint] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # the accepted points as columns (ts as epoch milliseconds UTC), ready for the bus message
    columns: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in ("asset_id", "metric",
                                                                                         "ts_ms", "value")})
    # the accepted points' timestamps as epoch microseconds UTC (the stored precision), aligned with ``points``
    ts_us: list[int] = field(default_factory=list)


def _shown(value: Any) -> Any:
    """Return ``value`` as kept in a rejection: scalars as they are, anything else as short JSON text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    try:  # orjson refuses nesting past 255 levels with an error, never a RecursionError
        text = orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return f"<{type(value).__name__} nested too deeply to show>"
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def _jsonable(row: Any) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return {str(key)[:_SHOWN_CHARS]: _shown(value) for key, value in row.items()}
    return {"row": _shown(row)}


def parse_json_batch(body: Any, max_points: int) -> list[Any]:
    """Return the list of raw rows from a decoded JSON body ``{"points": [...]}`` or a bare list."""
    if isinstance(body, dict):
        extra = sorted(set(body) - {"points"})
        if extra:
            raise BatchFormatError('body must be a JSON list of points or an object {"points": [...]}; unknown '
                                   f'top-level field(s) {", ".join(repr(k[:80]) for k in extra[:5])}')
        rows = body.get("points")
    else:
        rows = body
    if not isinstance(rows, list):
        raise BatchFormatError('body must be a JSON list of points or an object {"points": [...]}')
    if len(rows) > max_points:
        raise BatchFormatError(f"batch has {len(rows)} points; the limit is {max_points} per request")
    return rows


def parse_csv_batch(text: str, max_points: int) -> list[dict[str, str]]:
    """Return the rows of a CSV batch with header asset_id,metric,ts,value (every field as text, stripped).

    Raises :class:`BatchFormatError` naming the line for text that is not CSV (e.g. a stray
    carriage return or NUL byte inside a field).
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))  # the csv module handles \r\n, \n and \r itself
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise BatchFormatError(f"CSV header must contain {', '.join(CSV_COLUMNS)}; missing {', '.join(missing)}")
        reader.fieldnames = header
        rows: list[dict[str, str]] = []
        for row in reader:
            if len(rows) >= max_points:
                raise BatchFormatError(f"batch has more than {max_points} rows; the limit is {max_points} per request")
            rows.append({k: v.strip() if isinstance(v := row[k], str) else v for k in CSV_COLUMNS})
    except csv.Error as exc:
        raise BatchFormatError(f"CSV line {reader.line_num + 1}: {exc}") from exc
    return rows


_JSON_TYPE = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", type(None): "null",
              list: "an array", dict: "an object"}


def _json_type(value: Any) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def _shape_problem(raw: Any) -> tuple[str, str]:
    """Return (field, reason) for a row that is not an object with exactly the four fields."""
    if not isinstance(raw, dict):
        return "row", f"each point must be an object, got {_json_type(raw)}"
    for name in CSV_COLUMNS:
        if name not in raw:
            return name, "field required"
    extra = next(str(k) for k in raw if k not in _KEYS)
    return extra[:_SHOWN_CHARS], "unknown field"


def _type_problem(name: str, value: Any, text: bool) -> str | None:
    """Return why ``value`` is not of the type field ``name`` takes, or None."""
    if name == "value":
        if text:
            return None if isinstance(value, str) else "missing (the CSV line has too few fields)"
        if type(value) in (int, float):
            return None
        if isinstance(value, str):
            return "must be a valid number: a JSON number, got a string (numeric strings are not accepted)"
        return f"must be a valid number: a JSON number, got {_json_type(value)}"
    if isinstance(value, str):
        return None
    if text:
        return "missing (the CSV line has too few fields)"
    if name == "ts":
        return (f"must be an RFC 3339 date-time string (e.g. 2026-06-01T11:55:00Z), got {_json_type(value)}"
                + (" (epoch numbers are not accepted)" if type(value) in (int, float) else ""))
    return f"must be a string, got {_json_type(value)}"


# reason codes computed over the columns, in the order a row is checked
_TYPED, _OK, _EMPTY_ASSET, _LONG_ASSET, _TS_GRAMMAR, _TS_CALENDAR, _VALUE_TEXT, _UNKNOWN_ASSET, _UNKNOWN_METRIC, \
    _FUTURE, _OLD, _RANGE, _DUPLICATE = range(-1, 12)


def _reason(code: int, row: dict[str, Any], ctx: dict[str, Any]) -> tuple[str, str]:
    """Word the rejection of ``row`` for reason ``code``."""
    asset_id, metric, ts = str(row.get("asset_id", "")), str(row.get("metric", "")), str(row.get("ts", ""))
    if code == _EMPTY_ASSET:
        return "asset_id", "must not be empty"
    if code == _LONG_ASSET:
        return "asset_id", f"longer than {MAX_ASSET_ID} characters"
    if code == _TS_GRAMMAR and _NAIVE.fullmatch(ts):
        return "ts", f"timestamp {_shown(ts)!r} has no timezone offset; add Z or ±HH:MM"
    if code == _TS_GRAMMAR:
        return "ts", (f"timestamp {_shown(ts)!r} is not an RFC 3339 date-time "
                      "(YYYY-MM-DDTHH:MM:SS[.fraction] with Z or ±HH:MM)")
    if code == _TS_CALENDAR and ts[17:19] == "60":
        return "ts", f"timestamp {_shown(ts)!r} is a leap second (:60); leap seconds are not accepted"
    if code == _TS_CALENDAR:
        return "ts", f"timestamp {_shown(ts)!r} is not a date and time of the calendar"
    if code == _VALUE_TEXT:
        return "value", f"{_shown(row.get('value'))!r} is not a finite " + ("decimal number" if ctx["text"] else "number")
    if code == _UNKNOWN_ASSET:
        return "asset_id", f"unknown asset {_shown(asset_id)!r}"
    if code == _UNKNOWN_METRIC:
        return "metric", f"unknown metric {_shown(metric)!r}; known: {', '.join(sorted(METRICS))}"
    if code == _FUTURE:
        return "ts", f"timestamp {ts} is in the future (more than {ctx['max_future_s']} s ahead of the server clock)"
    if code == _OLD:
        return "ts", f"timestamp {ts} is older than {ctx['max_age_days']} days"
    if code == _RANGE:
        return "value", (f"{metric}={ctx['value']:g} outside the plausible range "
                         f"[{ctx['low']:g}, {ctx['high']:g}]")
    raise AssertionError(f"no wording for reason code {code}")


def validate_rows(
    rows: Sequence[Any],
    asset_capacity_kw: Mapping[str, float] | Callable[[Set[str]], Mapping[str, float]],
    now: dt.datetime,
    max_future_s: int = 300,
    max_age_days: int = 3650,
    *,
    text: bool = False,
) -> ValidationOutcome:
    """Return the valid points of ``rows`` and a rejection for every bad row.

    ``asset_capacity_kw`` maps asset id -> capacity (kW), or is a function that returns that map
    given the set of asset ids of the batch (so a directory can reload when one is new).
    ``text=True`` for CSV rows, whose fields are all text (``value`` is then read as a decimal
    number). Checks, in this order: shape (exactly the four fields), types (see the module
    docstring), non-empty asset id, RFC 3339 timestamp that exists in the calendar, known asset,
    known metric, timestamp not more than ``max_future_s`` ahead of ``now`` nor older than
    ``max_age_days``, value within the metric's plausible range, and no repeat of the same
    (asset, metric, ts) within the batch (the first one is kept).
    """
    outcome = ValidationOutcome()
    problems: dict[int, tuple[str, str]] = {}
    index: Sequence[int] = range(len(rows))
    good: Sequence[dict[str, Any]] = rows
    columns = _columns_if_clean(rows)
    if columns is None:
        shape_ok = [type(r) is dict and r.keys() == _KEYS for r in rows]
        index = [i for i, ok in enumerate(shape_ok) if ok]
        good = [rows[i] for i in index]
        for i, ok in enumerate(shape_ok):
            if not ok:
                problems[i] = _shape_problem(rows[i])
        columns = {name: [r[name] for r in good] for name in CSV_COLUMNS}
    # types, per column: one pass over the types when the column is clean, per row only when not
    for name, values in columns.items():
        if set(map(type, values)) <= ({str} if (text or name != "value") else {int, float}):
            continue  # finiteness and ranges are checked over the column below
        for j, value in enumerate(values):
            problem = _type_problem(name, value, text)
            if problem is not None:
                problems.setdefault(index[j], (name, problem))  # a row's first problem is the one named
                values[j] = None  # even when an earlier field already failed: the column must be typed
    if good:
        if callable(asset_capacity_kw):
            wanted = set(columns["asset_id"])  # strings only: ids of the wrong type were set to None above
            wanted.discard(None)
            asset_capacity_kw = asset_capacity_kw(wanted)
        frame = _check_columns(columns, asset_capacity_kw, now, max_future_s, max_age_days, text, len(good))
        ctx = {"max_future_s": max_future_s, "max_age_days": max_age_days, "text": text}
        bad = frame.filter(pl.col("code") > _OK).select("j", "code", "first", "value", "low", "high")
        for j, code, first, value, low, high in bad.iter_rows():
            if code == _DUPLICATE:
                problems[index[j]] = ("ts", f"duplicate of row {index[first]} in this batch (same asset, metric and ts)")
            else:
                problems[index[j]] = _reason(code, good[j], {**ctx, "value": value, "low": low, "high": high})
        accepted_mask = frame.get_column("code").eq(_OK)
        accepted = frame if accepted_mask.all() else frame.filter(accepted_mask)
        if accepted.height == len(good):  # the common case: the sent strings are the accepted ones
            asset_ids, metrics, ts_text = columns["asset_id"], columns["metric"], columns["ts"]
        else:
            positions = accepted["j"].to_list()
            asset_ids, metrics, ts_text = ([columns[name][j] for j in positions] for name in ("asset_id", "metric", "ts"))
        utc = dt.UTC
        # Z and +00:00 parse as UTC already; stamps inside the time window cannot overflow in astimezone
        stamps = [ts if ts.tzinfo is utc else ts.astimezone(utc) for ts in map(dt.datetime.fromisoformat, ts_text)]
        values = accepted["value"].to_list()
        outcome.points = list(map(ValidPoint, asset_ids, metrics, stamps, values))
        outcome.ts_us = accepted["ts_us"].to_list()
        outcome.columns = {"asset_id": asset_ids, "metric": metrics, "ts_ms": (accepted["ts_us"] // 1000).to_list(),
                           "value": values}
    outcome.rejected = [Rejection(i, *problems[i], rows[i]) for i in sorted(problems)]
    return outcome


def _columns_if_clean(rows: Sequence[Any]) -> dict[str, list[Any]] | None:
    """Return the four columns when every row is an object with exactly the four fields, else None."""
    if set(map(type, rows)) != {dict} or set(map(len, rows)) != {4}:
        return None
    try:  # four fields each, all four present: exactly the four
        return {name: [r[name] for r in rows] for name in CSV_COLUMNS}
    except KeyError:
        return None


# metric -> (low, high, per capacity): looked up per row in Python like the capacity, which costs
# less than a join (each polars step has a fixed cost that dominates the small batches of live feeds)
_METRIC_BOUNDS = {s.name: (s.low, s.high, s.per_capacity) for s in METRICS.values()}
_NO_BOUNDS = (None, None, None)


@functools.cache
def _checks(text: bool) -> tuple[dict[str, pl.Expr], dict[str, pl.Expr], pl.Expr, pl.Expr]:
    """Return the check expressions (built once: building them cost more than running them on a
    small batch). The time window comes in the frame's ``latest_us``/``earliest_us`` columns."""
    ts_text = pl.col("ts_text")
    if text:
        number_ok = pl.col("value_in").str.contains(_CSV_NUMBER)
        value: pl.Expr = pl.when(number_ok).then(pl.col("value_in").cast(pl.Float64, strict=False))
    else:
        number_ok = pl.lit(True)
        value = pl.col("value_in")
    parsed = {
        "ts_grammar": ts_text.str.contains(TS_PATTERN),
        "ts_us": ts_text.str.replace(r"Z$", "+00:00")
        .str.to_datetime(_TS_FORMAT, time_zone="UTC", strict=False, time_unit="us").dt.epoch("us"),
        "value": value,
        "number_ok": number_ok & value.is_finite(),
    }
    low = pl.when(pl.col("per_capacity")).then(pl.col("m_low") * pl.col("capacity") - 1.0).otherwise(pl.col("m_low"))
    high = pl.when(pl.col("per_capacity")).then(pl.col("m_high") * pl.col("capacity") + 1.0).otherwise(pl.col("m_high"))
    code = (
        pl.when(pl.col("asset_id").is_null() | pl.col("metric").is_null() | pl.col("ts_text").is_null()
                | pl.col("value_in").is_null()).then(pl.lit(-1))  # a type problem already named
        .when(pl.col("asset_id") == "").then(pl.lit(_EMPTY_ASSET))
        .when(pl.col("asset_id").str.len_chars() > MAX_ASSET_ID).then(pl.lit(_LONG_ASSET))
        .when(~pl.col("ts_grammar")).then(pl.lit(_TS_GRAMMAR))
        # polars reads a leap second :60 as the next minute; Python's datetime (the stored type) has none
        .when(pl.col("ts_us").is_null() | (ts_text.str.slice(17, 2) == "60")).then(pl.lit(_TS_CALENDAR))
        .when(~pl.col("number_ok")).then(pl.lit(_VALUE_TEXT))
        .when(pl.col("capacity").is_null()).then(pl.lit(_UNKNOWN_ASSET))
        .when(pl.col("m_low").is_null()).then(pl.lit(_UNKNOWN_METRIC))
        .when(pl.col("ts_us") > pl.col("latest_us")).then(pl.lit(_FUTURE))
        .when(pl.col("ts_us") < pl.col("earliest_us")).then(pl.lit(_OLD))
        .when((pl.col("value") < low) | (pl.col("value") > high)).then(pl.lit(_RANGE))
        .otherwise(pl.lit(_OK))
    )
    # duplicates among the rows that passed every other check: the first of each key is kept
    key = ["asset_id", "metric", "ts_us"]
    first = pl.when(pl.col("code") == _OK).then(pl.col("j").filter(pl.col("code") == _OK).min().over(key))
    duplicate = (pl.when((pl.col("code") == _OK) & (pl.col("first") != pl.col("j"))).then(pl.lit(_DUPLICATE))
                 .otherwise(pl.col("code")))
    return parsed, {"code": code, "low": low, "high": high}, first, duplicate


def _check_columns(columns: dict[str, list[Any]], capacities: Mapping[str, float], now: dt.datetime,
                   max_future_s: int, max_age_days: int, text: bool, n: int) -> pl.DataFrame:
    """Return the batch as a frame with a reason ``code`` per row (0 = accepted) and the parsed columns."""
    lookup = capacities.get
    capacity = [lookup(a) for a in columns["asset_id"]]
    bounds = _METRIC_BOUNDS.get
    m_low, m_high, per_capacity = (list(c) for c in zip(*(bounds(m, _NO_BOUNDS) for m in columns["metric"]), strict=True))
    latest_us = int((now + dt.timedelta(seconds=max_future_s)).timestamp() * 1_000_000)
    earliest_us = int((now - dt.timedelta(days=max_age_days)).timestamp() * 1_000_000)
    frame = pl.DataFrame(
        {
            "j": pl.Series(range(n), dtype=pl.Int64),
            "asset_id": pl.Series(columns["asset_id"], dtype=pl.String),
            "metric": pl.Series(columns["metric"], dtype=pl.String),
            "ts_text": pl.Series(columns["ts"], dtype=pl.String),
            "value_in": (pl.Series(columns["value"], dtype=pl.String) if text
                         else pl.Series(columns["value"], dtype=pl.Float64, strict=False)),
            "capacity": pl.Series(capacity, dtype=pl.Float64),
            "m_low": pl.Series(m_low, dtype=pl.Float64),
            "m_high": pl.Series(m_high, dtype=pl.Float64),
            "per_capacity": pl.Series(per_capacity, dtype=pl.Boolean),
            "latest_us": pl.Series([latest_us], dtype=pl.Int64).new_from_index(0, n),
            "earliest_us": pl.Series([earliest_us], dtype=pl.Int64).new_from_index(0, n),
        }
    )
    parsed, coded, first, duplicate = _checks(text)
    frame = frame.with_columns(**parsed).with_columns(**coded).with_columns(first=first)
    return frame.with_columns(code=duplicate)
