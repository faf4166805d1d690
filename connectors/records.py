"""Canonical records every connector produces (they map 1:1 to data.models rows).

Timestamps are tz-aware UTC; intervals are labelled by their start and run [start, end).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PriceRecord:
    """A settlement price for ``node`` of ``market`` over [interval_start, interval_end), in currency/unit.

    ``market_type`` is "DA" (day-ahead) or "RT" (real-time). Maps to data.models.MarketPrice.
    """

    market: str
    node: str
    market_type: str
    interval_start: dt.datetime
    interval_end: dt.datetime
    price: float
    currency: str
    unit: str = "MWh"
    source: str = ""


@dataclass(frozen=True, slots=True)
class WeatherObs:
    """An observation (kind "observation", issued_at None) or forecast for the interval starting at ``ts``.

    Units: temperature °C, cloud cover %, wind speed m/s, wind direction degrees (from), GHI W/m²,
    precipitation mm over the interval, pressure hPa. Fields the provider does not give are None.
    ``latitude``/``longitude``/``station`` say where the values apply. Maps to data.models.WeatherRecord.
    """

    source: str
    kind: str
    ts: dt.datetime
    issued_at: dt.datetime | None = None
    temperature_c: float | None = None
    cloud_cover_pct: float | None = None
    wind_speed_ms: float | None = None
    wind_direction_deg: float | None = None
    ghi_wm2: float | None = None
    precipitation_mm: float | None = None
    pressure_hpa: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    station: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A severe-weather alert; ``onset``/``ends`` UTC (None when not given). Maps to data.models.WeatherAlert."""

    source: str
    external_id: str
    event: str
    severity: str = ""
    headline: str = ""
    onset: dt.datetime | None = None
    ends: dt.datetime | None = None
    zones: tuple[str, ...] = field(default_factory=tuple)


UTC = dt.UTC


def utc_from_unix(value: object) -> dt.datetime:
    """Return the UTC datetime of a Unix timestamp in seconds; raises ValueError/TypeError if not numeric."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a Unix timestamp, got {value!r}")
    return dt.datetime.fromtimestamp(value, UTC)


def utc_from_iso(value: object) -> dt.datetime:
    """Return the UTC datetime of an ISO-8601 string that carries an offset; raises ValueError otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO-8601 string, got {value!r}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    return parsed.astimezone(UTC)
