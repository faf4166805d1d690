"""/performance: the period KPIs, actual vs expected and the loss waterfall of a site, portfolio or fleet.

A thin adapter: the picker's values -> :func:`data.performance_queries.performance_for` (the one
model, also behind ``GET /api/v1/kpis`` and the site page) -> the builders of
:mod:`components.performance_view`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from dash import ALL, Dash, Input, Output

from components.performance_view import (
    actual_vs_expected_figure,
    loss_waterfall_figure,
    power_curve_figure,
    power_curve_note,
    quality_panel,
    value_children,
)
from core.runtime import db
from data.models import utcnow
from data.performance_queries import performance_for, power_curves_for, selected_sites, selection_options
from domain.performance_kpis import RESOLUTIONS, kpi_order, loss_value_text
from domain.quality import quality_summary
from security.scope import current_scope

PREFIX = "pf"
IDS = {"selection": "pf-selection", "dates": "pf-dates", "resolution": "pf-resolution", "chart": "pf-chart",
       "waterfall": "pf-waterfall", "note": "pf-note", "quality": "pf-quality",
       "curves": "pf-curves", "curves_note": "pf-curves-note",
       "valued": "pf-valued"}
DEFAULT_DAYS = 7
MAX_DAYS = 400
MAX_15MIN_DAYS = 31


def picker_options() -> list[dict[str, str]]:
    """Return the site / portfolio picker options of the current caller."""
    with db().read_session() as session:
        return selection_options(session, current_scope().site_ids)


def default_dates(today: dt.date | None = None) -> tuple[str, str]:
    """Return the default period (ISO dates, both inclusive): the last 7 UTC days up to today."""
    end = today or utcnow().date()
    return (end - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat(), end.isoformat()


def period_of(start_date: str | None, end_date: str | None) -> tuple[dt.datetime, dt.datetime] | str:
    """Return [start, end) in UTC for inclusive ISO dates, or the reason the dates are unusable."""
    try:
        first = dt.date.fromisoformat(str(start_date)[:10])
        last = dt.date.fromisoformat(str(end_date)[:10])
    except ValueError:
        return "Choose a start and an end date."
    if last < first:
        return "The end date is before the start date."
    if (last - first).days + 1 > MAX_DAYS:
        return f"Choose at most {MAX_DAYS} days."
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    return start, dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)


def performance_view(selection: str | None, start_date: str | None, end_date: str | None, resolution: str | None,
                     theme: str | None) -> dict[str, Any]:
    """Return the page content: KPI texts and coverage texts (in :func:`kpi_order`), the two figures and a note."""
    res = resolution if resolution in RESOLUTIONS else "1d"
    period = period_of(start_date, end_date)
    if isinstance(period, str):
        return _empty(period, res, theme)
    start, end = period
    if res == "15min" and end - start > dt.timedelta(days=MAX_15MIN_DAYS):
        res = "1d"
    with db().read_session() as session:
        ids = selected_sites(session, selection, current_scope().site_ids)
        if not ids:
            return _empty("Choose a site or portfolio you can see.", res, theme)
        configs, report = performance_for(session, ids, start, end, res)
        one_site = (selection or "").startswith("site:") and len(ids) == 1
        curves = power_curves_for(session, ids[0], start, end) if one_site else []
    keys = kpi_order()
    names = ", ".join(c.name for c in configs[:3]) + (f" and {len(configs) - 3} more" if len(configs) > 3 else "")
    note = (f"{names}: {start:%Y-%m-%d} → {end - dt.timedelta(days=1):%Y-%m-%d} (UTC days), from the 15-min rollups; "
            f"{report.kpis['performance_index_pct'].coverage_text}."
            + (" 15-min resolution shows at most 31 days: per day instead." if res != resolution else ""))
    return {"values": [value_children(report.kpis[k].text) for k in keys], "coverage": [report.kpis[k].coverage_text for k in keys],
            "chart": actual_vs_expected_figure(report.series, res, theme),
            "waterfall": loss_waterfall_figure(report.waterfall, theme), "note": note,
            "quality": quality_panel(quality_summary(report.quality)),
            "curves": power_curve_figure(curves, theme), "curves_note": power_curve_note(curves),
            "valued": loss_value_text(report.valued_losses or {})}


def _empty(note: str, resolution: str, theme: str | None) -> dict[str, Any]:
    import polars as pl

    keys = kpi_order()
    empty = pl.DataFrame(schema={"period_start": pl.Datetime("us", "UTC"), "actual_valid_kwh": pl.Float64,
                                 "expected_kwh": pl.Float64, "valid_intervals": pl.Int64, "intervals": pl.Int64})
    return {"values": ["—"] * len(keys), "coverage": [""] * len(keys),
            "chart": actual_vs_expected_figure(empty, resolution, theme), "waterfall": loss_waterfall_figure([], theme),
            "note": note, "quality": quality_panel(quality_summary(None)), "curves": power_curve_figure([], theme),
            "curves_note": "", "valued": ""}


def register(app: Dash) -> None:
    """Attach the /performance callback to ``app``."""

    @app.callback(
        Output({"type": f"{PREFIX}-kpi-value", "key": ALL}, "children"),
        Output({"type": f"{PREFIX}-kpi-coverage", "key": ALL}, "children"),
        Output(IDS["chart"], "figure"), Output(IDS["waterfall"], "figure"), Output(IDS["note"], "children"),
        Output(IDS["quality"], "children"), Output(IDS["curves"], "figure"), Output(IDS["curves_note"], "children"),
        Output(IDS["valued"], "children"),
        Input(IDS["selection"], "value"), Input(IDS["dates"], "start_date"), Input(IDS["dates"], "end_date"),
        Input(IDS["resolution"], "value"), Input("shell-theme", "data"),
    )
    def refresh(selection: str | None, start_date: str | None, end_date: str | None, resolution: str | None,
                theme: str | None):
        view = performance_view(selection, start_date, end_date, resolution, theme)
        return (view["values"], view["coverage"], view["chart"], view["waterfall"], view["note"], view["quality"],
                view["curves"], view["curves_note"], view["valued"])
