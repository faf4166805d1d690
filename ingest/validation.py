"""Validation of telemetry batches from outside (HTTP JSON or CSV, bus messages, devices).

A batch is split into good points and rejected rows; each rejection names the row, the field and
what was wrong. Good rows are never lost because a neighbour was bad.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ingest.metrics import METRICS, range_for

CSV_COLUMNS = ("asset_id", "metric", "ts", "value")


class BatchFormatError(ValueError):
    """The batch as a whole is unreadable (not JSON, wrong envelope, bad CSV header, too many rows)."""


class PointIn(BaseModel):
    """One telemetry point as sent by a device or client."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asset_id: str = Field(min_length=1, max_length=80)
    metric: str = Field(min_length=1, max_length=32)
    ts: AwareDatetime
    value: float = Field(allow_inf_nan=False)


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
    row: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Return the rejection as a JSON-ready dict."""
        return {"index": self.index, "field": self.field, "error": self.error, "row": _jsonable(self.row)}


@dataclass
class ValidationOutcome:
    """The good points of a batch and the rejected rows."""

    points: list[ValidPoint] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (row.items() if isinstance(row, Mapping) else [("row", row)]):
        if isinstance(value, float) and not math.isfinite(value):
            out[str(key)] = str(value)
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = repr(value)[:200]
    return out


def parse_json_batch(body: Any, max_points: int) -> list[Any]:
    """Return the list of raw rows from a decoded JSON body ``{"points": [...]}`` or a bare list."""
    rows = body.get("points") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise BatchFormatError('body must be a JSON list of points or an object {"points": [...]}')
    if len(rows) > max_points:
        raise BatchFormatError(f"batch has {len(rows)} points; the limit is {max_points} per request")
    return rows


def parse_csv_batch(text: str, max_points: int) -> list[dict[str, str]]:
    """Return the rows of a CSV batch with header asset_id,metric,ts,value.

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
            rows.append({k: row[k] for k in CSV_COLUMNS})
    except csv.Error as exc:
        raise BatchFormatError(f"CSV line {reader.line_num + 1}: {exc}") from exc
    return rows


def _pydantic_reason(err: dict[str, Any]) -> tuple[str, str]:
    loc = [str(p) for p in err.get("loc", ())]
    name = loc[0] if loc else "row"
    message = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        message = "unknown field"
    return name, message


def validate_rows(
    rows: Iterable[Any],
    asset_capacity_kw: Mapping[str, float],
    now: dt.datetime,
    max_future_s: int = 300,
    max_age_days: int = 3650,
) -> ValidationOutcome:
    """Return the valid points of ``rows`` and a rejection for every bad row.

    Checks: shape and types (pydantic), finite value, tz-aware timestamp, timestamp not more
    than ``max_future_s`` ahead of ``now`` nor older than ``max_age_days``, known asset, known
    metric, value within the metric's plausible range, and no repeat of the same
    (asset, metric, ts) within the batch.
    """
    outcome = ValidationOutcome()
    seen: dict[tuple[str, str, dt.datetime], int] = {}
    latest_ok = now + dt.timedelta(seconds=max_future_s)
    earliest_ok = now - dt.timedelta(days=max_age_days)
    utc = dt.UTC
    bounds: dict[tuple[str, float], tuple[float, float]] = {}
    reject = outcome.rejected.append
    accept = outcome.points.append
    validate = PointIn.model_validate
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict):
            reject(Rejection(index, "row", "each point must be an object", {"row": raw}))
            continue
        try:
            point = validate(raw)
        except ValidationError as exc:
            name, message = _pydantic_reason(exc.errors()[0])
            reject(Rejection(index, name, message, raw))
            continue
        ts = point.ts
        offset = ts.utcoffset()
        if offset:  # zero-offset stamps (Z, +00:00) are already UTC and kept as they are
            ts = (ts - offset).replace(tzinfo=utc)
        asset_id, metric, value = point.asset_id, point.metric, point.value
        problem: tuple[str, str] | None = None
        capacity = asset_capacity_kw.get(asset_id)
        if capacity is None:
            problem = ("asset_id", f"unknown asset {asset_id!r}")
        elif metric not in METRICS:
            problem = ("metric", f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
        elif ts > latest_ok:
            problem = ("ts", f"timestamp {ts.isoformat()} is in the future (more than {max_future_s} s ahead)")
        elif ts < earliest_ok:
            problem = ("ts", f"timestamp {ts.isoformat()} is older than {max_age_days} days")
        else:
            limits = bounds.get((metric, capacity))
            if limits is None:
                limits = bounds[(metric, capacity)] = range_for(metric, capacity)
            if not limits[0] <= value <= limits[1]:
                problem = ("value", f"{metric}={value} outside the plausible range [{limits[0]:g}, {limits[1]:g}]")
        if problem is None:
            key = (asset_id, metric, ts)
            first = seen.get(key)
            if first is not None:
                problem = ("ts", f"duplicate of row {first} in this batch (same asset, metric and ts)")
            else:
                seen[key] = index
                accept(ValidPoint(asset_id, metric, ts, value))
                continue
        reject(Rejection(index, problem[0], problem[1], raw))
    return outcome
