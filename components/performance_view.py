"""Period-performance widgets: KPI tiles with a help popover (formula, standard) and the two figures.

Builders take the computed :class:`domain.performance_kpis.KpiResult` / series / waterfall as
arguments and never fetch data. Tile ids are pattern-matching dicts ``{"type": ..., "key": kpi}``
under a page prefix, so the /performance page and the site page can both hold a set.
"""
from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
import polars as pl
from dash import html

from components.theme import style_figure
from domain.kpi_definitions import DEFINITIONS
from domain.performance_kpis import KpiResult


def tile_id(prefix: str, part: str, key: str) -> dict[str, str]:
    """Return the id of a tile part ('value', 'coverage', 'help') of KPI ``key`` on the page ``prefix``."""
    return {"type": f"{prefix}-kpi-{part}", "key": key}


def help_popover(prefix: str, key: str) -> list:
    """Return the info icon of KPI ``key`` and its popover: the formula and the standard followed."""
    d = DEFINITIONS[key]
    target = f"{prefix}-help-{key}"
    return [
        html.I(className="bi bi-info-circle ms-1", id=target, role="button", tabIndex="0",
               title=f"How {d.label} is computed", **{"aria-label": f"definition of {d.label}"}),
        dbc.Popover([dbc.PopoverHeader(d.label), dbc.PopoverBody([
            html.Div(d.formula, className="small mb-2"),
            html.Div([html.Span("Standard: ", className="fw-semibold"), d.standard], className="small"),
        ])], target=target, trigger="legacy", placement="bottom", id=tile_id(prefix, "help", key)),
    ]


def value_children(text: str) -> list:
    """Return a KPI text as shown in a tile: a dash's reason in small type beside the dash (same innerText)."""
    if text.startswith("— (") and text.endswith(")"):
        return ["—", html.Span(" " + text[2:], className="fs-6 fw-normal text-body-secondary lh-sm")]
    return [text]


def kpi_help_tile(prefix: str, key: str, result: KpiResult | None) -> dbc.Card:
    """Return a KPI tile: label with help popover, the value text, and what it stands on."""
    d = DEFINITIONS[key]
    return dbc.Card(dbc.CardBody([
        html.Div([d.label, *help_popover(prefix, key)], className="kpi-label text-body-secondary small"),
        html.Div(value_children("—" if result is None else result.text), id=tile_id(prefix, "value", key),
                 className="kpi-value fs-4 fw-semibold", **{"data-kpi-period": key}),
        html.Div("" if result is None else result.coverage_text, id=tile_id(prefix, "coverage", key),
                 className="kpi-detail small text-body-secondary"),
    ]), className="kpi-tile h-100 shadow-sm")


def kpi_tiles(prefix: str, keys: Sequence[str], results: dict[str, KpiResult] | None, md: int = 3) -> dbc.Row:
    """Return a row of :func:`kpi_help_tile` for ``keys``."""
    return dbc.Row([dbc.Col(kpi_help_tile(prefix, k, (results or {}).get(k)), md=md, sm=6, className="mb-3")
                    for k in keys], className="g-3")


def actual_vs_expected_figure(series: pl.DataFrame, resolution: str, theme: str | None = "light") -> go.Figure:
    """Return actual vs expected energy per period (MWh) on the intervals that have an expectation, and coverage."""
    fig = go.Figure()
    if series.height:
        x = series["period_start"].to_list()
        fig.add_bar(x=x, y=(series["expected_kwh"] / 1000).to_list(), name="Expected", marker_color="#9aa5b1")
        fig.add_bar(x=x, y=(series["actual_valid_kwh"] / 1000).to_list(), name="Actual", marker_color="#2e9e5b")
        coverage = (100 * series["valid_intervals"] / series["intervals"]).to_list()
        fig.add_scatter(x=x, y=coverage, name="Coverage %", yaxis="y2", mode="lines+markers",
                        line={"color": "#d9822b", "width": 1.5, "dash": "dot"})
    label = {"15min": "15 min", "1d": "day (UTC)", "1mo": "month (UTC)"}.get(resolution, resolution)
    fig.update_layout(title=f"Actual vs expected energy per {label} (MWh)<br><sup>on the intervals with an expectation; "
                            "coverage = share of the asset-intervals they stand on</sup>",
                      barmode="group", yaxis_title="MWh",
                      yaxis2={"title": "coverage %", "overlaying": "y", "side": "right", "range": [0, 105],
                              "tickvals": [0, 25, 50, 75, 100],
                              "showgrid": False})
    if not series.height:
        fig.add_annotation(text="No data in the period", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return style_figure(fig, theme, height=340)


def loss_waterfall_figure(steps: list[tuple[str, float]], theme: str | None = "light") -> go.Figure:
    """Return the waterfall from expected to actual energy (MWh, kWh under 1 MWh): downtime, curtailment, underperformance."""
    fig = go.Figure()
    unit, scale = ("MWh", 1000.0) if max((abs(v) for _, v in steps), default=0.0) >= 1000 else ("kWh", 1.0)
    if steps:
        measures = ["absolute"] + ["relative"] * (len(steps) - 2) + ["total"]
        fig.add_trace(go.Waterfall(x=[s for s, _ in steps], y=[v / scale for _, v in steps], measure=measures,
                                   texttemplate="%{y:,.2f}", textposition="outside",
                                   decreasing={"marker": {"color": "#c0392b"}},
                                   increasing={"marker": {"color": "#2e9e5b"}},
                                   totals={"marker": {"color": "#2f7ed8"}}))
    else:
        fig.add_annotation(text="No expectation in the period: no waterfall", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
    fig.update_layout(title=f"From expected to actual energy ({unit})<br><sup>on the intervals with an expectation</sup>",
                      yaxis_title=unit, showlegend=False)
    return style_figure(fig, theme, height=340)


def quality_panel(summary: dict, shown: int = 10) -> html.Div:
    """Return the data-quality panel: mean score per asset-day, what was found, the worst asset-days."""
    if not summary.get("asset_days"):
        return html.Div("No data in the period: nothing to score.", className="small text-body-secondary")
    head = html.Div(
        f"Mean score {summary['mean_score']:.1f} / 100 over {summary['asset_days']:,} asset-days · "
        f"{summary['gaps']:,} intervals without data · {summary['out_of_range']:,} out-of-range · "
        f"{summary['stuck']:,} stuck. Out-of-range and stuck intervals are excluded from the KPIs above "
        "(their coverage says how many).", className="small mb-2")
    worst = summary.get("worst", [])[:shown]
    if not worst:
        return html.Div([head, html.Div("Every asset-day scores 100.", className="small text-body-secondary")])
    table = dbc.Table([
        html.Thead(html.Tr([html.Th(h) for h in ("Asset", "Day (UTC)", "Score", "Gaps", "Out of range", "Stuck")])),
        html.Tbody([html.Tr([html.Td(r["asset_id"]), html.Td(r["day"]), html.Td(f"{r['score']:.1f}"),
                             html.Td(f"{r['gaps']:,}"), html.Td(f"{r['out_of_range']:,}"), html.Td(f"{r['stuck']:,}")])
                    for r in worst]),
    ], size="sm", hover=True, responsive=True, className="mb-0")
    return html.Div([head, table])


PALETTE = ("#2f7ed8", "#2e9e5b", "#d9822b", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#f2b705")


def power_curve_figure(curves: list, theme: str | None = "light", max_points: int = 2000) -> go.Figure:
    """Return the measured curves (0.5 m/s bins, lines), their intervals (scatter) and the reference (dashed) per turbine.

    ``curves`` are :class:`domain.power_curve.MeasuredCurve`; a flagged bin (deviation over 10 %) is a ring.
    """
    fig = go.Figure()
    for i, c in enumerate(curves):
        color = PALETTE[i % len(PALETTE)]
        name = "-".join(c.asset_id.split("-")[-2:])
        pts = c.points if c.points.height <= max_points else c.points.sample(max_points, seed=i)
        fig.add_scatter(x=pts["speed_norm_ms"].to_list(), y=pts["power_kw"].to_list(), mode="markers", name=f"{name} intervals",
                        marker={"size": 3, "color": color, "opacity": 0.25}, legendgroup=name, showlegend=False)
        if c.bins.height:
            fig.add_scatter(x=c.bins["speed_ms"].to_list(), y=c.bins["power_kw"].to_list(), mode="lines+markers",
                            name=f"{name} measured", line={"color": color, "width": 2}, legendgroup=name)
            flagged = c.bins.filter(pl.col("flagged"))
            if flagged.height:
                fig.add_scatter(x=flagged["speed_ms"].to_list(), y=flagged["power_kw"].to_list(), mode="markers",
                                name=f"{name} > 10 % off", marker={"size": 11, "color": "rgba(0,0,0,0)",
                                                                    "line": {"color": "#c0392b", "width": 2}},
                                legendgroup=name, showlegend=False)
            if c.bins["reference_kw"].null_count() < c.bins.height:
                fig.add_scatter(x=c.bins["speed_ms"].to_list(), y=c.bins["reference_kw"].to_list(), mode="lines",
                                name=f"{name} reference ({c.reference})", line={"color": color, "dash": "dash", "width": 1},
                                legendgroup=name, showlegend=i == 0)
    if not curves:
        fig.add_annotation(text="Choose one wind site to see its turbines' measured power curves", showarrow=False,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title="Measured power curves (IEC 61400-12-1 style: 0.5 m/s bins, density-normalised, filtered)",
                      xaxis_title="wind speed normalised to 1.225 kg/m³ (m/s)", yaxis_title="kW")
    return style_figure(fig, theme, height=420)


def power_curve_note(curves: list) -> str:
    """Return what the curves stand on: bins drawn, flagged bins, intervals removed by each filter."""
    if not curves:
        return ""
    removed: dict[str, int] = {}
    for c in curves:
        for k, v in c.filtered.items():
            removed[k] = removed.get(k, 0) + v
    flagged = sum(int(c.bins["flagged"].sum()) for c in curves if c.bins.height)
    kept = sum(c.points.height for c in curves)
    parts = ", ".join(f"{v:,} {k}" for k, v in removed.items())
    return (f"{len(curves)} turbines, {kept:,} intervals kept; removed: {parts}. Bins with at least 3 intervals; "
            f"{flagged} bin(s) deviate from the reference by more than 10 % (ringed).")
