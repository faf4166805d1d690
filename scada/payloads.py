"""MQTT payloads to telemetry rows (no network here): which asset a topic names and which points a
payload carries. Rows are the API's own ``{"asset_id", "metric", "ts", "value"}``, validated by
:func:`ingest.validation.validate_rows` downstream like any other batch.

Accepted payloads (UTF-8 JSON):

* ``json``: an object ``{"ts": "<RFC 3339>", "<metric>": <number>, ...}`` (one point per metric
  field), or a list of such objects;
* ``sparkplug``: Sparkplug-B-like JSON ``{"timestamp": <epoch ms>, "metrics": [{"name": "<metric>",
  "value": <number>, "timestamp": <epoch ms, optional>}, ...]}``; epoch milliseconds are the
  Sparkplug rule and are written as RFC 3339 UTC.

Anything else (not JSON, another shape, a field that is no metric, a timestamp of the wrong type)
is a :class:`PayloadError` naming the topic and the field.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from ingest.metrics import METRICS

MAX_PAYLOAD_BYTES = 256 * 1024


class PayloadError(ValueError):
    """A message that is not a telemetry payload of its subscription; the message says why."""


def wildcard_levels(topic_filter: str, topic: str) -> list[str] | None:
    """Return the topic levels the filter's ``+``/``#`` matched (``#`` as one joined level), or None if
    ``topic`` does not match ``topic_filter``."""
    want, got = topic_filter.split("/"), topic.split("/")
    levels: list[str] = []
    for i, part in enumerate(want):
        if part == "#":
            levels.append("/".join(got[i:]))
            return levels
        if i >= len(got):
            return None
        if part == "+":
            levels.append(got[i])
        elif part != got[i]:
            return None
    return levels if len(got) == len(want) else None


def asset_for(template: str, levels: list[str]) -> str:
    """Return the asset id of ``template`` with ``{1}``, ``{2}``... replaced by the matched levels."""
    out = template
    for i, level in enumerate(levels, start=1):
        out = out.replace(f"{{{i}}}", level)
    if "{" in out:
        raise PayloadError(f"asset template {template!r} names a level the topic filter does not match")
    return out


def _epoch_ms_text(value: Any, where: str) -> str:
    if type(value) is not int:
        raise PayloadError(f"{where}: timestamp must be an integer of epoch milliseconds, got {type(value).__name__}")
    try:
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{where}: timestamp {value} is outside the calendar") from None


def _json_object_rows(item: Any, asset_id: str, where: str) -> list[dict[str, Any]]:
    if not isinstance(item, dict):
        raise PayloadError(f"{where}: expected an object {{\"ts\": ..., \"<metric>\": <number>}}, got {type(item).__name__}")
    if "ts" not in item:
        raise PayloadError(f"{where}: field 'ts' missing")
    unknown = sorted(k for k in item if k != "ts" and k not in METRICS)
    if unknown:
        raise PayloadError(f"{where}: {', '.join(map(repr, unknown))} is not a metric; known: {', '.join(sorted(METRICS))}")
    metrics = [k for k in item if k != "ts"]
    if not metrics:
        raise PayloadError(f"{where}: no metric field besides 'ts'")
    return [{"asset_id": asset_id, "metric": k, "ts": item["ts"], "value": item[k]} for k in metrics]


def _sparkplug_rows(body: Any, asset_id: str, where: str) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("metrics"), list):
        raise PayloadError(f"{where}: expected a Sparkplug-like object with a 'metrics' list")
    default_ts = body.get("timestamp")
    rows = []
    for i, metric in enumerate(body["metrics"]):
        at = f"{where} metrics[{i}]"
        if not isinstance(metric, dict) or not isinstance(metric.get("name"), str) or "value" not in metric:
            raise PayloadError(f"{at}: expected an object with 'name' (text) and 'value'")
        if metric["name"] not in METRICS:
            raise PayloadError(f"{at}: {metric['name']!r} is not a metric; known: {', '.join(sorted(METRICS))}")
        stamp = metric.get("timestamp", default_ts)
        if stamp is None:
            raise PayloadError(f"{at}: no timestamp (neither on the metric nor on the payload)")
        rows.append({"asset_id": asset_id, "metric": metric["name"], "ts": _epoch_ms_text(stamp, at),
                     "value": metric["value"]})
    if not rows:
        raise PayloadError(f"{where}: 'metrics' is empty")
    return rows


def payload_rows(topic: str, payload: bytes, asset_id: str, payload_format: str) -> list[dict[str, Any]]:
    """Return the telemetry rows of one MQTT message; raise PayloadError naming what is wrong."""
    where = f"topic {topic!r}"
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"{where}: payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"{where}: payload is not JSON ({exc})") from None
    if payload_format == "sparkplug":
        return _sparkplug_rows(body, asset_id, where)
    items = body if isinstance(body, list) else [body]
    rows = []
    for i, item in enumerate(items):
        rows.extend(_json_object_rows(item, asset_id, where if len(items) == 1 else f"{where} item {i}"))
    return rows
