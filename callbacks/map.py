"""Fleet map callbacks and data routes: KPIs + site mask from filters and bounds, status refresh,
search, live status (clientside), and the Flask routes serving the geobuf, columns, outlines and tiles.

Routes (all GET):

* ``/_map/<version>/points.pbf`` — geobuf FeatureCollection of map points (no properties; feature i is point i);
* ``/_map/<version>/columns.json`` — site table and per-point columns (see data/map_queries.py);
* ``/_map/latest/points.pbf``, ``/_map/latest/columns.json`` — the same for the current fleet version,
  revalidated by ETag (the page's worker asks for these before it knows the version);
* ``/_map/status.json`` — live status of the caller's sites (:func:`data.map_queries.status_payload`);
* ``/_map/opening.json`` — the markers of the page's opening view, clustered on the server
  (:mod:`data.map_clusters`), so the map is drawn before the worker has indexed; 204 while the
  server's index of the current fleet version is still being built;
* ``/_map/js/map_worker.js`` — the map's Web Worker (vendored pbf, geobuf, supercluster + ours);
* ``/_map/js/map_boot.js`` — starts that worker from the <head> of /map (added by :func:`add_boot_script`);
* ``/_map/offline/<file>`` — the bundled outlines, gzip-compressed;
* ``/_map/tiles/<provider>/<layer>/<z>/<x>/<y>`` — keyed tiles fetched server-side (components/map_tiles.py).

Versioned URLs are immutable (cached by the browser for a year); a fleet change makes a new version.
Every response carries ``X-Fleet-Map-Version``.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import threading
from html import escape as html_escape
from typing import Any

import dash
import orjson
from dash import ALL, Dash, Input, Output, State, ctx, no_update
from flask import Response, abort, has_request_context, request

from components.map_outlines import COUNTRIES_FILE, OFFLINE_DIR, STATES_FILE
from components.map_tiles import TileError, TileProxy
from components.map_view import (
    CLUSTER_MAX_ZOOM,
    CLUSTER_RADIUS,
    DEFAULT_ZOOM,
    MAP_IDS,
    kpi_card,
    outline_styles,
    search_hits,
)
from components.theme import STATUS_COLORS
from core.runtime import db, services
from core.settings import REPO_ROOT
from data.map_queries import (
    CACHE,
    MapData,
    MapFilters,
    MapInputError,
    kpis,
    parse_bounds,
    search,
    site_mask,
    site_status_columns,
)

log = logging.getLogger(__name__)
IDS = MAP_IDS
STATUS_POLL_MS = 30_000
LATEST = "latest"
PAGE_PATH = "/map"  # pages/map.py
WORKER_URL = "/_map/js/map_worker.js"
BOOT_URL = "/_map/js/map_boot.js"
LATEST_URLS = {"pointsUrl": f"/_map/{LATEST}/points.pbf", "columnsUrl": f"/_map/{LATEST}/columns.json",
               "statusUrl": "/_map/status.json"}
OPENING_URL = "/_map/opening.json"
WORKER_DIR = REPO_ROOT / "components" / "map_js"
# concatenated in this order into /_map/js/map_worker.js (the vendored builds define globals)
WORKER_PARTS = ("vendor/pbf-3.3.0.min.js", "vendor/geobuf-3.0.2.min.js", "vendor/supercluster-8.0.1.min.js",
                "map_worker.js")
_outline_cache: dict[str, bytes] = {}
_tile_proxy: dict[str, TileProxy] = {}
_worker_cache: dict[str, tuple[bytes, bytes, str]] = {}
_boot_cache: dict[str, tuple[bytes, bytes, str]] = {}
_index_hooks: list[Any] = []


def visible_sites() -> set[str] | None:
    """Return the site ids the signed-in caller may see (None: all)."""
    from security.scope import current_visible_site_ids

    return current_visible_site_ids()


def scoped_data() -> MapData:
    """Return the map data the current caller may see."""
    return CACHE.data(db(), visible_sites())


def scoped_status() -> dict[str, Any]:
    """Return the live status payload of the sites the current caller may see."""
    return CACHE.status(db(), visible_sites())


def map_config(data: MapData) -> dict[str, Any]:
    """Return what ``assets/map.js`` needs: data URLs of this fleet version, cluster options, status colours."""
    return {"version": data.version, "columns_url": f"/_map/{data.version}/columns.json",
            "points_url": f"/_map/{data.version}/points.pbf", "status_url": "/_map/status.json",
            "cluster": cluster_options(), "colors": dict(STATUS_COLORS)}


def cluster_options() -> dict[str, Any]:
    """Return the map worker's options: supercluster radius and maxZoom, and the opening view it answers
    with its "ready" message (the default zoom over the whole world)."""
    return {"radius": CLUSTER_RADIUS, "maxZoom": CLUSTER_MAX_ZOOM,
            "initial": {"zoom": DEFAULT_ZOOM, "bbox": [-180, -85, 180, 85]}}


def boot_script() -> tuple[bytes, bytes, str]:
    """Return (JavaScript, its gzip, ETag) of the boot script: its settings (URLs, cluster options), the
    worker's source (started from a Blob, so it costs no request of its own) and map_boot.js."""
    worker, _gz, worker_etag = worker_script()
    stamp = worker_etag + str((WORKER_DIR / "map_boot.js").stat().st_mtime_ns)
    cached = _boot_cache.get(stamp)
    if cached is None:
        settings = {"urls": LATEST_URLS, "openingUrl": OPENING_URL, "options": cluster_options(),
                    "colors": dict(STATUS_COLORS)}
        body = (b"window.fleetMapBootConfig = " + orjson.dumps(settings) + b";\n"
                + b"window.fleetMapWorkerSource = " + orjson.dumps(worker.decode()) + b";\n"
                + (WORKER_DIR / "map_boot.js").read_bytes())
        cached = (body, gzip.compress(body, 6), hashlib.blake2s(body, digest_size=8).hexdigest())
        _boot_cache.clear()
        _boot_cache[stamp] = cached
    return cached


_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)
# Scripts the map page does not draw with: the AG Grid and Socket.IO component libraries (the map
# subscribes to live status only after its first drawing) and the live-page helpers. On /map they
# leave the page's start-up path and assets/map.js loads them once the first markers are drawn,
# before any navigation to a page that needs them.
_DEFERRED_ON_MAP = re.compile(
    r'<script src="([^"]*(?:/dash_ag_grid/|/dash_socketio/|/assets/live_push\.js|/assets/wall\.js)[^"]*)"></script>')
DEFERRED_META = "fleetlight-deferred-scripts"


def add_boot_script(index: str) -> str:
    """Return the Dash index HTML with the map's data preloads and boot script first in <head> on /map.

    A Dash ``index`` hook. The preloads take the first of the browser's six connections (before
    Dash's ~18 scripts and style sheets) and the boot script starts the worker about 200 ms earlier
    than ``assets/map.js`` could (that file runs only after every component library's script).
    The scripts the map does not draw with (``_DEFERRED_ON_MAP``) leave the page's start and are
    listed in a ``<meta name="fleetlight-deferred-scripts">`` for ``assets/map.js`` to load after
    the first drawing. Other pages are untouched.
    """
    if not has_request_context() or request.path != PAGE_PATH:
        return index
    tags = "".join(f'<link rel="preload" href="{url}" as="fetch" crossorigin="anonymous">'
                   for url in (*LATEST_URLS.values(), OPENING_URL))
    tags += f'<script src="{BOOT_URL}"></script>'  # not async: Chrome ran the async one ~150 ms late here
    deferred: list[str] = []

    def defer(match: re.Match[str]) -> str:
        deferred.append(match.group(1))
        return ""

    index = _DEFERRED_ON_MAP.sub(defer, index)
    if deferred:
        tags += f'<meta name="{DEFERRED_META}" content="{html_escape(json.dumps(deferred))}">'
    return _HEAD.sub(lambda m: m.group(0) + tags, index, count=1)


def worker_script() -> tuple[bytes, bytes, str]:
    """Return (JavaScript, its gzip, ETag) of the map worker: the vendored libraries then ours, concatenated.

    Re-read when a part's modification time changes (development); cheap otherwise.
    """
    stamp = ",".join(str((WORKER_DIR / p).stat().st_mtime_ns) for p in WORKER_PARTS)
    cached = _worker_cache.get(stamp)
    if cached is None:
        body = b"\n;\n".join((WORKER_DIR / p).read_bytes() for p in WORKER_PARTS)
        cached = (body, gzip.compress(body, 6), hashlib.blake2s(body, digest_size=8).hexdigest())
        _worker_cache.clear()
        _worker_cache[stamp] = cached
    return cached


_warming: set[int] = set()
_warming_lock = threading.Lock()


def warm(data: MapData) -> None:
    """Build the geobuf and columns blobs and the server's cluster index of ``data`` in a background
    thread (first visit after a fleet change); return at once."""
    if "geobuf.gz" in data._blobs and data.cluster_index(CLUSTER_RADIUS, CLUSTER_MAX_ZOOM, build=False) is not None:
        return
    with _warming_lock:
        if id(data) in _warming:
            return
        _warming.add(id(data))

    def build() -> None:
        try:
            data.gzipped("geobuf")
            data.gzipped("columns")
            data.cluster_index(CLUSTER_RADIUS, CLUSTER_MAX_ZOOM)
        except Exception:
            log.exception("could not prepare the fleet map data %s", data.version)
        finally:
            with _warming_lock:
                _warming.discard(id(data))

    threading.Thread(target=build, name="map-warm", daemon=True).start()


def opening_view(data: MapData, status: dict[str, Any]) -> dict[str, Any] | None:
    """Return the opening view's markers ``{version, zoom, statusTs, items}`` (see assets/map.js), or
    None while the server's cluster index of ``data`` is not built (it is then built in the background)."""
    index = data.cluster_index(CLUSTER_RADIUS, CLUSTER_MAX_ZOOM, build=False)
    if index is None:
        warm(data)
        return None
    initial = cluster_options()["initial"]
    return {"version": data.version, "zoom": initial["zoom"], "statusTs": status.get("ts"),
            "items": data.view(index, status, initial["bbox"], initial["zoom"])}


def kpi_view(data: MapData, status: dict[str, Any], filters: MapFilters, bounds: Any) -> tuple[Any, list[int] | None]:
    """Return (KPI card children, allowed site rows or None when no filter) for the map state."""
    k = kpis(data, status, filters, parse_bounds(bounds))
    mask = None
    if filters.active:
        sites = site_status_columns(data.sites, status)
        m = site_mask(sites, filters)
        mask = [i for i, ok in enumerate(m.to_list()) if ok]
    return kpi_card(k), mask


def _gateway() -> Any:
    """Return the process's gateway (the one its services hold, else the process-wide one)."""
    from gateway import get_gateway

    return services().gateway or get_gateway()


def search_view(data: MapData, query: str | None, settings: Any) -> tuple[list[dict[str, Any]], str]:
    """Return (hits, note): fleet sites/assets first, then Google places when a key is set."""
    hits = search(data, query or "")
    note = ""
    if query and query.strip() and settings.google_maps_api_key is not None and len(hits) < 8:
        from search.geocode import GeocodeError, geocode

        try:
            hits.extend(p.as_hit() for p in geocode(query, settings, _gateway(), limit=8 - len(hits)))
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


def _blob_response(data: bytes, gz: bytes, mimetype: str, immutable: bool, etag: str | None = None) -> Response:
    if etag is not None and request.if_none_match.contains(etag):
        resp = Response(status=304)
    else:
        use_gz = "gzip" in request.headers.get("Accept-Encoding", "")
        resp = Response(gz if use_gz else data, mimetype=mimetype)
        if use_gz:
            resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Cache-Control"] = "private, max-age=31536000, immutable" if immutable else "private, no-cache"
    if etag is not None:
        resp.set_etag(etag)
    return resp


def _versioned_blob(version: str, name: str, mimetype: str) -> Response:
    """Return the ``geobuf`` or ``columns`` blob of the caller's map data for ``version`` (or "latest")."""
    data = scoped_data()
    raw = data.geobuf() if name == "geobuf" else data.columns_json()
    if version == LATEST:
        resp = _blob_response(raw, data.gzipped(name), mimetype, False, etag=f"{name}-{data.version}")
    else:  # an old version's URL gets the current data, never cached as that version
        resp = _blob_response(raw, data.gzipped(name), mimetype, version == data.version)
    resp.headers["X-Fleet-Map-Version"] = data.version
    return resp


def _register_routes(app: Dash) -> None:
    server = app.server

    def points(version: str) -> Response:
        return _versioned_blob(version, "geobuf", "application/x-protobuf")

    def columns(version: str) -> Response:
        return _versioned_blob(version, "columns", "application/json")

    def status() -> Response:
        body = orjson.dumps(scoped_status())
        resp = _blob_response(body, gzip.compress(body, 1), "application/json", False)
        resp.headers["Cache-Control"] = "private, no-store"
        return resp

    def opening() -> Response:
        view = opening_view(scoped_data(), scoped_status())
        if view is None:
            return Response(status=204)
        body = orjson.dumps(view)
        resp = _blob_response(body, gzip.compress(body, 1), "application/json", False)
        resp.headers["Cache-Control"] = "private, no-store"
        resp.headers["X-Fleet-Map-Version"] = view["version"]
        return resp

    def worker() -> Response:
        body, gz, etag = worker_script()
        return _blob_response(body, gz, "text/javascript", False, etag=etag)

    def boot() -> Response:
        body, gz, etag = boot_script()
        return _blob_response(body, gz, "text/javascript", False, etag=etag)

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
        svc = services()
        settings = svc.settings
        proxy = _tile_proxy.get("proxy")
        if proxy is None or proxy.settings is not settings or proxy.gateway is not svc.gateway:
            proxy = _tile_proxy["proxy"] = TileProxy(settings, _gateway())
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
    server.add_url_rule("/_map/status.json", "fleet_map_status", status)
    server.add_url_rule(OPENING_URL, "fleet_map_opening", opening)
    server.add_url_rule(WORKER_URL, "fleet_map_worker", worker)
    server.add_url_rule(BOOT_URL, "fleet_map_boot", boot)
    if add_boot_script not in _index_hooks:  # Dash index hooks are process-wide
        _index_hooks.append(add_boot_script)
        dash.hooks.index()(add_boot_script)
    server.add_url_rule("/_map/offline/<name>", "fleet_map_outlines", outlines)
    server.add_url_rule("/_map/tiles/<provider>/<layer>/<int:z>/<int:x>/<int:y>", "fleet_map_tiles", tiles)


def register(app: Dash) -> None:
    """Attach the map routes and callbacks to ``app``."""
    _register_routes(app)

    @app.callback(Output("map-outline-countries", "style"), Output("map-outline-states", "style"),
                  Input("shell-theme", "data"))
    def outline_theme(theme: str | None):
        return outline_styles(theme)

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

    # the worker loads the status with the points; this is the fallback refresh every STATUS_POLL_MS
    @app.callback(Output(IDS["status"], "data"), Input(IDS["poll"], "n_intervals"), prevent_initial_call=True)
    def refresh_status(_n: int | None) -> dict[str, Any]:
        return scoped_status()

    @app.callback(
        Output(IDS["kpis"], "children"), Output(IDS["mask"], "data"), Output(IDS["error"], "children"),
        Input(IDS["kinds"], "value"), Input(IDS["markets"], "value"), Input(IDS["regions"], "value"),
        Input(IDS["statuses"], "value"), Input(IDS["capacity"], "value"), Input(IDS["map"], "bounds"),
        Input(IDS["poll"], "n_intervals"), State(IDS["capacity"], "min"), State(IDS["capacity"], "max"),
    )
    def update_kpis(kinds, markets, regions, statuses, capacity, bounds, _n, cap_min, cap_max):
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
    def reset_filters(_n: int | None, lo: float, hi: float):
        return None, None, None, None, [lo, hi]

    @app.callback(
        Output(IDS["hits"], "children"), Output(IDS["hits_store"], "data"),
        Input(IDS["search"], "value"), prevent_initial_call=True,
    )
    def run_search(query: str | None):
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
                   query: str | None):
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
