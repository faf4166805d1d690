"""Site detail: /sites/<site_id> with its KPIs, assets, live output and data provenance; live by
push through the Socket.IO room ``site:<id>`` (event ``site_live``)."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash_socketio import DashSocketIO

from callbacks.site import IDS, site_view
from components.charts import chart
from components.kpi import kpi_tile
from components.time_range import range_control

dash.register_page(
    __name__, path_template="/sites/<site_id>", name="Site", title="Site · Fleetlight", nav_hidden=True,
    min_role="viewer",
)


def not_found(site_id: str) -> html.Div:
    """Return the not-found panel for an unknown site id."""
    return dbc.Alert(
        [html.H4("Site not found", className="alert-heading"),
         html.P(["There is no site with id ", html.Code(site_id), "."]),
         dcc.Link("Back to the fleet overview", href="/")],
        color="warning", id=IDS["not_found"],
    )


def layout(site_id: str | None = None, **query: object) -> html.Div:
    """Return the site page for ``site_id`` over the time range of the query string (``range=7d``
    or ``from=YYYY-MM-DD&to=YYYY-MM-DD``), or a not-found panel."""
    wanted = {k: query[k] for k in ("range", "from", "to") if k in query}
    view = site_view(site_id or "", "light", wanted, performance=True)
    if view is None:
        return not_found(site_id or "")
    return html.Div(
        [
            dcc.Store(id=IDS["site_id"], data=site_id),
            dcc.Store(id=IDS["range_query"], data=wanted),
            DashSocketIO(id=IDS["socket"], url="/live", eventNames=["site_live"],
                         options={"auth": {"rooms": [f"site:{site_id}"]}}),
            dcc.Store(id=IDS["push"]),
            html.Div(
                [
                    html.Div([
                        html.H2(view["name"], className="h4 mb-1", id=IDS["title"]),
                        html.Div(view["subtitle"], className="text-body-secondary small"),
                    ]),
                    dbc.Badge(view["origin_label"], color="secondary" if view["derived"] else "success", className="fs-6"),
                ],
                className="d-flex justify-content-between align-items-start mb-3",
            ),
            dbc.Row([dbc.Col(kpi_tile(f"{IDS['kpi']}-{tile['name']}", tile["label"], tile["value"], tile["detail"],
                                      tile["icon"], slot=tile["slot"]), md=3, className="mb-3")
                     for tile in view["tiles"]], className="g-3"),
            view["performance"],
            dbc.Row([
                dbc.Col(dbc.Card([range_control(IDS["range"], view["range"], f"/sites/{site_id}"),
                                  chart(IDS["chart"], view["figure"], f"site-output-{site_id}")],
                                 body=True, className="shadow-sm h-100"), lg=8),
                dbc.Col([
                    dbc.Card([dbc.CardHeader("Weather now"), dbc.CardBody(view["weather"], id=IDS["weather"])],
                             className="shadow-sm mb-3"),
                    dbc.Card([dbc.CardHeader("Recent alerts"), dbc.CardBody(view["alerts"])], className="shadow-sm"),
                ], lg=4),
            ], className="g-3 mb-3"),
            dbc.Card([dbc.CardHeader("Assets"), dbc.CardBody(view["assets_table"], id=IDS["assets"])],
                     className="shadow-sm mb-3"),
            dbc.Card([dbc.CardHeader("Data source"), dbc.CardBody(html.Small(view["data_source"]))], className="shadow-sm"),
        ]
    )
