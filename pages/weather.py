"""Weather correlation: output vs weather with fitted curves, correlations, performance index, climate."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.weather import IDS, site_options
from components.charts import chart

dash.register_page(
    __name__, path="/weather", name="Weather correlation", title="Weather correlation · Fleetlight",
    nav_group="Analysis", order=31, min_role="analyst",
)


def _graph(component_id: str) -> dbc.Card:
    return dbc.Card(chart(component_id, loading=True), body=True,
                    className="shadow-sm mb-3")


def layout(**_kwargs: object) -> html.Div:
    """Return the weather correlation page (figures are filled in by the page callback)."""
    options = site_options()
    return html.Div([
        html.Div([
            html.H2("Weather correlation", className="h4 mb-1"),
            html.Div("How output follows the weather, and how the plant performs once the weather is accounted for.",
                     className="text-body-secondary small"),
        ], className="mb-3"),
        dbc.Row([
            dbc.Col([dbc.Label("Site", html_for=IDS["site"]),
                     dcc.Dropdown(id=IDS["site"], options=options, value=options[0]["value"] if options else None,
                                  clearable=False)], md=5),
            dbc.Col([dbc.Label("Window", html_for=IDS["days"]),
                     dbc.Select(id=IDS["days"], value="30", options=[
                         {"label": f"last {d} days of data", "value": str(d)} for d in (7, 30, 90, 365)])], md=3),
        ], className="g-3 mb-2"),
        html.Div(id=IDS["note"], className="small text-body-secondary mb-2"),
        dbc.Row([dbc.Col(_graph(IDS["scatter"]), lg=7), dbc.Col(_graph(IDS["corr"]), lg=5)], className="g-3"),
        _graph(IDS["index"]),
        _graph(IDS["climate"]),
    ])
