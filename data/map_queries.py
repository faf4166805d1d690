"""Fleet map data: asset positions as geobuf, the site/asset columns, live status, KPIs, search.

The map draws one point per generating asset (meters are measurement points, not assets on the
map) and one point for a site that has no such asset. Everything heavy is built once per *fleet
version* (a fingerprint of the sites and assets tables) and kept in memory:

* ``geobuf``: a FeatureCollection of Points without properties: a point's position in the collection
  is its id, the row number in the columns document (a bare dash-leaflet page numbers features the
  same way), which keeps the download about a third smaller and its decoding faster than an ``id``
  property on every point;
* ``columns``: JSON with the site table and one array per asset attribute (site row, kind,
  capacity kW, name), fetched beside the geobuf by ``assets/map.js``.

Live state (status, output MW, last update per site) is small and read separately
(:func:`status_payload`), so a status change never re-sends the geometry.

Coordinates are validated here: a site whose coordinates are missing, not finite, out of range,
the (0, 0) placeholder or far from the market it sells in (``data.market_regions``) is listed by :func:`MapData.not_on_map` instead of being plotted. Assets
without their own valid coordinates are laid out around their site (a sunflower pattern whose
spacing depends on the asset kind: turbines ~400 m apart, inverter blocks ~70 m).
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import geobuf
import numpy as np
import orjson
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.db import Database
from data.fleet import site_frame
from data.map_clusters import ClusterIndex, geobuf_coordinates, view_items
from data.market_regions import market_region_problem
from data.models import Asset, Site
from domain.status import STATUS_ORDER
from domain.status import STATUSES as _STATUSES

# Bump when the payload layout changes so browsers drop their cached copies.
PAYLOAD_FORMAT = 4
SITE_KINDS = ("solar", "wind", "storage", "hybrid", "substation")
ASSET_KINDS = ("inverter", "turbine", "battery", "meter", "transformer", "site")
# Order of the ring segments; every status a site can report is here.
STATUSES = _STATUSES  # from domain.status: only statuses a rule produces
# Worst first: the cluster's outline takes the colour of its worst member.
STATUS_SEVERITY = STATUS_ORDER
GENERATING_KINDS = ("solar", "wind", "storage", "hybrid")
# Spacing (metres) between laid-out assets of a kind that has no coordinates of its own.
LAYOUT_SPACING_M = {"turbine": 400.0, "inverter": 70.0, "battery": 30.0, "transformer": 25.0, "meter": 10.0}
METRES_PER_DEG_LAT = 111_320.0
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
VERSION_TTL_S = 10.0
STATUS_TTL_S = 4.0
STATUS_REFRESH_S = 3.0  # < STATUS_TTL_S: a map in use always finds a fresh status
STATUS_KEEP_WARM_S = 120.0


log = logging.getLogger(__name__)


class MapInputError(ValueError):
    """A filter, bounds or search input from the browser is malformed; the message says which."""


# --- coordinates ----------------------------------------------------------------------------


def coordinate_problem(lat: object, lon: object) -> str | None:
    """Return why (lat, lon) in degrees cannot be plotted, or None when it can.

    Reasons: 'missing', 'not a number', 'latitude out of range', 'longitude out of range',
    'placeholder (0, 0)'.
    """
    if lat is None or lon is None:
        return "missing"
    try:
        la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "not a number"
    if not (math.isfinite(la) and math.isfinite(lo)):
        return "not a number"
    if not -90.0 <= la <= 90.0:
        return "latitude out of range"
    if not -180.0 <= lo <= 180.0:
        return "longitude out of range"
    if la == 0.0 and lo == 0.0:
        return "placeholder (0, 0)"
    return None


def layout_offsets(n: int, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (east_m, north_m) offsets for ``n`` points in a sunflower pattern around (0, 0).

    Point 0 is at the centre; consecutive points are about ``spacing_m`` metres apart.
    """
    i = np.arange(n, dtype=np.float64)
    r = spacing_m * 0.55 * np.sqrt(i)
    a = i * GOLDEN_ANGLE
    return r * np.cos(a), r * np.sin(a)


# --- the cached map data --------------------------------------------------------------------


@dataclass
class MapData:
    """Everything the map needs that only changes when the fleet changes (not with live data)."""

    version: str
    sites: pl.DataFrame  # one row per site; columns below; row number = site index
    assets: pl.DataFrame  # one row per map point; row number = feature id
    built_in_s: float = 0.0
    _blobs: dict[str, bytes] = field(default_factory=dict, repr=False)
    _indexes: dict[tuple[int, int], ClusterIndex] = field(default_factory=dict, repr=False)
    _last_view: tuple[tuple, list[dict[str, Any]]] | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # sites: site_id, name, kind, market, region, country, capacity_mw, latitude, longitude,
    #        problem (None when plottable), generating (bool), assets (total assets of the site)
    # assets: asset_id, name, kind, capacity_kw, site_idx, latitude, longitude, placed (bool: own coords)

    def not_on_map(self) -> list[dict[str, Any]]:
        """Return the sites that are not plotted, each with its id, name, reason, coordinates and asset count."""
        bad = self.sites.filter(pl.col("problem").is_not_null())
        return bad.select("site_id", "name", "kind", "problem", "latitude", "longitude", "assets").to_dicts()

    def geobuf(self) -> bytes:
        """Return the points as a geobuf FeatureCollection (5 decimals, no properties: feature i is point i)."""
        return self._blob("geobuf", self._build_geobuf)

    def columns_json(self) -> bytes:
        """Return the columns document (JSON bytes) matching the geobuf's ``id`` property."""
        return self._blob("columns", self._build_columns)

    def gzipped(self, name: str) -> bytes:
        """Return the gzip-compressed ``geobuf`` or ``columns`` blob."""
        source = self.geobuf if name == "geobuf" else self.columns_json
        return self._blob(name + ".gz", lambda: gzip.compress(source(), compresslevel=5))

    def cluster_index(self, radius: int, max_zoom: int, build: bool = True) -> ClusterIndex | None:
        """Return the supercluster levels of the points (as the map worker builds them from the geobuf).

        With ``build`` False, return None instead of building when they are not built yet.
        """
        key = (radius, max_zoom)
        found = self._indexes.get(key)
        if found is None and build:
            with self._lock:
                found = self._indexes.get(key)
                if found is None:
                    found = ClusterIndex(geobuf_coordinates(self.assets["longitude"].to_numpy()),
                                         geobuf_coordinates(self.assets["latitude"].to_numpy()), radius, max_zoom)
                    self._indexes[key] = found
        return found

    def view(self, index: ClusterIndex, status: dict[str, Any], bbox: list[float], zoom: int) -> list[dict[str, Any]]:
        """Return the markers of a view of ``index`` (built from this data) with ``status``, as the map worker draws them.

        The last answer is kept: every browser opening the map asks for the same view with the same
        status reading (one per ``STATUS_REFRESH_S``).
        """
        key = (id(index), status.get("ts"), tuple(bbox), zoom)
        last = self._last_view
        if last is not None and last[0] == key:
            return last[1]
        items = view_items(index, self.sites, self.assets, status, bbox, zoom, STATUSES, STATUS_SEVERITY)
        self._last_view = (key, items)
        return items

    def restricted(self, site_ids: set[str]) -> MapData:
        """Return the map data of only the sites in ``site_ids`` (a portfolio-scoped user's view)."""
        keep = self.sites.with_row_index("old").filter(pl.col("site_id").is_in(sorted(site_ids)))
        remap = {old: new for new, old in enumerate(keep["old"].to_list())}
        assets = self.assets.filter(pl.col("site_idx").is_in(list(remap))).with_columns(
            pl.col("site_idx").replace_strict(remap, return_dtype=pl.Int32))
        scope = hashlib.blake2s(",".join(sorted(site_ids)).encode(), digest_size=4).hexdigest()
        return MapData(version=f"{self.version}-{scope}", sites=keep.drop("old"), assets=assets)

    def _blob(self, name: str, build: Any) -> bytes:
        blob = self._blobs.get(name)
        if blob is None:
            with self._lock:
                blob = self._blobs.get(name)
                if blob is None:
                    blob = build()
                    self._blobs[name] = blob
        return blob

    def _build_geobuf(self) -> bytes:
        lats = self.assets["latitude"].to_list()
        lons = self.assets["longitude"].to_list()
        features = [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lo, la]}, "properties": {}}
            for la, lo in zip(lats, lons, strict=False)
        ]
        return geobuf.encode({"type": "FeatureCollection", "features": features}, 5)

    def _build_columns(self) -> bytes:
        s, a = self.sites, self.assets
        doc = {
            "version": self.version,
            "statuses": list(STATUSES),
            "severity": list(STATUS_SEVERITY),
            "site_kinds": list(SITE_KINDS),
            "asset_kinds": list(ASSET_KINDS),
            "sites": {
                "id": s["site_id"].to_list(),
                "name": s["name"].to_list(),
                "kind": [SITE_KINDS.index(k) for k in s["kind"].to_list()],
                "market": s["market"].to_list(),
                "region": s["region"].to_list(),
                "cap": s["capacity_mw"].to_list(),
                "gen": s["generating"].to_list(),
                "lat": s["latitude"].to_list(),
                "lon": s["longitude"].to_list(),
                "ok": s["problem"].is_null().to_list(),
            },
            "assets": {
                "site": a["site_idx"].to_list(),
                "kind": [ASSET_KINDS.index(k) for k in a["kind"].to_list()],
                "cap": a["capacity_kw"].to_list(),
                "name": a["name"].to_list(),
            },
        }
        return orjson.dumps(doc)


def _fingerprint(session: Session) -> str:
    """Return a cheap fingerprint of the sites and assets tables (changes with rows, coordinates, capacity, names)."""
    parts: list[Any] = [PAYLOAD_FORMAT]
    for model, cap in ((Site, Site.capacity_mw), (Asset, Asset.capacity_kw)):
        parts.extend(
            session.execute(
                select(
                    func.count(), func.max(model.id), func.min(model.id),
                    func.coalesce(func.sum(model.latitude), 0), func.coalesce(func.sum(model.longitude), 0),
                    func.coalesce(func.sum(cap), 0), func.coalesce(func.sum(func.length(model.name)), 0),
                )
            ).one()
        )
    return hashlib.blake2s(repr(parts).encode(), digest_size=8).hexdigest()


def build_map_data(session: Session, version: str = "") -> MapData:
    """Return the map data built from the database (positions validated and laid out)."""
    started = time.perf_counter()
    site_rows = session.execute(
        select(Site.id, Site.name, Site.kind, Site.market, Site.region, Site.country, Site.capacity_mw,
               Site.latitude, Site.longitude).order_by(Site.id)
    ).all()
    asset_rows = session.execute(
        select(Asset.id, Asset.name, Asset.kind, Asset.capacity_kw, Asset.site_id, Asset.latitude, Asset.longitude)
        .order_by(Asset.site_id, Asset.id)
    ).all()
    return assemble_map_data(
        [(r[0], r[1], r[2].value, r[3], r[4], r[5], r[6], r[7], r[8]) for r in site_rows],
        [(r[0], r[1], r[2].value, r[3], r[4], r[5], r[6]) for r in asset_rows],
        version or "adhoc", started,
    )


def assemble_map_data(
    site_rows: Iterable[tuple], asset_rows: Iterable[tuple], version: str, started: float | None = None
) -> MapData:
    """Return MapData from plain rows (pure; no database).

    ``site_rows``: (id, name, kind, market, region, country, capacity_mw, lat, lon);
    ``asset_rows``: (id, name, kind, capacity_kw, site_id, lat, lon).
    """
    started = time.perf_counter() if started is None else started
    site_list = list(site_rows)
    index = {r[0]: i for i, r in enumerate(site_list)}
    problems = [coordinate_problem(r[7], r[8]) or market_region_problem(r[3], float(r[7]), float(r[8]))
                for r in site_list]
    by_site: dict[str, list[tuple]] = {}
    total_assets: dict[str, int] = {}
    for r in asset_rows:
        total_assets[r[4]] = total_assets.get(r[4], 0) + 1
        if r[2] != "meter" and r[4] in index:
            by_site.setdefault(r[4], []).append(r)

    ids: list[str] = []
    names: list[str] = []
    kinds: list[str] = []
    caps: list[float] = []
    sidx: list[int] = []
    lats: list[float] = []
    lons: list[float] = []
    own: list[bool] = []
    for i, s in enumerate(site_list):
        if problems[i] is not None:
            continue
        lat0, lon0 = float(s[7]), float(s[8])
        members = by_site.get(s[0], [])
        if not members:  # a site without generating assets is still one point
            ids.append(s[0])
            names.append(s[1])
            kinds.append("site")
            caps.append(float(s[6]) * 1000.0)
            sidx.append(i)
            lats.append(lat0)
            lons.append(lon0)
            own.append(False)
            continue
        need_layout = [m for m in members if coordinate_problem(m[5], m[6]) is not None]
        offsets: dict[str, tuple[float, float]] = {}
        if need_layout:
            kinds_present = {m[2] for m in need_layout}
            spacing = max(LAYOUT_SPACING_M.get(k, 50.0) for k in kinds_present)
            east, north = layout_offsets(len(need_layout), spacing)
            coslat = max(math.cos(math.radians(lat0)), 0.01)
            for m, e, n in zip(need_layout, east, north, strict=False):
                offsets[m[0]] = (lat0 + n / METRES_PER_DEG_LAT, lon0 + e / (METRES_PER_DEG_LAT * coslat))
        for m in members:
            if m[0] in offsets:
                la, lo = offsets[m[0]]
                own.append(False)
            else:
                la, lo = float(m[5]), float(m[6])
                own.append(True)
            ids.append(m[0])
            names.append(m[1])
            kinds.append(m[2])
            caps.append(float(m[3] or 0.0))
            sidx.append(i)
            lats.append(round(la, 6))
            lons.append(round(lo, 6))

    sites = pl.DataFrame(
        {
            "site_id": [r[0] for r in site_list], "name": [r[1] for r in site_list],
            "kind": [r[2] for r in site_list], "market": [r[3] or "" for r in site_list],
            "region": [r[4] or "" for r in site_list], "country": [r[5] or "" for r in site_list],
            "capacity_mw": [float(r[6] or 0.0) for r in site_list],
            "latitude": [_as_float(r[7]) for r in site_list], "longitude": [_as_float(r[8]) for r in site_list],
            "problem": problems, "generating": [r[2] in GENERATING_KINDS for r in site_list],
            "assets": [total_assets.get(r[0], 0) for r in site_list],
        },
        schema={"site_id": pl.String, "name": pl.String, "kind": pl.String, "market": pl.String, "region": pl.String,
                "country": pl.String, "capacity_mw": pl.Float64, "latitude": pl.Float64, "longitude": pl.Float64,
                "problem": pl.String, "generating": pl.Boolean, "assets": pl.Int64},
    )
    assets = pl.DataFrame(
        {"asset_id": ids, "name": names, "kind": kinds, "capacity_kw": caps, "site_idx": sidx,
         "latitude": lats, "longitude": lons, "placed": own},
        schema={"asset_id": pl.String, "name": pl.String, "kind": pl.String, "capacity_kw": pl.Float64,
                "site_idx": pl.Int32, "latitude": pl.Float64, "longitude": pl.Float64, "placed": pl.Boolean},
    )
    return MapData(version=version, sites=sites, assets=assets, built_in_s=time.perf_counter() - started)


def _as_float(value: object) -> float | None:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


class MapCache:
    """Per-process cache of :class:`MapData` (by fleet version) and of the live status (short TTL)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: dict[str, tuple[float, str]] = {}
        self._data: dict[str, MapData] = {}
        self._status: dict[str, tuple[float, dict[str, Any]]] = {}
        self._status_lock = threading.Lock()
        self._status_read: dict[str, float] = {}
        self._refreshers: dict[str, threading.Thread] = {}
        self._stop_refresh = threading.Event()

    def version(self, db: Database, max_age_s: float = VERSION_TTL_S) -> str:
        """Return the fleet version of ``db`` (re-read at most every ``max_age_s`` seconds)."""
        now = time.monotonic()
        cached = self._version.get(db.url)
        if cached and now - cached[0] < max_age_s:
            return cached[1]
        with db.read_session() as session:
            version = _fingerprint(session)
        self._version[db.url] = (now, version)
        return version

    def data(self, db: Database, site_ids: set[str] | None = None) -> MapData:
        """Return the map data of the current fleet version (only ``site_ids`` unless None), built on first use."""
        full = self._full(db)
        if site_ids is None:
            return full
        key = f"{db.url}#{full.version}#" + hashlib.blake2s(",".join(sorted(site_ids)).encode()).hexdigest()
        found = self._data.get(key)
        if found is None:
            found = full.restricted(site_ids)
            self._data[key] = found
        return found

    def _full(self, db: Database) -> MapData:
        version = self.version(db)
        key = f"{db.url}#{version}"
        found = self._data.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._data.get(key)
            if found is None:
                with db.read_session() as session:
                    found = build_map_data(session, version)
                for old in [k for k in self._data if k.startswith(db.url + "#")]:
                    del self._data[old]
                self._data[key] = found
        return found

    def status(self, db: Database, site_ids: set[str] | None = None, max_age_s: float = STATUS_TTL_S) -> dict[str, Any]:
        """Return :func:`status_payload` of ``db`` (only ``site_ids`` unless None), at most ``max_age_s`` seconds old.

        While the map is in use (a read within ``STATUS_KEEP_WARM_S``) a background thread re-reads
        the status every ``STATUS_REFRESH_S``, so a page load finds it ready instead of running the
        fleet-wide query (about 0.1 s at 100,000 assets, much more on a busy server) while it loads.
        """
        now = time.monotonic()
        self._status_read[db.url] = now
        cached = self._status.get(db.url)
        if cached and now - cached[0] < max_age_s:
            payload = cached[1]
        else:
            with self._status_lock:  # browsers asking at once share one read
                cached = self._status.get(db.url)
                if cached and time.monotonic() - cached[0] < max_age_s:
                    payload = cached[1]
                else:
                    payload = self._read_status(db)
            self._keep_warm(db)
        if site_ids is None:
            return payload
        return {"ts": payload["ts"], "sites": {k: v for k, v in payload["sites"].items() if k in site_ids}}

    def _read_status(self, db: Database) -> dict[str, Any]:
        started = time.monotonic()
        with db.read_session() as session:
            payload = status_payload(site_frame(session))
        self._status[db.url] = (started, payload)
        return payload

    def _keep_warm(self, db: Database) -> None:
        with self._lock:
            running = self._refreshers.get(db.url)
            if running is not None and running.is_alive():
                return
            stop = self._stop_refresh

            def refresh() -> None:
                while not stop.wait(STATUS_REFRESH_S):
                    if time.monotonic() - self._status_read.get(db.url, 0.0) > STATUS_KEEP_WARM_S:
                        return
                    try:
                        with self._status_lock:
                            self._read_status(db)
                    except Exception:
                        log.warning("fleet map status refresh failed; it stops until the next read", exc_info=True)
                        return

            thread = threading.Thread(target=refresh, name="map-status-refresh", daemon=True)
            self._refreshers[db.url] = thread
            thread.start()

    def clear(self) -> None:
        """Forget everything and stop the status refresh (tests, re-seeding)."""
        with self._lock:
            self._stop_refresh.set()
            self._stop_refresh = threading.Event()
            self._refreshers.clear()
            self._version.clear()
            self._data.clear()
            self._status.clear()
            self._status_read.clear()


CACHE = MapCache()


# --- live status ----------------------------------------------------------------------------


def status_payload(sites: pl.DataFrame, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return ``{"ts": iso, "sites": {site_id: [status, output_mw | None, last_update_iso | None]}}``.

    ``sites`` is :func:`data.fleet.site_frame` output; output is MW now, last update is UTC.
    """
    now = now or dt.datetime.now(dt.UTC)
    out: dict[str, list[Any]] = {}
    for sid, status, mw, last in sites.select("site_id", "status", "output_mw", "last_update").iter_rows():
        out[sid] = [status, mw, last.isoformat().replace("+00:00", "Z") if last is not None else None]
    return {"ts": now.isoformat().replace("+00:00", "Z"), "sites": out}


def apply_status_diff(status: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """Return ``status`` updated with a live-hub ``map.status`` message (``{"ts", "changed": {...}}``).

    Mirrors what ``assets/map.js`` does in the browser; raises MapInputError for a malformed message.
    """
    changed = message.get("changed") if isinstance(message, dict) else None
    if not isinstance(changed, dict):
        raise MapInputError("map.status message needs a 'changed' object")
    sites = dict(status.get("sites", {}))
    for sid, entry in changed.items():
        if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
            raise MapInputError(f"map.status entry for {sid!r} needs a known 'status'")
        previous = sites.get(sid, [None, None, None])
        mw = entry.get("output_mw", previous[1])
        sites[sid] = [entry["status"], None if mw is None else float(mw), message.get("ts", previous[2])]
    return {"ts": message.get("ts", status.get("ts")), "sites": sites}


# --- filters and KPIs -----------------------------------------------------------------------


@dataclass(frozen=True)
class MapFilters:
    """The filter panel's state; empty tuples and None mean 'no restriction'. Capacity in MW (site)."""

    kinds: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    cap_min_mw: float | None = None
    cap_max_mw: float | None = None

    @classmethod
    def from_inputs(cls, kinds: Any = None, markets: Any = None, regions: Any = None, statuses: Any = None,
                    capacity: Any = None) -> MapFilters:
        """Return filters from the browser's values, raising MapInputError naming a bad one."""
        def strings(name: str, value: Any, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
            if value in (None, "", []):
                return ()
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise MapInputError(f"filter {name!r} must be a list of strings")
            if allowed is not None:
                unknown = sorted(set(value) - set(allowed))
                if unknown:
                    raise MapInputError(f"filter {name!r}: unknown value(s) {', '.join(unknown)}")
            return tuple(value)

        lo = hi = None
        if capacity not in (None, [], ""):
            if not (isinstance(capacity, (list, tuple)) and len(capacity) == 2):
                raise MapInputError("filter 'capacity' must be [min_mw, max_mw]")
            try:
                lo, hi = (None if v is None else float(v) for v in capacity)
            except (TypeError, ValueError):
                raise MapInputError("filter 'capacity' must hold numbers (MW)") from None
            if lo is not None and hi is not None and lo > hi:
                raise MapInputError(f"Minimum capacity {lo:g} MW is above the maximum {hi:g} MW: no site can match; "
                                    "lower the minimum or raise the maximum.")
        return cls(strings("type", kinds, SITE_KINDS), strings("market", markets), strings("region", regions),
                   strings("status", statuses, STATUSES), lo, hi)

    @property
    def active(self) -> bool:
        """Return True when any filter restricts the fleet."""
        return bool(self.kinds or self.markets or self.regions or self.statuses
                    or self.cap_min_mw is not None or self.cap_max_mw is not None)


def site_status_columns(sites: pl.DataFrame, status: dict[str, Any]) -> pl.DataFrame:
    """Return ``sites`` with columns ``status`` (default 'no data'), ``output_mw`` (MW now) and ``last_update``."""
    live = status.get("sites", {})
    ids = sites["site_id"].to_list()
    return sites.with_columns(
        pl.Series("status", [live.get(s, ["no data"])[0] or "no data" for s in ids], dtype=pl.String),
        pl.Series("output_mw", [(live.get(s) or [None, None])[1] for s in ids], dtype=pl.Float64),
        pl.Series("last_update", [(live.get(s) or [None, None, None])[2] for s in ids], dtype=pl.String),
    )


def site_mask(sites: pl.DataFrame, filters: MapFilters) -> pl.Series:
    """Return a boolean Series: True for sites passing ``filters`` (``sites`` must carry ``status``)."""
    expr = pl.lit(True)
    if filters.kinds:
        expr = expr & pl.col("kind").is_in(list(filters.kinds))
    if filters.markets:
        expr = expr & pl.col("market").is_in(list(filters.markets))
    if filters.regions:
        expr = expr & pl.col("region").is_in(list(filters.regions))
    if filters.statuses:
        expr = expr & pl.col("status").is_in(list(filters.statuses))
    if filters.cap_min_mw is not None:
        expr = expr & (pl.col("capacity_mw") >= filters.cap_min_mw)
    if filters.cap_max_mw is not None:
        expr = expr & (pl.col("capacity_mw") <= filters.cap_max_mw)
    return sites.with_columns(expr.alias("mask"))["mask"]


def parse_bounds(bounds: Any) -> tuple[float, float, float, float] | None:
    """Return (south, west, north, east) in degrees from dash-leaflet's ``[[s, w], [n, e]]``, or None.

    Longitudes may exceed ±180 when the map is panned across the antimeridian; they are kept as
    given and :func:`kpis` wraps the assets' longitudes to match. Raises MapInputError when malformed.
    """
    if bounds is None:
        return None
    try:
        (s, w), (n, e) = bounds
        s, w, n, e = float(s), float(w), float(n), float(e)
    except (TypeError, ValueError):
        raise MapInputError("map bounds must be [[south, west], [north, east]]") from None
    if not all(math.isfinite(v) for v in (s, w, n, e)) or s > n:
        raise MapInputError("map bounds must be finite with south <= north")
    return s, w, n, e


def kpis(data: MapData, status: dict[str, Any], filters: MapFilters,
         bounds: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """Return the KPIs of the assets passing ``filters`` inside ``bounds`` (None: everywhere).

    Keys: ``sites``, ``assets``, ``capacity_mw``, ``output_mw`` (MW now; a site's output is spread
    over its map points by capacity share), ``output_pct`` (of generating capacity),
    ``by_status`` ({status: sites}), ``not_on_map`` (filtered sites without a position).
    """
    sites = site_status_columns(data.sites, status)
    sites = sites.with_columns(site_mask(sites, filters).alias("site_mask_col"))
    a = data.assets.with_row_index("fid")
    if bounds is not None:
        s, w, n, e = bounds
        if e - w >= 360.0:
            lon_ok = pl.lit(True)
        else:
            lon = pl.col("longitude")
            lon_ok = ((lon >= w) & (lon <= e)) | ((lon + 360.0 >= w) & (lon + 360.0 <= e)) | (
                (lon - 360.0 >= w) & (lon - 360.0 <= e))
        a = a.filter((pl.col("latitude") >= s) & (pl.col("latitude") <= n) & lon_ok)
    site_cols = sites.with_row_index("site_idx").select(
        pl.col("site_idx").cast(pl.Int32), "site_mask_col", "status", "output_mw", "generating",
        pl.col("capacity_mw").alias("site_capacity_mw"),
    )
    share = data.assets.group_by("site_idx").agg(pl.col("capacity_kw").sum().alias("site_points_kw"))
    a = (a.join(site_cols, on="site_idx", how="left").join(share, on="site_idx", how="left")
         .filter(pl.col("site_mask_col")))
    a = a.with_columns(
        pl.when(pl.col("generating") & (pl.col("site_points_kw") > 0))
        .then(pl.col("output_mw").fill_null(0.0) * pl.col("capacity_kw") / pl.col("site_points_kw"))
        .otherwise(0.0).alias("point_mw"),
        pl.when(pl.col("generating")).then(pl.col("capacity_kw") / 1000.0).otherwise(0.0).alias("point_cap_mw"),
    )
    visible_sites = a["site_idx"].unique()
    by_status = (
        sites.with_row_index("site_idx").filter(pl.col("site_idx").cast(pl.Int32).is_in(visible_sites.implode()))
        .group_by("status").len()
    )
    cap = float(a["point_cap_mw"].sum()) if a.height else 0.0
    out = float(a["point_mw"].sum()) if a.height else 0.0
    hidden = sites.filter(pl.col("site_mask_col") & pl.col("problem").is_not_null()).height
    return {
        "sites": int(visible_sites.len()),
        "assets": int(a.filter(pl.col("kind") != "site").height),
        "capacity_mw": round(cap, 3),
        "output_mw": round(out, 3),
        "output_pct": round(100.0 * out / cap, 1) if cap else 0.0,
        "by_status": {row[0]: int(row[1]) for row in by_status.iter_rows()},
        "not_on_map": hidden,
    }


def filter_options(data: MapData) -> dict[str, Any]:
    """Return the distinct values offered by the filter panel (kinds, markets, regions) and the capacity span (MW)."""
    s = data.sites
    return {
        "kinds": [k for k in SITE_KINDS if k in set(s["kind"].to_list())],
        "markets": sorted(v for v in set(s["market"].to_list()) if v),
        "regions": sorted(v for v in set(s["region"].to_list()) if v),
        "capacity": [0.0, float(math.ceil(cast(float, s["capacity_mw"].max()) or 0.0))] if s.height else [0.0, 0.0],
    }


# --- search ---------------------------------------------------------------------------------


def search(data: MapData, query: str, limit: int = 8) -> list[dict[str, Any]]:
    """Return sites then assets whose id or name contains ``query`` (case-insensitive), offline.

    Each hit: ``{"type": "site"|"asset", "id", "label", "detail", "lat", "lon", "zoom", "site_id", "on_map"}``;
    sites without a position are returned with ``on_map`` False and null coordinates.
    """
    q = (query or "").strip().lower()
    if not q:
        return []
    if len(q) > 100:
        raise MapInputError("search text is longer than 100 characters")
    s = data.sites.with_row_index("idx")
    match = (pl.col("site_id").str.to_lowercase().str.contains(q, literal=True)
             | pl.col("name").str.to_lowercase().str.contains(q, literal=True))
    exact = (pl.col("site_id").str.to_lowercase() == q) | (pl.col("name").str.to_lowercase() == q)
    hits: list[dict[str, Any]] = []
    for row in s.filter(match).sort(exact.not_(), "name").head(limit).iter_rows(named=True):
        ok = row["problem"] is None
        hits.append({"type": "site", "id": row["site_id"], "label": row["name"],
                     "detail": f"site · {row['kind']} · {row['market']} {row['region']}".strip(),
                     "lat": row["latitude"] if ok else None, "lon": row["longitude"] if ok else None,
                     "zoom": 15, "site_id": row["site_id"], "on_map": ok})
    room = limit - len(hits)
    if room > 0:
        a = data.assets.filter(pl.col("kind") != "site")
        am = (pl.col("asset_id").str.to_lowercase().str.contains(q, literal=True)
              | pl.col("name").str.to_lowercase().str.contains(q, literal=True))
        site_ids = data.sites["site_id"]
        for row in a.filter(am).head(room).iter_rows(named=True):
            sid = site_ids[row["site_idx"]]
            hits.append({"type": "asset", "id": row["asset_id"], "label": row["name"],
                         "detail": f"{row['kind']} · {data.sites['name'][row['site_idx']]}",
                         "lat": row["latitude"], "lon": row["longitude"], "zoom": 17, "site_id": sid, "on_map": True})
    return hits
