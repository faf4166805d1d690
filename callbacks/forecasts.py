"""Forecasts page: assemble the view (forecast vs actual, scorecards) and refresh it on input changes."""
from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, html

from components.forecast_figures import forecast_band_figure, horizon_skill_figure, regime_figure
from core.runtime import db
from data.forecast_queries import forecast_sites, forecasts_frame, site_history
from forecasting.registry import list_versions
from security.scope import current_scope

FLEET = "__fleet__"
IDS = {"site": "fc-site", "models": "fc-models", "chart": "fc-chart", "horizon": "fc-horizon", "regime": "fc-regime",
       "scorecard": "fc-scorecard", "note": "fc-note", "metric": "fc-metric"}


def site_options() -> list[dict[str, str]]:
    """Return dropdown options: the fleet, then each forecastable site."""
    with db().read_session() as session:
        sites = forecast_sites(session, current_scope().site_ids)
    return [{"label": "Fleet (all sites)", "value": FLEET}] + [{"label": s["name"], "value": s["id"]} for s in sites]


def aggregate_fleet(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Return fleet forecasts: per model and target, the sum of site p10/p50/p90 (MW).

    Summing site quantiles gives a band at least as wide as the fleet's true p10-p90 (errors of
    different sites partly cancel), so the fleet band is conservative.
    """
    if forecasts.empty:
        return forecasts
    agg = forecasts.groupby(["model_name", "target_start"], as_index=False)[["p10_mw", "p50_mw", "p90_mw"]].sum(min_count=1)
    agg["version"] = None
    return agg


def scorecard_rows(versions: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Return one scorecard row per active model version (metrics from its rolling-origin backtest)."""
    rows = []
    for v in versions:
        if not v["is_active"]:
            continue
        bt = (v["metrics"] or {}).get("backtest", {})
        da, intra = bt.get("day_ahead", {}), bt.get("intraday", {})
        rows.append({
            "site": names.get(v["site_id"], v["site_id"] or "fleet"), "model": v["model_name"], "version": v["version"],
            "trained": v["trained_at"].strftime("%Y-%m-%d %H:%M") if v["trained_at"] else "",
            "window": f"{v['train_start']:%Y-%m-%d} → {v['train_end']:%Y-%m-%d}" if v["train_start"] else "",
            "da_nmae": da.get("nmae"), "da_skill": da.get("skill_rmse"), "da_cov": da.get("coverage_p10_p90"),
            "id_skill": intra.get("skill_rmse"), "serving": v["serving"],
            "weather": ", ".join((v["metrics"] or {}).get("weather_columns") or []) or "none",
        })
    return rows


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value:.1%}"


def scorecard_table(rows: list[dict[str, Any]]) -> Any:
    """Return the scorecard as a table component (or an explanatory note when empty)."""
    if not rows:
        return html.Div("No trained models yet: run `flask --app app retrain` (or wait for the scheduled retraining).",
                        className="text-body-secondary")
    head = ["Site", "Model", "Version", "Trained (UTC)", "Training window", "Weather", "Day-ahead nMAE",
            "Day-ahead skill", "p10-p90 coverage", "Intraday skill", "Serving"]
    body = [html.Tr([html.Td(r["site"]), html.Td(r["model"]), html.Td(html.Code(r["version"])), html.Td(r["trained"]),
                     html.Td(r["window"]), html.Td(r["weather"]), html.Td(_pct(r["da_nmae"])), html.Td(_pct(r["da_skill"])),
                     html.Td(_pct(r["da_cov"])), html.Td(_pct(r["id_skill"])), html.Td(r["serving"])]) for r in rows]
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], size="sm", hover=True,
                     responsive=True, className="mb-0")


def _mean_rows(groups: list[list[dict]]) -> list[dict]:
    frames = [pd.DataFrame(g) for g in groups if g]
    if not frames:
        return []
    return pd.concat(frames).groupby("h", as_index=False).mean(numeric_only=True).to_dict("records")


def forecasts_view(site_choice: str | None, models: list[str] | None, theme: str | None,
                   metric: str = "skill_rmse") -> dict[str, Any]:
    """Return the figures, scorecard and note for the chosen site (or the fleet) and models."""
    choice = site_choice or FLEET
    scope = current_scope()  # the caller's sites: "fleet" is theirs, another portfolio's site is unknown
    with db().read_session() as session:
        sites = forecast_sites(session, scope.site_ids)
        names = {s["id"]: s["name"] for s in sites}
        ids = [s["id"] for s in sites] if choice == FLEET else [choice] if choice in names else []
        capacity = sum(s["capacity_mw"] for s in sites if s["id"] in ids)
        versions = [v for v in list_versions(session, None if choice == FLEET else choice, limit=500)
                    if v["is_active"] and (v["site_id"] in ids or (v["site_id"] is None and scope.unrestricted))]
        latest = forecasts_frame(session, ids, pd.Timestamp("1970-01-01", tz="UTC"), pd.Timestamp("2200-01-01", tz="UTC"))
        if latest.empty:
            frame, actual, note = latest, pd.Series(dtype=float), "No forecasts stored yet for this selection."
        else:
            issued = latest["issued_at"].max()
            start, end = issued - pd.Timedelta("48h"), issued + pd.Timedelta("48h")
            frame = latest[(latest["target_start"] >= start) & (latest["target_start"] < end)]
            parts = [site_history(session, sid, start, end) for sid in ids]
            actual = pd.concat(parts, axis=1).sum(axis=1, min_count=1) if parts else pd.Series(dtype=float)
            note = f"Latest issue {issued:%Y-%m-%d %H:%M} UTC; actuals to the left, forecast to the right of it."
    if models:
        frame = frame[frame["model_name"].isin(models)]
        versions = [v for v in versions if v["model_name"] in models]
    if choice == FLEET and not frame.empty:
        frame = aggregate_fleet(frame)
        note += " Fleet band = sum of site bands (conservative)."
    title = f"Forecast vs actual · {'fleet' if choice == FLEET else names.get(choice, choice)}"
    per_h: dict[str, list[dict]] = {}
    regimes: dict[str, dict] = {}
    for name in sorted({v["model_name"] for v in versions}):
        mine = [v for v in versions if v["model_name"] == name]
        per_h[name] = _mean_rows([(v["metrics"] or {}).get("per_horizon", []) for v in mine])
        reg: dict[str, list] = {}
        for v in mine:
            for label, m in ((v["metrics"] or {}).get("by_regime") or {}).items():
                reg.setdefault(label, []).append(m)
        regimes[name] = {label: pd.DataFrame(ms).mean(numeric_only=True).to_dict() for label, ms in reg.items()}
    return {
        "chart": forecast_band_figure(actual if len(actual) else pd.Series(dtype=float), frame, title=title,
                                      theme=theme, capacity_mw=capacity or None),
        "horizon": horizon_skill_figure(per_h, metric=metric, theme=theme),
        "regime": regime_figure({k: v for k, v in regimes.items() if v}, theme=theme),
        "scorecard": scorecard_table(scorecard_rows(versions, names)),
        "note": note,
    }


def register(app: Dash) -> None:
    """Attach the forecasts page callbacks to ``app``."""

    @app.callback(
        Output(IDS["chart"], "figure"), Output(IDS["horizon"], "figure"), Output(IDS["regime"], "figure"),
        Output(IDS["scorecard"], "children"), Output(IDS["note"], "children"),
        Input(IDS["site"], "value"), Input(IDS["models"], "value"), Input(IDS["metric"], "value"),
        Input("shell-theme", "data"),
    )
    def refresh(site: str | None, models: list[str] | None, metric: str | None, theme: str | None):
        view = forecasts_view(site, models, theme, metric or "skill_rmse")
        return view["chart"], view["horizon"], view["regime"], view["scorecard"], view["note"]
