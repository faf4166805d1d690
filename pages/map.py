"""Fleet map: every asset clustered on a Leaflet map, with live status, filters, KPIs, search,
tile providers and a "not on map" panel for sites whose coordinates cannot be plotted."""
from __future__ import annotations

import importlib.util

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.map import IDS, STATUS_POLL_MS, map_config, scoped_data, warm
from components.map_outlines import outline_urls
from components.map_tiles import tile_layers
from components.map_view import filters_card, leaflet_map, legend_card, not_on_map_card
from core.runtime import services
from data.map_queries import filter_options

dash.register_page(
    __name__, path="/map", name="Fleet map", title="Fleet map · Fleetlight", nav_group="Operations", order=1,
    min_role="viewer",
)


def _live_socket() -> dict | None:
    """Return the Socket.IO listener for ``map.status`` (room ``map``), as a component spec, when the live hub
    is installed.

    It is not in the layout: once the first markers are drawn ``assets/map.js`` puts it into the
    ``map-socket-slot`` div (``dash_clientside.set_props``), so subscribing (the hub sends every
    site's state on joining) does not compete with the first drawing; the worker's status snapshot
    covers the moment in between.
    """
    if importlib.util.find_spec("live.hub") is None:
        return None
    from dash_socketio import DashSocketIO

    # the hub sends map.status also as "map_status": Dash prop names cannot contain dots
    socket = DashSocketIO(id=IDS["socket"], url="/live", eventNames=["map_status"],
                          options={"auth": {"rooms": ["map"]}})
    return socket.to_plotly_json()


def layout(**_kwargs: object) -> html.Div:
    """Return the map page; the points, columns and live status are loaded by the map's Web Worker (assets/map.js)."""
    data = scoped_data()
    warm(data)
    config = map_config(data)
    config["socket"] = _live_socket()
    settings = services().settings
    offline = outline_urls("/_map")  # gzip-served by callbacks/map.py
    return html.Div(
        [
            dcc.Store(id=IDS["config"], data=config),
            dcc.Store(id=IDS["status"]),
            dcc.Store(id=IDS["mask"]),
            dcc.Store(id=IDS["hits_store"]),
            dcc.Interval(id=IDS["poll"], interval=STATUS_POLL_MS),
            html.Div(id=IDS["socket_slot"]),
            html.Div([html.Span(id=IDS["init_out"]), html.Span(id=IDS["mask_out"]), html.Span(id=IDS["live_out"])],
                     hidden=True),
            dbc.Row(
                [
                    dbc.Col(
                        html.Div(
                            [
                                leaflet_map(tile_layers(settings), offline),
                                html.Div([
                                    dbc.Input(id=IDS["search"], type="search", debounce=300, size="sm",
                                              placeholder="Find a site, asset" + (" or place" if settings.google_maps_api_key else "") + "…",
                                              className="shadow-sm"),
                                    html.Div(id=IDS["hits"]),
                                ], className="fl-search"),
                                html.Div(id=IDS["status_line"], className="fl-status-line"),
                            ],
                            className="fl-map-wrap shadow-sm",
                        ),
                        lg=9,
                    ),
                    dbc.Col(
                        [
                            dbc.Card(dbc.CardBody(id=IDS["kpis"], children=[html.Div("Loading…", className="small")]),
                                     className="shadow-sm"),
                            filters_card(filter_options(data)),
                            legend_card(),
                            not_on_map_card(data.not_on_map()),
                        ],
                        lg=3, className="fl-side",
                    ),
                ],
                className="g-3",
            ),
        ]
    )
