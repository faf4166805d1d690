"""Performance: period KPIs with their definitions and coverage, actual vs expected, loss waterfall.

Query parameters preselect the picker: ``/performance?site=<id>`` (or ``portfolio=<id>``),
``start=`` / ``end=`` (ISO dates, inclusive), ``resolution=15min|1d|1mo``.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.performance import IDS, PREFIX, default_dates, picker_options
from components.performance_view import kpi_tiles
from domain.performance_kpis import kpi_order

dash.register_page(
    __name__, path="/performance", name="Performance", title="Performance · Fleetlight",
    nav_group="Analysis", order=30, min_role="viewer",
)

RESOLUTION_OPTIONS = [{"label": "15 min", "value": "15min"}, {"label": "Day", "value": "1d"},
                      {"label": "Month", "value": "1mo"}]


def _graph(component_id: str) -> dbc.Card:
    return dbc.Card(dcc.Loading(dcc.Graph(id=component_id, config={"displayModeBar": False})), body=True,
                    className="shadow-sm h-100")


def layout(site: str | None = None, portfolio: str | None = None, start: str | None = None, end: str | None = None,
           resolution: str | None = None, **_kwargs: object) -> html.Div:
    """Return the performance page; the callback fills in the KPIs and figures for the picked selection."""
    options = picker_options()
    wanted = f"site:{site}" if site else f"portfolio:{portfolio}" if portfolio else "fleet"
    value = wanted if any(o["value"] == wanted for o in options) else "fleet"
    first, last = default_dates()
    return html.Div([
        html.Div([
            html.H2("Performance", className="h4 mb-1"),
            html.Div("Expected energy from the weather each site measured, and what became of it: performance "
                     "ratio, availability, capacity factor and losses, each with the data it stands on.",
                     className="text-body-secondary small"),
        ], className="mb-3"),
        dbc.Row([
            dbc.Col([dbc.Label("Site or portfolio", html_for=IDS["selection"]),
                     dcc.Dropdown(id=IDS["selection"], options=options, value=value, clearable=False)], md=5),
            dbc.Col([dbc.Label("Period (UTC days)", html_for=IDS["dates"]),
                     html.Div(dcc.DatePickerRange(id=IDS["dates"], start_date=start or first, end_date=end or last,
                                                  display_format="YYYY-MM-DD", minimum_nights=0))], md=4),
            dbc.Col([dbc.Label("Chart per", html_for=IDS["resolution"]),
                     dbc.Select(id=IDS["resolution"], options=RESOLUTION_OPTIONS,
                                value=resolution if resolution in ("15min", "1d", "1mo") else "1d")], md=3),
        ], className="g-3 mb-2"),
        html.Div(id=IDS["note"], className="small text-body-secondary mb-3"),
        kpi_tiles(PREFIX, kpi_order(), None),
        dbc.Row([dbc.Col(_graph(IDS["chart"]), lg=7), dbc.Col(_graph(IDS["waterfall"]), lg=5)], className="g-3 mb-2"),
        html.Div(id=IDS["valued"], className="small text-body-secondary mb-3"),
        dbc.Card([dbc.CardBody([dcc.Loading(dcc.Graph(id=IDS["curves"], config={"displayModeBar": False})),
                                html.Div(id=IDS["curves_note"], className="small text-body-secondary")])],
                 className="shadow-sm mb-3"),
        dbc.Card([dbc.CardHeader("Data quality per asset and day (gaps, out-of-range and stuck readings)"),
                  dbc.CardBody(dcc.Loading(html.Div(id=IDS["quality"])))], className="shadow-sm mb-3"),
    ])
