"""The time-range control: presets and a custom date range, kept in the URL query string so a view
can be shared (``?range=7d`` or ``?from=2026-11-01&to=2026-11-30``), and the resolution the range
is read at.

Resolution from the span: up to 2 days the 15-minute rollups, up to 31 days the hourly ones,
longer the daily ones (``data.telemetry_queries.RESOLUTIONS``), so a chart draws a few hundred to
a few thousand points whatever the range.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

PRESETS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30),
           "90d": dt.timedelta(days=90), "365d": dt.timedelta(days=365)}
PRESET_LABELS = {"24h": "24 h", "7d": "7 d", "30d": "30 d", "90d": "90 d", "365d": "1 y"}
RESOLUTION_LABELS = {"15min": "15-min mean", "1h": "hourly mean", "1d": "daily mean"}
MAX_SPAN = dt.timedelta(days=3660)


@dataclass(frozen=True)
class TimeRange:
    """A half-open UTC range [start, end), the preset it came from (None: custom) and its resolution."""

    start: dt.datetime
    end: dt.datetime
    preset: str | None

    @property
    def resolution(self) -> str:
        """Return the rollup resolution of the range: '15min', '1h' or '1d'."""
        return resolution_for(self.end - self.start)

    def label(self) -> str:
        """Return how the range reads: 'last 7 d' or '2026-11-01 → 2026-11-30' (UTC dates)."""
        if self.preset:
            return f"last {PRESET_LABELS[self.preset]}"
        last_day = self.end - dt.timedelta(microseconds=1)
        return f"{self.start:%Y-%m-%d} → {last_day:%Y-%m-%d} (UTC)"

    def query(self) -> str:
        """Return the URL query string of the range ('?range=7d' or '?from=..&to=..')."""
        if self.preset:
            return "?" + urlencode({"range": self.preset})
        last_day = (self.end - dt.timedelta(days=1)).date()
        return "?" + urlencode({"from": self.start.date().isoformat(), "to": last_day.isoformat()})


def resolution_for(span: dt.timedelta) -> str:
    """Return the resolution to read ``span`` at: '15min' up to 2 days, '1h' up to 31 days, else '1d'."""
    if span <= dt.timedelta(days=2):
        return "15min"
    if span <= dt.timedelta(days=31):
        return "1h"
    return "1d"


def _date(text: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def parse_range(query: dict[str, Any], now: dt.datetime, default: str = "24h") -> TimeRange:
    """Return the range a page's query parameters name: ``from``/``to`` (UTC dates, both days
    included) when both parse and are in order and within 10 years, else the preset ``range``,
    else ``default``. Never raises: a bad link shows the default range."""
    start_day, end_day = _date(query.get("from")), _date(query.get("to"))
    if start_day and end_day and start_day <= end_day:
        start = dt.datetime.combine(start_day, dt.time(), dt.UTC)
        end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time(), dt.UTC)
        if end - start <= MAX_SPAN:
            return TimeRange(start, end, None)
    preset = str(query.get("range") or default)
    if preset not in PRESETS:
        preset = default
    return TimeRange(now - PRESETS[preset], now, preset)


def range_control(prefix: str, current: TimeRange, path: str) -> html.Div:
    """Return the control: preset links (``path?range=..``), a custom date range (``{prefix}-dates``,
    applied by a callback writing ``{prefix}-url``) and the resolution shown (``{prefix}-resolution``)."""
    presets = dbc.ButtonGroup([
        dcc.Link(PRESET_LABELS[key], href=f"{path}?{urlencode({'range': key})}", id=f"{prefix}-preset-{key}",
                 className="btn btn-sm " + ("btn-secondary" if current.preset == key else "btn-outline-secondary"))
        for key in PRESETS
    ], size="sm")
    last_day = (current.end - dt.timedelta(microseconds=1)).date()
    dates = dcc.DatePickerRange(id=f"{prefix}-dates", start_date=current.start.date().isoformat(),
                                end_date=last_day.isoformat(), display_format="YYYY-MM-DD", minimum_nights=0,
                                className="small")
    return html.Div([
        dcc.Location(id=f"{prefix}-url", refresh="callback-nav"),
        presets, dates,
        html.Span([current.label(), " · resolution: ", html.Strong(RESOLUTION_LABELS[current.resolution])],
                  id=f"{prefix}-resolution", className="small text-body-secondary"),
    ], className="d-flex flex-wrap align-items-center gap-2 fl-range")
