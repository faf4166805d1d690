"""POST /api/v1/telemetry (batch ingest, JSON or CSV) and GET /api/v1/telemetry (series)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Literal

import orjson
from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import select

from api import spec
from api.errors import ApiError
from bus.base import DeliveryFailed
from core.runtime import db, services
from data.models import Asset, utcnow
from data.telemetry_queries import asset_series
from ingest.metrics import METRICS
from ingest.validation import BatchFormatError, PointIn, parse_csv_batch, parse_json_batch
from security.access import check, require
from security.scope import filter_asset_ids

QUERY_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
QUERY_LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


class TelemetryQuery(BaseModel):
    """Selection of a telemetry series."""

    model_config = ConfigDict(extra="forbid")

    asset_id: str | None = Field(None, description="one asset id, or several separated by commas")
    site_id: str | None = Field(None, description="all assets of this site (instead of asset_id)")
    metric: str = Field("power_kw", description="metric name, e.g. power_kw")
    start: AwareDatetime | None = Field(None, description="ISO 8601 with zone; default end - 24 h")
    end: AwareDatetime | None = Field(None, description="ISO 8601 with zone; default now")
    resolution: Literal["raw", "15min", "1h", "1d"] = "15min"
    limit: int = Field(50_000, ge=1, le=500_000)

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if value is None:
            return None
        # compared as aware datetimes (no conversion that could overflow at year 1 or 9999)
        if not QUERY_EARLIEST <= value <= QUERY_LATEST:
            raise ValueError(f"{info.field_name} must be between {QUERY_EARLIEST:%Y-%m-%d} and {QUERY_LATEST:%Y-%m-%d} UTC")
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _check(self) -> TelemetryQuery:
        if not self.asset_id and not self.site_id:
            raise ValueError("give asset_id or site_id")
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; known: {', '.join(sorted(METRICS))}")
        end = self.end or utcnow()
        start = self.start or end - dt.timedelta(hours=24)
        if start >= end:
            raise ValueError("start must be before end")
        self.start, self.end = start, end
        return self


class IngestResponse(BaseModel):
    """The outcome of a batch: counts and the reason for every rejected row."""

    received: int
    accepted: int
    stored: int | None
    duplicates: int | None
    rejected: int
    errors: list[dict]
    errors_truncated: bool


READ_SIZE = 64 * 1024
# after the limit, up to this much more is read and thrown away so that the client, still sending,
# can read the 413 instead of a reset connection; a longer body is cut off by closing the connection
DRAIN_BYTES = 64 * 1024 * 1024


def _drain(stream, budget: int) -> None:
    while budget > 0:
        data = stream.read(min(READ_SIZE, budget))
        if not data:
            return
        budget -= len(data)


def read_body_within(limit: int) -> bytes:
    """Return the whole request body; raise ApiError 413 if it is longer than ``limit`` bytes.

    A body is never cut: with a Content-Length over the limit nothing is read, and a chunked body
    (no Content-Length) is read up to one byte past the limit and then refused whole.
    """
    environ = request.environ
    raw = environ["wsgi.input"]
    length = request.content_length
    too_large = f"body exceeds the limit of {limit} bytes; split the batch"
    if length is not None:
        if length > limit:
            _drain(raw, min(length, DRAIN_BYTES))
            raise ApiError(413, f"body of {length} bytes exceeds the limit of {limit} bytes; split the batch")
        return request.get_data(cache=False)
    if not environ.get("wsgi.input_terminated"):
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            raise ApiError(411, "this server cannot read a chunked body; send a Content-Length")
        return b""
    parts, size = [], 0
    while True:
        data = raw.read(READ_SIZE)
        if not data:
            return b"".join(parts)
        size += len(data)
        if size > limit:
            _drain(raw, DRAIN_BYTES)
            raise ApiError(413, too_large)
        parts.append(data)


def _decode_json(body: bytes) -> object:
    """Return the decoded JSON body; raise ApiError 400 naming why it is not JSON.

    A number too large for a double (``1e400``) is valid JSON that orjson refuses for the whole body;
    such a body is decoded again by the standard library, which reads it as infinity, so that the
    validator rejects that row's value by name and the good rows of the batch are stored.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "number is infinity" not in str(exc):
            raise ApiError(400, f"body is not valid JSON: {exc}") from None
    try:
        return json.loads(body)
    except RecursionError:
        raise ApiError(400, "body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # orjson stopped at the number; the rest may still be broken
        raise ApiError(400, f"body is not valid JSON: {exc}") from None


def _read_rows() -> tuple[list, bool]:
    """Return the rows of the request body and whether they are CSV text rows."""
    settings = services().settings
    content_type = (request.mimetype or "").lower()
    body = read_body_within(settings.ingest_max_body_bytes)
    try:
        if content_type in ("application/json", ""):
            return parse_json_batch(_decode_json(body), settings.ingest_max_points), False
        if content_type in ("text/csv", "application/csv"):
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ApiError(400, "CSV body is not UTF-8") from None
            return parse_csv_batch(text, settings.ingest_max_points), True
    except BatchFormatError as exc:
        raise ApiError(400, str(exc)) from None
    raise ApiError(415, f"unsupported content type {content_type!r}; send application/json or text/csv")


def _limit_text() -> str:
    """Return the default body limit as text for the API description (the setting may lower or raise it)."""
    from core.settings import Settings

    default = Settings.model_fields["ingest_max_body_bytes"].default
    return f"{default:,} bytes by default (the `ingest_max_body_bytes` setting)"


def register(bp: Blueprint) -> None:
    """Add the telemetry routes to ``bp``."""

    @bp.post("/telemetry")
    def ingest_telemetry():
        caller = check("telemetry:write")
        rows, text = _read_rows()
        if not rows:
            raise ApiError(400, "batch is empty")
        ingest = services().ingest
        try:
            report = ingest.submit_rows(rows, source=f"api:{caller.name}", text=text)
        except DeliveryFailed as exc:
            current_app.logger.error("telemetry batch could not be stored: %s", exc)
            raise ApiError(503, "the batch was accepted but could not be stored; it is kept in the "
                                "dead-letter store for replay") from None
        status = 200 if report.inserted is not None else 202
        if report.rejected:
            status = 422
        return Response(orjson.dumps(report.as_dict()), status=status, mimetype="application/json")

    @bp.get("/telemetry")
    @require("telemetry:read")
    def telemetry_series():
        query = TelemetryQuery.model_validate(request.args.to_dict())
        with db().read_session() as session:
            if query.site_id:
                ids = list(session.execute(select(Asset.id).where(Asset.site_id == query.site_id)).scalars())
                if not ids:
                    raise ApiError(404, f"no site with id {query.site_id!r} (or it has no assets)")
            else:
                ids = [a.strip() for a in (query.asset_id or "").split(",") if a.strip()]
            ids = filter_asset_ids(session, ids)  # portfolio scope of the caller
            frame = asset_series(session, ids, query.metric, query.start, query.end, query.resolution, query.limit)  # type: ignore[arg-type]
        points = [
            {**row, "ts": row["ts"].isoformat()} for row in frame.iter_rows(named=True)
        ]
        return jsonify({
            "metric": query.metric, "unit": METRICS[query.metric].unit, "resolution": query.resolution,
            "interval_label": "start", "start": query.start.isoformat(), "end": query.end.isoformat(),  # type: ignore[union-attr]
            "count": len(points), "points": points,
        })

    spec.add_path("/telemetry", "post", {
        "summary": "Batch ingest of telemetry points (JSON or CSV), bearer token with telemetry:write",
        "description": "Good rows are stored exactly once (idempotent on asset, metric, ts); rejected rows "
        "are listed with the index, field and reason and kept in the dead-letter store, one dead letter per "
        "row. 200: all stored; 422: some rows rejected (the others stored); 202: queued (RabbitMQ bus).\n\n"
        "Types are strict: `value` is a JSON number (booleans, null and numeric strings are refused), `ts` "
        "an RFC 3339 date-time string with seconds and an offset, `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM|-HH:MM)` "
        "(epoch numbers and naive times are refused), no fields other than the four. Surrounding whitespace "
        "of the string fields is ignored. A timestamp must lie within the server's window (default: not "
        "more than 300 s ahead, not older than 3,650 days). In CSV every field is text: `value` must be a "
        "decimal number `[+-]digits[.digits][e[+-]digits]` (no nan, inf or words); other columns are ignored.\n\n"
        f"The body (with or without Content-Length, i.e. chunked too) may be at most "
        f"{_limit_text()}; a longer one is refused whole with 413 and nothing is stored. At most "
        "50,000 points per request (the `ingest_max_points` setting).",
        "security": [{"bearer": []}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"oneOf": [
                {"type": "object", "properties": {"points": {"type": "array", "items": spec.schema_ref(PointIn)}},
                 "required": ["points"], "additionalProperties": False},
                {"type": "array", "items": {"$ref": "#/components/schemas/PointIn"}}]}},
            "text/csv": {"schema": {"type": "string", "description": "UTF-8 CSV with a header naming at least "
                                    "asset_id,metric,ts,value (any order; other columns ignored); each line one "
                                    "point, fields as in PointIn, value a decimal number"}},
        }},
        "responses": {
            "200": {"description": "stored", "content": {"application/json": {"schema": spec.schema_ref(IngestResponse)}}},
            "202": {"description": "queued"},
            "422": {"description": "some rows rejected", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IngestResponse"}}}},
            "400": {"description": "unreadable batch (not JSON, JSON nested deeper than 1,024 levels, wrong envelope, "
                                   "bad CSV header, too many points)"},
            "401": {"description": "no or bad token"},
            "411": {"description": "chunked body on a server that cannot read one"},
            "413": {"description": "body too large (refused whole, nothing stored)"},
            "415": {"description": "unsupported content type"},
        },
    })
    spec.add_path("/telemetry", "get", {
        "summary": "Telemetry series for assets or a site at raw, 15min, 1h or 1d resolution",
        "parameters": spec.query_parameters(TelemetryQuery),
        "responses": {"200": {"description": "series"}, "400": {"description": "bad parameters"}},
    })
