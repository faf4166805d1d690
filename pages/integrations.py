"""Integrations status page: per provider state, success rate, latency, usage, cost, quota, errors."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.integrations import IDS, integrations_view
from components.charts import chart

dash.register_page(
    __name__, path="/integrations", name="Integrations", title="Integrations · Fleetlight", nav_group="System",
    order=50, min_role="viewer",
)


def _graph(component_id: str, figure) -> dbc.Card:
    return dbc.Card(chart(component_id, figure), body=True,
                    className="shadow-sm")


def layout(**_kwargs: object) -> html.Div:
    """Return the integrations page filled with the gateway's current state and the call log."""
    view = integrations_view("light")
    return html.Div([
        dcc.Interval(id=IDS["refresh"], interval=30_000),
        html.Div([
            html.H2("Integrations", className="h4 mb-0"),
            html.Div(view["updated"], id=IDS["updated"], className="text-body-secondary small"),
        ], className="d-flex justify-content-between align-items-baseline mb-1"),
        html.P([html.Span(view["summary"], id=IDS["summary"], className="fw-semibold me-2"),
                html.Small("Weather and market providers behind the gateway. Without a key a provider replays "
                           "recorded data (offline replay); when a provider fails, its last good answer is served "
                           "and the failure is logged below. Today and month are UTC; costs are estimates.",
                           className="text-body-secondary")], className="mb-3"),
        dbc.Card(dbc.CardBody(html.Div(view["table"], id=IDS["table"] + "-wrap")), className="shadow-sm mb-3"),
        dbc.Row([dbc.Col(_graph(IDS["calls"], view["calls"]), lg=6),
                 dbc.Col(_graph(IDS["failures"], view["failures"]), lg=6)], className="g-3 mb-3"),
        dbc.Row([dbc.Col(_graph(IDS["latency"], view["latency"]), lg=6),
                 dbc.Col(dbc.Card([dbc.CardHeader("Failures in the last 48 hours: failed calls and incidents"),
                                   dbc.CardBody(html.Div(view["events"], id=IDS["events"]))], className="shadow-sm"),
                         lg=6)], className="g-3 mb-3"),
        dbc.Card([dbc.CardHeader("Components of this process"),
                  dbc.CardBody(html.Div(view["components"], id=IDS["components"]))], className="shadow-sm"),
    ])
