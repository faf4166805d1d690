"""The page shown for an unknown path."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

dash.register_page(__name__, path="/404", name="Not found", title="Not found · Fleetlight", nav_hidden=True,
                   min_role="viewer")


def layout(**_kwargs: object) -> dbc.Alert:
    """Return the not-found panel."""
    return dbc.Alert([html.H4("Page not found", className="alert-heading"),
                      html.P("There is no page at this address."), dcc.Link("Back to the fleet overview", href="/")],
                     color="warning")
