"""Canonical records every connector produces (they map 1:1 to data.models rows).

Timestamps are tz-aware UTC; intervals are labelled by their start and run [start, end).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from connectors.errors import FieldError


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

    def __post_init__(self) -> None:
        """Refuse a record that is not whole: empty node, non-finite price, empty or reversed interval."""
        if not self.node:
            raise FieldError("node: empty settlement point / node name")
        if isinstance(self.price, bool) or not math.isfinite(self.price):
            raise FieldError(f"price: {self.price!r} at {self.node} is not a finite number")
        if self.interval_start.tzinfo is None or not self.interval_start < self.interval_end:
            raise FieldError(f"interval {self.interval_start}..{self.interval_end} of {self.node} is empty, "
                             "reversed or without a UTC offset")
        if self.market_type not in ("DA", "RT"):
            raise FieldError(f"market_type {self.market_type!r} is neither 'DA' nor 'RT'")


#: Physically possible range of each WeatherObs quantity (canonical units). A value outside is a
#: unit or decoding error, never weather: the record is refused with the field named. Pressure is
#: station or sea-level pressure (about 300 hPa on the highest stations); precipitation is per interval.
WEATHER_LIMITS: dict[str, tuple[float, float]] = {
    "temperature_c": (-95.0, 65.0), "cloud_cover_pct": (0.0, 100.0), "wind_speed_ms": (0.0, 120.0),
    "wind_direction_deg": (0.0, 360.0), "ghi_wm2": (0.0, 1500.0), "precipitation_mm": (0.0, 2000.0),
    "pressure_hpa": (300.0, 1100.0), "latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0),
}


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

    def __post_init__(self) -> None:
        """Refuse an impossible observation (FieldError naming the field): see :data:`WEATHER_LIMITS`."""
        if self.kind not in ("observation", "forecast"):
            raise FieldError(f"kind {self.kind!r} is neither 'observation' nor 'forecast'")
        for name, (low, high) in WEATHER_LIMITS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise FieldError(f"{name}: {value!r} is not a finite number")
            if not low <= value <= high:
                raise FieldError(f"{name}: {value!r} outside the possible range {low:g}..{high:g}")


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


def utc_from_unix(value: object, field: str = "dt") -> dt.datetime:
    """Return the UTC datetime of a Unix timestamp in seconds (a JSON number, 1970..9999).

    Raises FieldError naming ``field`` for strings, booleans, non-finite or out-of-range values.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a string" if isinstance(value, str) else type(value).__name__
        raise FieldError(f"{field}: expected a Unix timestamp (JSON number), got {kind} {str(value)[:40]!r}")
    if not 0 <= value < 253402300800:  # also refuses NaN and inf
        raise FieldError(f"{field}: Unix timestamp {value!r} outside 1970..9999")
    return dt.datetime.fromtimestamp(value, UTC)


def utc_from_iso(value: object, field: str = "timestamp") -> dt.datetime:
    """Return the UTC datetime of an ISO-8601 string that carries an offset; raises FieldError naming ``field``."""
    if not isinstance(value, str):
        raise FieldError(f"{field}: expected an ISO-8601 string, got {type(value).__name__} {str(value)[:40]!r}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{field}: {value[:40]!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise FieldError(f"{field}: timestamp {value[:40]!r} has no UTC offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise FieldError(f"{field}: timestamp {value[:40]!r} is outside the representable range") from None
