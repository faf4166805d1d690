"""Figure builders for fleet views: data comes in as arguments, figures go out."""
from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from components.theme import KIND_COLORS, style_figure
from components.units import power_unit


def output_by_kind_figure(sites: pl.DataFrame, theme: str | None = "light") -> go.Figure:
    """Return a bar chart of current output vs capacity (MW) per site kind."""
    agg = (
        sites.filter(pl.col("kind") != "substation")
        .group_by("kind")
        .agg(pl.col("capacity_mw").sum(), pl.col("output_mw").fill_null(0).sum())
        .sort("capacity_mw", descending=True)
    )
    kinds = agg["kind"].to_list()
    fig = go.Figure()
    fig.add_bar(x=kinds, y=agg["capacity_mw"].to_list(), name="Capacity", marker_color="rgba(128,128,128,0.3)",
                hovertemplate="%{x}: capacity %{y:,.1f} MW<extra></extra>")
    fig.add_bar(x=kinds, y=agg["output_mw"].to_list(), name="Output now",
                marker_color=[KIND_COLORS.get(k, "#888") for k in kinds],
                hovertemplate="%{x}: output now %{y:,.1f} MW<extra></extra>")
    fig.update_layout(barmode="overlay", title="Output vs capacity by type (MW)", yaxis_title="MW")
    return style_figure(fig, theme, height=300)


def output_by_market_figure(sites: pl.DataFrame, theme: str | None = "light") -> go.Figure:
    """Return a horizontal bar chart of current output (MW) per market."""
    agg = (
        sites.filter(pl.col("kind") != "substation")
        .group_by("market")
        .agg(pl.col("output_mw").fill_null(0).sum(), pl.col("capacity_mw").sum())
        .sort("output_mw")
    )
    fig = go.Figure(go.Bar(
        y=agg["market"].to_list(), x=agg["output_mw"].to_list(), orientation="h", marker_color="#2f7ed8",
        customdata=agg["capacity_mw"].to_list(),
        hovertemplate="%{y}: %{x:.1f} MW of %{customdata:.0f} MW<extra></extra>",
    ))
    fig.update_layout(title="Output by market (MW)", xaxis_title="MW")
    return style_figure(fig, theme, height=300)


def site_output_figure(series: pl.DataFrame, capacity_mw: float, theme: str | None = "light",
                       period: str = "last 24 h", mean: str = "15-min mean",
                       x_range: tuple[dt.datetime, dt.datetime] | None = None) -> go.Figure:
    """Return the site's output over time (bucket means labelled by interval start; ``period`` and
    ``mean`` name the range and resolution in the title; ``x_range`` pins the time axis to the range
    asked for, so missing data shows as a gap), in kW for a plant below 1 MW and in MW
    otherwise (``components.units.power_unit``)."""
    unit, factor = power_unit(capacity_mw)
    fig = go.Figure()
    if series.height:
        fig.add_scatter(x=series["ts"].to_list(), y=[None if v is None else v * factor for v in series["output_mw"].to_list()],
                        mode="lines", name="Output", line={"color": "#2e9e5b", "width": 2}, fill="tozeroy",
                        fillcolor="rgba(46,158,91,0.15)", line_shape="hv",
                        hovertemplate=f"%{{x|%Y-%m-%d %H:%M}} UTC: %{{y:,.{2 if unit == 'MW' else 1}f}} {unit}<extra></extra>")
    fig.add_hline(y=capacity_mw * factor, line_dash="dot", line_color="#888",
                  annotation_text=f"capacity {capacity_mw * factor:,.1f} {unit}", annotation_position="top left")
    fig.update_layout(title=f"Output, {period} ({unit}, {mean})", yaxis_title=unit, showlegend=False,
                      yaxis_tickformat=",.3~g")
    if x_range:
        fig.update_xaxes(range=list(x_range))
    return style_figure(fig, theme, height=320)
