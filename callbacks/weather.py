"""Weather correlation page: assemble the view for one site and refresh it on input changes."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from dash import Dash, Input, Output

from components.forecast_figures import (
    climate_trend_figure,
    correlation_figure,
    performance_index_figure,
    power_vs_weather_figure,
)
from components.units import variable_label
from core.runtime import db
from data.forecast_queries import (
    forecast_sites,
    latest_output_ts,
    site_history,
    site_measured_weather,
    site_weather,
    weather_alerts_frame,
)
from data.models import Site
from forecasting.errors import ForecastInputError
from forecasting.features import PowerCurve
from security.scope import current_scope

IDS = {"site": "wx-site", "days": "wx-days", "scatter": "wx-scatter", "corr": "wx-corr", "index": "wx-index",
       "climate": "wx-climate", "note": "wx-note"}


def site_options() -> list[dict[str, str]]:
    """Return dropdown options for every forecastable site."""
    with db().read_session() as session:
        return [{"label": s["name"], "value": s["id"]} for s in forecast_sites(session, current_scope().site_ids)]


def fit_expected(kind: str, driver: pd.Series, power: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Return (curve x, curve y, expected output per interval) from paired driver and output values.

    Wind: the empirical monotone power curve (0.5 m/s bins). Solar: output proportional to
    irradiance, slope by least squares through the origin.
    """
    ok = driver.notna() & power.notna()
    if ok.sum() < 50:
        return np.array([]), np.array([]), pd.Series(np.nan, index=power.index)
    if kind == "wind":
        try:
            curve = PowerCurve.fit(driver[ok].to_numpy(), power[ok].to_numpy())
        except ForecastInputError:
            return np.array([]), np.array([]), pd.Series(np.nan, index=power.index)
        return curve.speeds, curve.power, pd.Series(curve(driver.to_numpy()), index=power.index)
    x, y = driver[ok].to_numpy(), power[ok].to_numpy()
    slope = float(np.dot(x, y) / np.dot(x, x)) if np.dot(x, x) > 0 else 0.0
    grid = np.linspace(0, float(np.nanmax(x)), 50)
    return grid, slope * grid, driver * slope


def performance_index(actual: pd.Series, expected: pd.Series, min_hours: int = 6) -> pd.Series:
    """Return daily actual/expected energy for days with at least ``min_hours`` paired hours and some expected energy."""
    ok = actual.notna() & expected.notna()
    frame = pd.DataFrame({"a": actual.where(ok), "e": expected.where(ok), "n": ok.astype(int)}).resample("1D").sum()
    frame = frame[(frame["n"] >= min_hours) & (frame["e"] > 1e-6)]
    return (frame["a"] / frame["e"]).clip(0, 2)


def weather_view(site_id: str | None, days: int, theme: str | None) -> dict[str, Any]:
    """Return the four figures and a note for ``site_id`` over the ``days`` before its latest data."""
    with db().read_session() as session:
        site = session.get(Site, site_id) if site_id and current_scope().sees(site_id) else None
        if site is None:
            empty = power_vs_weather_figure(pd.Series(dtype=float), pd.Series(dtype=float), np.array([]), np.array([]),
                                            x_label="", title="", theme=theme)
            return {"scatter": empty, "corr": correlation_figure(pd.DataFrame(), theme=theme),
                    "index": performance_index_figure(pd.Series(dtype=float), pd.DataFrame(), theme=theme),
                    "climate": climate_trend_figure(pd.DataFrame(), theme=theme), "note": "Choose a site."}
        kind = site.kind.value
        end_ts = latest_output_ts(session, site.id)
        end = pd.Timestamp(end_ts).tz_convert("UTC") + pd.Timedelta("1h") if end_ts else pd.Timestamp.now(tz="UTC").floor("h")
        start = end - pd.Timedelta(days=days)
        power = site_history(session, site.id, start, end)
        weather = site_weather(session, site.id, start, end)
        measured = site_measured_weather(session, site.id, start, end)
        alerts = weather_alerts_frame(session, [site.id], start.to_pydatetime(), end.to_pydatetime())
        history = site_weather(session, site.id, end - pd.Timedelta(days=3650), end, freq="1D")
    for col in measured.columns:
        weather[f"{col} (measured)"] = measured[col]
    candidates = (["wind_speed_ms", "wind_speed_ms (measured)"] if kind == "wind"
                  else ["ghi_wm2", "irradiance_wm2 (measured)"])
    driver_col = next((c for c in candidates if c in weather.columns and weather[c].notna().sum() >= 50), None)
    driver = weather[driver_col] if driver_col else pd.Series(np.nan, index=power.index)
    cx, cy, expected = fit_expected(kind, driver, power)
    label = variable_label(driver_col) if driver_col else "weather"
    scatter = power_vs_weather_figure(driver, power, cx, cy, x_label=label, theme=theme,
                                      title=f"Output vs {label} · {site.name}")
    corr_frame = weather.copy()
    corr_frame.insert(0, "output_mw", power)
    for col in ("onset", "ends"):
        if col in alerts:
            alerts[col] = pd.to_datetime(alerts[col], utc=True)
    monthly = history.resample("MS").mean() if not history.empty else pd.DataFrame()
    monthly = monthly[[c for c in ("temperature_c", "precipitation_mm", "wind_speed_ms") if c in monthly.columns]] \
        if not monthly.empty else monthly
    note = (f"{site.name}: {start:%Y-%m-%d} → {end:%Y-%m-%d} (hourly). Expected output from "
            + ("the empirical power curve" if kind == "wind" else "a linear irradiance model")
            + (f" on {driver_col}." if driver_col else ": no weather stored for this window."))
    return {
        "scatter": scatter,
        "corr": correlation_figure(corr_frame, theme=theme),
        "index": performance_index_figure(performance_index(power, expected), alerts, theme=theme),
        "climate": climate_trend_figure(monthly, theme=theme),
        "note": note,
    }


def register(app: Dash) -> None:
    """Attach the weather page callbacks to ``app``."""

    @app.callback(
        Output(IDS["scatter"], "figure"), Output(IDS["corr"], "figure"), Output(IDS["index"], "figure"),
        Output(IDS["climate"], "figure"), Output(IDS["note"], "children"),
        Input(IDS["site"], "value"), Input(IDS["days"], "value"), Input("shell-theme", "data"),
    )
    def refresh(site_id: str | None, days: int | str | None, theme: str | None):
        view = weather_view(site_id, int(days or 30), theme)
        return view["scatter"], view["corr"], view["index"], view["climate"], view["note"]
