"""Fleet map callbacks and data routes: KPIs + site mask from filters and bounds, status refresh,
search, live status (clientside), and the Flask routes serving the geobuf, columns, outlines and tiles.

Routes (all GET):

* ``/_map/<version>/points.pbf`` — geobuf FeatureCollection of map points (property ``id`` only);
* ``/_map/<version>/columns.json`` — site table and per-point columns (see data/map_queries.py);
* ``/_map/offline/<file>`` — the bundled outlines, gzip-compressed;
* ``/_map/tiles/<provider>/<layer>/<z>/<x>/<y>`` — keyed tiles fetched server-side (components/map_tiles.py).

Versioned URLs are immutable (cached by the browser for a year); a fleet change makes a new version.
"""
from __future__ import annotations

import gzip
import logging
import threading
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from flask import Response, abort, request

from components.map_outlines import COUNTRIES_FILE, OFFLINE_DIR, STATES_FILE
from components.map_tiles import TileError, TileProxy
from components.map_view import MAP_IDS, kpi_card, search_hits
from components.theme import STATUS_COLORS
from core.runtime import db, services
from data.map_queries import CACHE, MapData, MapFilters, MapInputError, kpis, parse_bounds, search, site_mask, site_status_columns

log = logging.getLogger(__name__)
IDS = MAP_IDS
STATUS_POLL_MS = 30_000
_outline_cache: dict[str, bytes] = {}
_tile_proxy: dict[str, TileProxy] = {}


def visible_sites() -> set[str] | None:
    """Return the site ids the signed-in caller may see (None: all, or no sign-in installed)."""
    try:
        from security.scope import current_visible_site_ids
    except ModuleNotFoundError:
        return None
    return current_visible_site_ids()


def scoped_data() -> MapData:
    """Return the map data the current caller may see."""
    return CACHE.data(db(), visible_sites())


def scoped_status() -> dict[str, Any]:
    """Return the live status payload of the sites the current caller may see."""
    return CACHE.status(db(), visible_sites())


def map_config(data: MapData) -> dict[str, Any]:
    """Return what ``assets/map.js`` needs to start: columns URL, version, status colours."""
    return {"version": data.version, "columns_url": f"/_map/{data.version}/columns.json",
            "points_url": f"/_map/{data.version}/points.pbf", "colors": dict(STATUS_COLORS)}


def warm(data: MapData) -> None:
    """Build the geobuf and columns blobs of ``data`` in a background thread (first visit after a fleet change)."""
    if "geobuf.gz" in data._blobs:
        return
    threading.Thread(target=lambda: (data.gzipped("geobuf"), data.gzipped("columns")), name="map-warm", daemon=True).start()


def kpi_view(data: MapData, status: dict[str, Any], filters: MapFilters, bounds: Any) -> tuple[Any, list[int] | None]:
    """Return (KPI card children, allowed site rows or None when no filter) for the map state."""
    k = kpis(data, status, filters, parse_bounds(bounds))
    mask = None
    if filters.active:
        sites = site_status_columns(data.sites, status)
        m = site_mask(sites, filters)
        mask = [i for i, ok in enumerate(m.to_list()) if ok]
    return kpi_card(k), mask


def search_view(data: MapData, query: str | None, settings: Any) -> tuple[list[dict[str, Any]], str]:
    """Return (hits, note): fleet sites/assets first, then Google places when a key is set."""
    hits = search(data, query or "")
    note = ""
    if query and query.strip() and settings.google_maps_api_key is not None and len(hits) < 8:
        from search.geocode import GeocodeError, geocode

        try:
            hits.extend(p.as_hit() for p in geocode(query, settings, limit=8 - len(hits)))
        except GeocodeError as exc:
            note = f"Place search unavailable: {exc}"
    if query and query.strip() and not hits and not note:
        note = "No site, asset" + (" or place" if settings.google_maps_api_key is not None else "") + " matches."
    return hits, note


def viewport_for(hit: dict[str, Any]) -> dict[str, Any] | None:
    """Return the dash-leaflet viewport that flies to a search hit (None when it has no position)."""
    if hit.get("lat") is None or hit.get("lon") is None:
        return None
    return {"center": [hit["lat"], hit["lon"]], "zoom": int(hit.get("zoom") or 13), "transition": "flyTo"}


def _blob_response(data: bytes, gz: bytes, mimetype: str, immutable: bool) -> Response:
    use_gz = "gzip" in request.headers.get("Accept-Encoding", "")
    resp = Response(gz if use_gz else data, mimetype=mimetype)
    if use_gz:
        resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Cache-Control"] = "private, max-age=31536000, immutable" if immutable else "private, no-cache"
    return resp


def _register_routes(app: Dash) -> None:
    server = app.server

    def points(version: str) -> Response:
        data = scoped_data()
        return _blob_response(data.geobuf(), data.gzipped("geobuf"), "application/x-protobuf", version == data.version)

    def columns(version: str) -> Response:
        data = scoped_data()
        return _blob_response(data.columns_json(), data.gzipped("columns"), "application/json", version == data.version)

    def outlines(name: str) -> Response:
        if name not in (COUNTRIES_FILE, STATES_FILE):
            abort(404)
        raw = (OFFLINE_DIR / name).read_bytes()
        gz = _outline_cache.get(name)
        if gz is None:
            gz = _outline_cache[name] = gzip.compress(raw, 6)
        resp = _blob_response(raw, gz, "application/geo+json", False)
        resp.headers["Cache-Control"] = "public, max-age=86400"
        return resp

    def tiles(provider: str, layer: str, z: int, x: int, y: int) -> Response:
        settings = services().settings
        proxy = _tile_proxy.get("proxy")
        if proxy is None or proxy.settings is not settings:
            proxy = _tile_proxy["proxy"] = TileProxy(settings)
        try:
            body, ctype = proxy.tile(provider, layer, z, x, y)
        except TileError as exc:
            log.warning("map tile %s/%s/%s/%s/%s: %s", provider, layer, z, x, y, exc)
            return Response(str(exc), status=exc.status, mimetype="text/plain")
        resp = Response(body, mimetype=ctype)
        resp.headers["Cache-Control"] = "private, max-age=3600"
        return resp

    if "fleet_map_points" in server.view_functions:
        return
    server.add_url_rule("/_map/<version>/points.pbf", "fleet_map_points", points)
    server.add_url_rule("/_map/<version>/columns.json", "fleet_map_columns", columns)
    server.add_url_rule("/_map/offline/<name>", "fleet_map_outlines", outlines)
    server.add_url_rule("/_map/tiles/<provider>/<layer>/<int:z>/<int:x>/<int:y>", "fleet_map_tiles", tiles)


def register(app: Dash) -> None:
    """Attach the map routes and callbacks to ``app``."""
    _register_routes(app)

    app.clientside_callback(
        "function(config) { return window.fleetMap.init(config); }",
        Output(IDS["init_out"], "children"), Input(IDS["config"], "data"),
    )
    app.clientside_callback(
        "function(payload) { return window.dash_clientside.fleetMap.status(payload); }",
        Output(IDS["status_line"], "children"), Input(IDS["status"], "data"),
    )
    app.clientside_callback(
        "function(mask) { return window.dash_clientside.fleetMap.mask(mask); }",
        Output(IDS["mask_out"], "children"), Input(IDS["mask"], "data"),
    )
    app.clientside_callback(
        "function(msg) { return window.dash_clientside.fleetMap.live(msg); }",
        Output(IDS["live_out"], "children"), Input(IDS["socket"], "data-map_status"),
        prevent_initial_call=True,
    )

    @app.callback(Output(IDS["status"], "data"), Input(IDS["poll"], "n_intervals"))
    def refresh_status(_n: int | None) -> dict[str, Any]:
        return scoped_status()

    @app.callback(
        Output(IDS["kpis"], "children"), Output(IDS["mask"], "data"), Output(IDS["error"], "children"),
        Input(IDS["kinds"], "value"), Input(IDS["markets"], "value"), Input(IDS["regions"], "value"),
        Input(IDS["statuses"], "value"), Input(IDS["capacity"], "value"), Input(IDS["map"], "bounds"),
        Input(IDS["poll"], "n_intervals"), State(IDS["capacity"], "min"), State(IDS["capacity"], "max"),
    )
    def update_kpis(kinds, markets, regions, statuses, capacity, bounds, _n, cap_min, cap_max):  # noqa: ANN001, ANN202
        data = scoped_data()
        if capacity and cap_min is not None and cap_max is not None and list(capacity) == [cap_min, cap_max]:
            capacity = None  # the full slider span means "any capacity"
        try:
            filters = MapFilters.from_inputs(kinds, markets, regions, statuses, capacity)
            card, mask = kpi_view(data, scoped_status(), filters, bounds)
        except MapInputError as exc:
            return no_update, no_update, str(exc)
        return card, mask, ""

    @app.callback(
        Output(IDS["kinds"], "value"), Output(IDS["markets"], "value"), Output(IDS["regions"], "value"),
        Output(IDS["statuses"], "value"), Output(IDS["capacity"], "value"),
        Input(IDS["reset"], "n_clicks"), State(IDS["capacity"], "min"), State(IDS["capacity"], "max"),
        prevent_initial_call=True,
    )
    def reset_filters(_n: int | None, lo: float, hi: float):  # noqa: ANN202
        return None, None, None, None, [lo, hi]

    @app.callback(
        Output(IDS["hits"], "children"), Output(IDS["hits_store"], "data"),
        Input(IDS["search"], "value"), prevent_initial_call=True,
    )
    def run_search(query: str | None):  # noqa: ANN202
        try:
            hits, note = search_view(scoped_data(), query, services().settings)
        except MapInputError as exc:
            hits, note = [], str(exc)
        children = search_hits(hits)
        if note:
            from dash import html

            children = [children, html.Div(note, className="small bg-body p-2 rounded shadow-sm", id="map-search-note")]
        return children, hits

    @app.callback(
        Output(IDS["map"], "viewport"), Output(IDS["hits"], "children", allow_duplicate=True),
        Input({"type": IDS["hit"], "index": ALL}, "n_clicks"), Input(IDS["search"], "n_submit"),
        State(IDS["hits_store"], "data"), State(IDS["search"], "value"), prevent_initial_call=True,
    )
    def fly_to_hit(_clicks: list[int | None], _submit: int | None, hits: list[dict[str, Any]] | None,
                   query: str | None):  # noqa: ANN202
        trigger = ctx.triggered_id
        if isinstance(trigger, dict):
            if not hits or not any(_clicks):
                return no_update, no_update
            hit = hits[trigger["index"]] if trigger["index"] < len(hits) else None
        else:  # Enter: the first hit for the text as typed (the debounced result list may lag behind)
            try:
                fresh, _note = search_view(scoped_data(), query, services().settings)
            except MapInputError:
                return no_update, no_update
            hit = next((h for h in fresh if h.get("lat") is not None), None)
        viewport = viewport_for(hit) if hit else None
        if viewport is None:
            return no_update, no_update
        return viewport, None
