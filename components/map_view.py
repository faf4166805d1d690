"""Builders of the fleet map page's pieces: the Leaflet map, the KPI card, filters, legend, "not on map".

Pure functions: they take data and settings as arguments and return Dash components.
"""
from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import dash_leaflet as dl
from dash import dcc, html

from components.map_outlines import outline_urls
from components.map_tiles import TileLayerSpec
from components.theme import STATUS_COLORS

MAP_IDS = {
    "map": "map-map", "config": "map-config", "status": "map-status", "poll": "map-poll",
    "mask": "map-mask", "mask_out": "map-mask-out", "init_out": "map-init-out", "status_line": "map-status-line",
    "live_out": "map-live-out", "socket": "map-socket", "socket_slot": "map-socket-slot", "kinds": "map-f-kinds",
    "markets": "map-f-markets",
    "regions": "map-f-regions", "statuses": "map-f-statuses", "capacity": "map-f-capacity", "reset": "map-f-reset",
    "kpis": "map-kpis", "error": "map-error", "search": "map-search", "hits": "map-hits", "hit": "map-hit",
    "hits_store": "map-hits-store", "notonmap": "map-notonmap", "notonmap_count": "map-notonmap-count",
}
LEGEND_SHAPES = (("▲", "wind turbine"), ("■", "solar inverter block"), ("◆", "battery block"), ("⬢", "substation"),
                 ("●", "hybrid site"))
DEFAULT_CENTER = (38.0, -40.0)
DEFAULT_ZOOM = 3
# px (supercluster, in the map worker; assets/map.js repeats both as its defaults): wider than the
# largest cluster icon (66 px, assets/map.js) by as much as markercluster's 80 px over its 40 px icons, so
# neighbouring clusters do not cover each other
CLUSTER_RADIUS = 120
CLUSTER_MAX_ZOOM = 14  # from zoom 15 on every asset is drawn on its own


def outline_styles(theme: str | None) -> tuple[dict[str, object], dict[str, object]]:
    """Return the (countries, US states) outline styles of ``theme`` ('dark' or light): drawn on a
    canvas (preferCanvas), they cannot follow the theme through CSS."""
    if theme == "dark":
        return ({"color": "#7d8a97", "weight": 0.8, "fillColor": "#3b434c", "fillOpacity": 1.0},
                {"color": "#5f6b77", "weight": 0.6, "fill": False})
    return ({"color": "#6c7a89", "weight": 0.8, "fillColor": "#f4f1ea", "fillOpacity": 1.0},
            {"color": "#98a4b0", "weight": 0.6, "fill": False})


def leaflet_map(tiles: list[TileLayerSpec], outlines: dict[str, str] | None = None) -> dl.Map:
    """Return the Leaflet map: outlines beneath the tiles, tile layers, scale.

    The clustered asset layer is added to this map by ``assets/map.js`` (markers drawn from the
    answers of the map's Web Worker, which holds the supercluster index), not by a dl.GeoJSON.
    """
    outlines = outlines or outline_urls()
    outline_style, state_style = outline_styles("light")  # the map callbacks follow the theme
    base = [t for t in tiles if not t.overlay]
    overlays = [t for t in tiles if t.overlay]
    base_layers = [
        dl.BaseLayer(dl.TileLayer(url=t.url, attribution=t.attribution, maxZoom=t.max_zoom, id=f"map-tiles-{t.key}"),
                     name=t.name, checked=i == 0)
        for i, t in enumerate(base)
    ]
    base_layers.append(dl.BaseLayer(dl.LayerGroup([]), name="Outlines only (offline)", checked=not base))
    overlay_layers = [
        dl.Overlay(dl.TileLayer(url=t.url, attribution=t.attribution, opacity=0.6, maxZoom=t.max_zoom,
                                id=f"map-tiles-{t.key}"), name=t.name, checked=False)
        for t in overlays
    ]
    return dl.Map(
        [
            dl.Pane(
                [dl.GeoJSON(url=outlines["countries"], style=outline_style, interactive=False, id="map-outline-countries"),
                 dl.GeoJSON(url=outlines["states"], style=state_style, interactive=False, id="map-outline-states")],
                name="fl-outlines", style={"zIndex": 150},
            ),
            dl.LayersControl(base_layers + overlay_layers, position="topright"),
            dl.ScaleControl(position="bottomright", imperial=False),
        ],
        id=MAP_IDS["map"], center=list(DEFAULT_CENTER), zoom=DEFAULT_ZOOM, minZoom=2, maxZoom=19,
        worldCopyJump=True, preferCanvas=True, className="fl-map",
    )


def kpi_card(k: dict[str, Any] | None) -> list[Any]:
    """Return the KPI card body for :func:`data.map_queries.kpis` output (None: no data yet)."""
    if not k:
        return [html.Div("Loading…", className="text-body-secondary small")]
    statuses = sorted(k["by_status"].items(), key=lambda kv: -kv[1])
    return [
        html.Div("In view, after filters", className="small text-body-secondary mb-1"),
        dbc.Row([
            dbc.Col([html.Div(f"{k['output_mw']:,.1f} MW", className="fl-kpi-value", id="map-kpi-output"),
                     html.Div(f"{k['output_pct']:.1f} % of {k['capacity_mw']:,.0f} MW", className="small text-body-secondary")], width=7),
            dbc.Col([html.Div(f"{k['sites']:,}", className="fl-kpi-value", id="map-kpi-sites"),
                     html.Div(f"sites · {k['assets']:,} assets", className="small text-body-secondary", id="map-kpi-assets")], width=5),
        ], className="g-1 mb-2"),
        html.Div([
            html.Span([html.Span(className="fl-dot", style={"background": STATUS_COLORS.get(s, "#999")}), f"{s} {n:,}"],
                      className="me-2 small text-nowrap d-inline-block")
            for s, n in statuses
        ], id="map-kpi-status"),
    ]


def filters_card(options: dict[str, Any]) -> dbc.Card:
    """Return the filter card (type, market, region, status, site capacity range in MW)."""
    lo, hi = options["capacity"]
    return dbc.Card([
        dbc.CardHeader(html.Div([html.Span("Filters", className="fw-semibold"),
                                 dbc.Button("Reset", id=MAP_IDS["reset"], size="sm", color="link", className="p-0")],
                                className="d-flex justify-content-between")),
        dbc.CardBody([
            dcc.Dropdown(id=MAP_IDS["kinds"], options=[{"label": k.capitalize(), "value": k} for k in options["kinds"]],
                         multi=True, placeholder="All types", className="mb-2 small"),
            dcc.Dropdown(id=MAP_IDS["markets"], options=options["markets"], multi=True, placeholder="All markets / ISOs",
                         className="mb-2 small"),
            dcc.Dropdown(id=MAP_IDS["regions"], options=options["regions"], multi=True, placeholder="All regions",
                         className="mb-2 small"),
            dcc.Dropdown(id=MAP_IDS["statuses"], options=[{"label": s, "value": s} for s in STATUS_COLORS],
                         multi=True, placeholder="All statuses", className="mb-2 small"),
            html.Div("Site capacity (MW)", className="small text-body-secondary"),
            html.Div(dcc.RangeSlider(id=MAP_IDS["capacity"], min=lo, max=max(hi, lo + 1), value=[lo, max(hi, lo + 1)],
                                     allowCross=False, tooltip={"placement": "bottom", "always_visible": False},
                                     marks=None), id=MAP_IDS["capacity"] + "-wrap"),
            # written by assets/map_inputs.js when a typed bound crosses the other (the slider clamps it)
            html.Div(id=MAP_IDS["capacity"] + "-note", className="small text-warning-emphasis", role="status"),
            html.Div(id=MAP_IDS["error"], className="small text-danger-emphasis", role="alert"),
        ]),
    ], className="shadow-sm")


def legend_card() -> dbc.Card:
    """Return the legend: status colours, shapes by asset type, what clusters show."""
    return dbc.Card(dbc.CardBody([
        html.Div([html.Span([html.Span(className="fl-dot", style={"background": c}), s], className="me-2 small text-nowrap d-inline-block")
                  for s, c in STATUS_COLORS.items()], className="mb-1"),
        html.Div([html.Span([html.Span(sym, className="fl-legend-shape"), label], className="me-2 small text-nowrap d-inline-block")
                  for sym, label in LEGEND_SHAPES], className="mb-1"),
        html.Div("Clusters: MW now and asset count; the ring splits assets by status, the outline takes the worst status. "
                 "Marker size follows capacity.", className="small text-body-secondary"),
    ]), className="shadow-sm")


def not_on_map_card(rows: list[dict[str, Any]]) -> dbc.Card:
    """Return the "not on map" card listing sites whose coordinates are missing or impossible."""
    if not rows:
        body: Any = html.Div("Every site has valid coordinates.", className="small text-body-secondary")
    else:
        body = html.Ul([
            html.Li([
                dcc.Link(r["name"], href=f"/sites/{r['site_id']}"), " ",
                html.Small(f"({r['site_id']}, {r['assets']:,} assets) — {r['problem']}"
                           + ("" if r["latitude"] is None and r["longitude"] is None else
                              f": {r['latitude']}, {r['longitude']}"), className="text-body-secondary"),
            ], className="small")
            for r in rows
        ], className="mb-0 ps-3")
    return dbc.Card([
        dbc.CardHeader([html.Span("Not on map ", className="fw-semibold"),
                        dbc.Badge(str(len(rows)), color="warning" if rows else "secondary", id=MAP_IDS["notonmap_count"])]),
        dbc.CardBody(body, className="fl-notonmap"),
    ], className="shadow-sm", id=MAP_IDS["notonmap"])


def search_hits(hits: list[dict[str, Any]]) -> Any:
    """Return the search result list (buttons with pattern ids ``{"type": "map-hit", "index": i}``)."""
    if not hits:
        return None
    items = []
    for i, h in enumerate(hits):
        icon = {"site": "bi-geo-alt", "asset": "bi-gear", "place": "bi-search"}.get(h["type"], "bi-dot")
        note = "" if h.get("on_map", True) else " · not on map"
        items.append(dbc.ListGroupItem(
            [html.I(className=f"bi {icon} me-2"), html.Span(h["label"], className="fw-semibold"),
             html.Div(h.get("detail", "") + note, className="small text-body-secondary")],
            id={"type": MAP_IDS["hit"], "index": i}, action=True, n_clicks=0,
        ))
    return dbc.ListGroup(items)
