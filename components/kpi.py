"""KPI tiles."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def kpi_tile(tile_id: str, label: str, value: str, detail: str = "", icon: str = "bi-speedometer2") -> dbc.Card:
    """Return a KPI card whose value and detail have ids ``<tile_id>-value`` / ``<tile_id>-detail``."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div([html.I(className=f"bi {icon} me-2"), label], className="kpi-label text-body-secondary small"),
                html.Div(value, id=f"{tile_id}-value", className="kpi-value fs-3 fw-semibold"),
                html.Div(detail, id=f"{tile_id}-detail", className="kpi-detail small text-body-secondary"),
            ]
        ),
        className="kpi-tile h-100 shadow-sm",
        id=tile_id,
    )
