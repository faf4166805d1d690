"""Figure builders for the forecasts and weather-correlation pages: data in, figures out.

Units: power in MW, times tz-aware UTC (interval start), metrics as fractions (shown as %).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components.theme import style_figure
from components.units import variable_label

MODEL_COLORS = {"xgboost": "#2f7ed8", "prophet": "#16a085", "climatology": "#8e44ad", "persistence": "#7f8c8d"}


def _empty(message: str, theme: str | None, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style_figure(fig, theme, height=height)


def forecast_band_figure(actual: pd.Series, forecasts: pd.DataFrame, *, title: str, theme: str | None = "light",
                         capacity_mw: float | None = None) -> go.Figure:
    """Return forecast p50 lines with p10-p90 bands per model, over the actual output (MW).

    ``forecasts`` has columns model_name, target_start, p10_mw, p50_mw, p90_mw (and optionally
    version, shown in the legend).
    """
    if forecasts.empty and actual.dropna().empty:
        return _empty("No forecasts or measurements in this window", theme, 380)
    fig = go.Figure()
    for name, grp in forecasts.groupby("model_name", sort=False):
        grp = grp.sort_values("target_start")
        color = MODEL_COLORS.get(name, "#e67e22")
        version = f" · {grp['version'].dropna().iloc[-1]}" if "version" in grp and grp["version"].notna().any() else ""
        if grp["p10_mw"].notna().any():
            fig.add_scatter(x=grp["target_start"], y=grp["p90_mw"], mode="lines", line={"width": 0}, showlegend=False,
                            hoverinfo="skip", legendgroup=name)
            fig.add_scatter(x=grp["target_start"], y=grp["p10_mw"], mode="lines", line={"width": 0}, fill="tonexty",
                            fillcolor=_rgba(color, 0.18), name=f"{name} p10-p90", legendgroup=name, hoverinfo="skip")
        fig.add_scatter(x=grp["target_start"], y=grp["p50_mw"], mode="lines", line={"color": color, "width": 2},
                        name=f"{name} p50{version}", legendgroup=name, hovertemplate="%{y:,.2f} MW")
    if not actual.dropna().empty:
        fig.add_scatter(x=actual.index, y=actual.to_numpy(), mode="lines", name="actual",
                        line={"color": "#d35400" if theme != "dark" else "#f39c12", "width": 2, "dash": "dot"},
                        hovertemplate="%{y:,.2f} MW")
    if capacity_mw:
        fig.add_hline(y=capacity_mw, line={"dash": "dash", "width": 1, "color": "rgba(128,128,128,0.6)"},
                      annotation_text="capacity", annotation_position="top left")
    fig.update_layout(title=title, yaxis_title="MW", hovermode="x unified")
    return style_figure(fig, theme, height=380)


def horizon_skill_figure(per_horizon: dict[str, list[dict]], *, metric: str = "skill_rmse", theme: str | None = "light") -> go.Figure:
    """Return a line per model of ``metric`` (skill vs persistence by default) against lead time in hours."""
    if not per_horizon:
        return _empty("No backtest results yet", theme)
    fig = go.Figure()
    for name, rows in per_horizon.items():
        if not rows:
            continue
        frame = pd.DataFrame(rows).sort_values("lead_h")
        fig.add_scatter(x=frame["lead_h"], y=frame[metric], mode="lines+markers", name=name,
                        line={"color": MODEL_COLORS.get(name.split(" ")[0], None)}, marker={"size": 4})
    fig.add_hline(y=0, line={"width": 1, "color": "rgba(128,128,128,0.6)"})
    label = {"skill_rmse": "skill vs persistence (RMSE)", "nmae": "nMAE (of capacity)",
             "coverage_p10_p90": "p10-p90 coverage"}.get(metric, metric)
    fig.update_layout(title=f"Backtest {label} by lead time", xaxis_title="lead time (h)", yaxis_tickformat=".0%")
    return style_figure(fig, theme, height=320)


def regime_figure(by_regime: dict[str, dict[str, dict]], *, theme: str | None = "light") -> go.Figure:
    """Return grouped bars of nMAE per weather regime for each model (``{model: {regime: metrics}}``)."""
    if not by_regime:
        return _empty("No regime scores yet", theme)
    fig = go.Figure()
    for name, regimes in by_regime.items():
        labels = list(regimes)
        fig.add_bar(x=labels, y=[regimes[r].get("nmae") for r in labels], name=name,
                    marker_color=MODEL_COLORS.get(name.split(" ")[0], None),
                    customdata=[regimes[r].get("skill_rmse") for r in labels],
                    hovertemplate="%{x}: nMAE %{y:.1%}, skill %{customdata:.0%}<extra>" + name + "</extra>")
    fig.update_layout(title="Backtest nMAE by weather regime", yaxis_tickformat=".0%", barmode="group")
    return style_figure(fig, theme, height=320)


def power_vs_weather_figure(x: pd.Series, power: pd.Series, curve_x: np.ndarray, curve_y: np.ndarray, *,
                            x_label: str, title: str, theme: str | None = "light") -> go.Figure:
    """Return a scatter of output (MW) against a weather variable with the fitted curve drawn over it."""
    ok = x.notna() & power.notna()
    if ok.sum() < 10:
        return _empty("Not enough paired weather and output values", theme, 380)
    fig = go.Figure()
    fig.add_scattergl(x=x[ok], y=power[ok], mode="markers", name="hourly values",
                      marker={"size": 4, "opacity": 0.35, "color": "#2f7ed8"},
                      hovertemplate=f"{x_label}: %{{x:,.1f}}<br>output: %{{y:,.2f}} MW<extra></extra>")
    if len(curve_x):
        fig.add_scatter(x=curve_x, y=curve_y, mode="lines", name="fitted curve", line={"color": "#d35400", "width": 3})
    fig.update_layout(title=title, xaxis_title=x_label, yaxis_title="MW")
    return style_figure(fig, theme, height=380)


def correlation_figure(frame: pd.DataFrame, *, theme: str | None = "light") -> go.Figure:
    """Return a heatmap of Pearson correlations between the columns of ``frame``."""
    frame = frame.dropna(axis=1, how="all")
    frame = frame.loc[:, frame.std() > 0] if not frame.empty else frame
    if frame.shape[1] < 2 or len(frame.dropna()) < 10:
        return _empty("Not enough variables to correlate", theme)
    corr = frame.corr()
    names = [variable_label(c) for c in corr.columns]
    fig = go.Figure(go.Heatmap(z=corr.to_numpy(), x=names, y=names, zmin=-1, zmax=1,
                               colorscale="RdBu", reversescale=True, text=np.round(corr.to_numpy(), 2),
                               texttemplate="%{text}", hovertemplate="%{x} / %{y}: r = %{z:.2f}<extra></extra>"))
    fig.update_layout(title="Correlation of weather and output")
    return style_figure(fig, theme, height=360)


def performance_index_figure(index: pd.Series, alerts: pd.DataFrame, *, theme: str | None = "light") -> go.Figure:
    """Return the daily weather-adjusted performance index (actual / expected) with severe-weather spans.

    ``alerts`` has columns event, severity, onset, ends; each becomes a shaded span on the timeline.
    """
    if index.dropna().empty:
        return _empty("No days with both weather and output", theme)
    fig = go.Figure()
    fig.add_scatter(x=index.index, y=index.to_numpy(), mode="lines+markers", name="performance index",
                    line={"color": "#2e9e5b"}, marker={"size": 4}, hovertemplate="%{x|%Y-%m-%d}: %{y:.0%}<extra></extra>")
    fig.add_hline(y=1.0, line={"dash": "dash", "width": 1, "color": "rgba(128,128,128,0.7)"})
    for row in alerts.itertuples(index=False):
        if row.onset is None or pd.isna(row.onset):
            continue
        end = row.ends if row.ends is not None and not pd.isna(row.ends) else row.onset
        color = "rgba(217,83,79,0.18)" if str(row.severity).lower() in ("severe", "extreme") else "rgba(224,168,0,0.18)"
        fig.add_vrect(x0=row.onset, x1=end, fillcolor=color, line_width=0, annotation_text=str(row.event)[:30],
                      annotation_position="top left", annotation_font_size=10)
    fig.update_layout(title="Weather-adjusted performance index (actual / expected energy per day)",
                      yaxis_tickformat=".0%", showlegend=False)
    return style_figure(fig, theme, height=320)


def climate_trend_figure(monthly: pd.DataFrame, *, theme: str | None = "light") -> go.Figure:
    """Return monthly means of weather variables (columns) with a linear trend per decade in the legend."""
    monthly = monthly.dropna(axis=1, how="all")
    if monthly.empty or len(monthly) < 3:
        return _empty("No long weather history stored for this site (NOAA NCEI history appears here once fetched)", theme)
    fig = go.Figure()
    for col in monthly.columns:
        series = monthly[col].dropna()
        if len(series) < 3:
            continue
        years = (series.index - series.index[0]).days / 365.25
        slope = np.polyfit(years, series.to_numpy(), 1)[0] * 10
        label = variable_label(col)
        fig.add_scatter(x=series.index, y=series.to_numpy(), mode="lines", name=f"{label}: {slope:+.2f} per decade",
                        hovertemplate="%{x|%Y-%m}: %{y:,.1f}<extra>" + label + "</extra>")
    fig.update_layout(title="Monthly weather history and trend")
    return style_figure(fig, theme, height=320)


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
