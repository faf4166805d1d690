"""Forecasts: forecast vs actual with p10-p90 bands per site and fleet, model comparison and scorecards."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.forecasts import FLEET, IDS, site_options
from components.charts import chart
from forecasting.models import MODEL_NAMES

dash.register_page(
    __name__, path="/forecasts", name="Forecasts", title="Forecasts · Fleetlight", nav_group="Analysis", order=30,
    min_role="analyst",
)


def _graph(component_id: str) -> dbc.Card:
    return dbc.Card(chart(component_id, loading=True), body=True,
                    className="shadow-sm mb-3")


def layout(**_kwargs: object) -> html.Div:
    """Return the forecasts page (data is filled in by the page callback)."""
    return html.Div([
        html.Div([
            html.H2("Generation forecasts", className="h4 mb-1"),
            html.Div("p50 with the p10-p90 band per model; scores come from each version's rolling-origin "
                     "backtest (skill = 1 − RMSE / RMSE of persistence).", className="text-body-secondary small"),
        ], className="mb-3"),
        dbc.Row([
            dbc.Col([dbc.Label("Site", html_for=IDS["site"]),
                     dcc.Dropdown(id=IDS["site"], options=site_options(), value=FLEET, clearable=False)], md=4),
            dbc.Col([dbc.Label("Models"),
                     dbc.Checklist(id=IDS["models"], options=[{"label": m, "value": m} for m in MODEL_NAMES],
                                   value=list(MODEL_NAMES), inline=True)], md=5),
            dbc.Col([dbc.Label("Scorecard metric", html_for=IDS["metric"]),
                     dbc.Select(id=IDS["metric"], value="skill_rmse", options=[
                         {"label": "Skill vs persistence", "value": "skill_rmse"},
                         {"label": "nMAE", "value": "nmae"},
                         {"label": "p10-p90 coverage", "value": "coverage_p10_p90"}])], md=3),
        ], className="g-3 mb-3"),
        html.Div(id=IDS["note"], className="small text-body-secondary mb-2"),
        _graph(IDS["chart"]),
        dbc.Row([dbc.Col(_graph(IDS["horizon"]), lg=6), dbc.Col(_graph(IDS["regime"]), lg=6)], className="g-3"),
        dbc.Card([dbc.CardHeader("Accuracy scorecard by site and model version"),
                  dbc.CardBody(id=IDS["scorecard"])], className="shadow-sm"),
    ])
