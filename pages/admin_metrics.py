"""Admin: the deployment's metrics, the same exposition that ``GET /api/v1/metrics`` gives Prometheus."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.admin_metrics import IDS
from components.data_table import Column, data_table

COLUMNS = [Column("name", "Metric", min_width=260, flex=2), Column("labels", "Labels", min_width=260, flex=3),
           Column("value", "Value", decimals=3, min_width=120)]

dash.register_page(
    __name__, path="/admin/metrics", name="Metrics", title="Metrics · Fleetlight",
    nav_group="Admin", order=60, min_role="admin",
)


def layout(**_kwargs: object) -> html.Div:
    """Return the admin metrics page (refreshed every 10 s)."""
    return html.Div([
        html.H2("Metrics", className="h4 mb-3"),
        html.Div(id=IDS["summary"], className="mb-3"),
        dbc.Card([
            dbc.CardBody(data_table(
                IDS["table"], COLUMNS, [], "No metrics yet: the exposition is read when the page loads.", page_size=25,
                toolbar=dbc.Input(id=IDS["filter"], placeholder="Filter by name or label (e.g. ingest, provider=caiso)",
                                  debounce=0.3, size="sm", type="search", style={"maxWidth": "24rem"}))),
            dbc.CardFooter(html.Small(
                "Counters since each process started, summed over the processes of the deployment when "
                "FLEETLIGHT_METRICS_MULTIPROC_DIR is set; latency as Prometheus histograms (_sum and _count here; "
                "buckets in the exposition). Prometheus scrapes GET /api/v1/metrics with a token of scope "
                "metrics:read.", className="text-body-secondary")),
        ], className="shadow-sm"),
        dcc.Interval(id=IDS["tick"], interval=10_000),
    ])
