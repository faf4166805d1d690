"""The fleet map's clusters computed on the server: the opening view drawn before the browser has indexed.

The browser clusters the fleet in a Web Worker with supercluster 8.0.1 (vendored in
``components/map_js/vendor/``). Indexing 100,000 points there takes a few hundred milliseconds
on a busy page, so the server sends the markers of the page's opening view (the whole world at
the default zoom) itself; the worker's own answer replaces them once it is ready.

:class:`ClusterIndex` is supercluster's hierarchical greedy clustering (``load`` with
``_cluster`` at every zoom from ``max_zoom`` down to ``min_zoom``) on the same inputs: the
geobuf coordinates (5 decimals) of :class:`data.map_queries.MapData`, the same projection, float32
tree coordinates and the same processing order, so the clusters, their ids, member counts and
expansion zooms equal the worker's. Neighbour look-ups use a k-d tree (scipy) instead of KDBush;
only the order in which a cluster's members are summed into its centre differs, which moves a
centre by about 1e-16.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

EXTENT = 512  # supercluster defaults (the worker passes only radius and maxZoom)
MIN_POINTS = 2
MIN_ZOOM = 0
GEOBUF_PRECISION = 5  # MapData.geobuf() writes 5 decimals; the worker clusters the decoded values


@dataclass
class _Level:
    """One zoom level: supercluster's ``tree.data`` as columns (x, y in 0..1 Web Mercator)."""

    x: np.ndarray  # float64
    y: np.ndarray  # float64
    ids: np.ndarray  # int64: point index (num == 1) or cluster id
    num: np.ndarray  # int64: points in the item
    rep: np.ndarray | None = None  # position in the next (coarser) level of each item, once clustered


def geobuf_coordinates(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Return ``values`` (degrees) as the map worker decodes them from the geobuf: rounded to 5 decimals."""
    e = 10 ** GEOBUF_PRECISION
    return np.rint(np.asarray(values, dtype=np.float64) * e) / e


def lng_x(lng: np.ndarray) -> np.ndarray:
    """Return Web Mercator x in 0..1 of longitudes (supercluster's ``lngX``)."""
    return lng / 360.0 + 0.5


def lat_y(lat: np.ndarray) -> np.ndarray:
    """Return Web Mercator y in 0..1 of latitudes, clamped (supercluster's ``latY``)."""
    s = np.sin(lat * math.pi / 180.0)
    with np.errstate(divide="ignore"):
        y = 0.5 - 0.25 * np.log((1 + s) / (1 - s)) / math.pi
    return np.clip(y, 0.0, 1.0)


def x_lng(x: float) -> float:
    """Return the longitude of Web Mercator x (supercluster's inverse of ``lngX``)."""
    return (x - 0.5) * 360.0


def y_lat(y: float) -> float:
    """Return the latitude of Web Mercator y (supercluster's inverse of ``latY``)."""
    return 360.0 * math.atan(math.exp((180.0 - y * 360.0) * math.pi / 180.0)) / math.pi - 90.0


class ClusterIndex:
    """Supercluster's level trees of a set of points; see the module docstring."""

    def __init__(self, lng: np.ndarray, lat: np.ndarray, radius: float, max_zoom: int, min_zoom: int = MIN_ZOOM) -> None:
        self.lng = np.asarray(lng, dtype=np.float64)
        self.lat = np.asarray(lat, dtype=np.float64)
        self.radius, self.max_zoom, self.min_zoom = float(radius), int(max_zoom), int(min_zoom)
        self.n_points = len(self.lng)
        n = self.n_points
        top = _Level(
            x=lng_x(self.lng).astype(np.float32).astype(np.float64),
            y=lat_y(self.lat).astype(np.float32).astype(np.float64),
            ids=np.arange(n, dtype=np.int64), num=np.ones(n, dtype=np.int64),
        )
        self.levels: dict[int, _Level] = {self.max_zoom + 1: top}
        level = top
        for z in range(self.max_zoom, self.min_zoom - 1, -1):
            level = self.levels[z] = self._cluster(level, z)

    def _cluster(self, level: _Level, zoom: int) -> _Level:
        """Return the next coarser level: supercluster's ``_cluster(tree, zoom)``; sets ``level.rep``."""
        count = len(level.x)
        r = self.radius / (EXTENT * 2.0 ** zoom)
        if count == 0:
            level.rep = np.zeros(0, dtype=np.int64)
            return _Level(level.x.copy(), level.y.copy(), level.ids.copy(), level.num.copy())
        # the tree holds float32 coordinates (KDBush with Float32Array); queries use the float64 data
        tree = cKDTree(np.column_stack([level.x.astype(np.float32), level.y.astype(np.float32)]).astype(np.float64))
        neighbours = tree.query_ball_point(np.column_stack([level.x, level.y]), r, p=2.0, eps=0.0)
        x, y, ids, num = level.x.tolist(), level.y.tolist(), level.ids.tolist(), level.num.tolist()
        done = [False] * count  # supercluster: data[i + OFFSET_ZOOM] <= zoom
        rep = [0] * count
        out_x: list[float] = []
        out_y: list[float] = []
        out_ids: list[int] = []
        out_num: list[int] = []
        base = zoom + 1 + self.n_points
        for i in range(count):
            if done[i]:
                continue
            done[i] = True
            near = neighbours[i]
            pos = len(out_ids)
            rep[i] = pos
            if len(near) > 1 or (near and near[0] != i):
                total = num[i]
                for k in near:
                    if not done[k]:
                        total += num[k]
                if total > num[i] and total >= MIN_POINTS:
                    wx, wy = x[i] * num[i], y[i] * num[i]
                    for k in near:
                        if done[k]:
                            continue
                        done[k] = True
                        wx += x[k] * num[k]
                        wy += y[k] * num[k]
                        rep[k] = pos
                    out_x.append(wx / total)
                    out_y.append(wy / total)
                    out_ids.append((i << 5) + base)
                    out_num.append(total)
                    continue
            out_x.append(x[i])
            out_y.append(y[i])
            out_ids.append(ids[i])
            out_num.append(num[i])
        level.rep = np.asarray(rep, dtype=np.int64)
        return _Level(np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64),
                      np.asarray(out_ids, dtype=np.int64), np.asarray(out_num, dtype=np.int64))

    def limit_zoom(self, zoom: float) -> int:
        """Return the level a view at ``zoom`` reads (supercluster's ``_limitZoom``)."""
        return max(self.min_zoom, min(math.floor(zoom), self.max_zoom + 1))

    def positions_at(self, zoom: int) -> np.ndarray:
        """Return, for every point, the position of the item holding it in the level of ``zoom``."""
        target = self.limit_zoom(zoom)
        pos = np.arange(self.n_points, dtype=np.int64)
        for z in range(self.max_zoom + 1, target, -1):
            rep = self.levels[z].rep
            assert rep is not None, "levels are clustered before they are read"
            pos = rep[pos]
        return pos

    def in_view(self, bbox: Sequence[float], zoom: int) -> np.ndarray:
        """Return the positions, in the level of ``zoom``, of the items inside ``bbox`` (west, south, east, north).

        The same items as supercluster's ``getClusters`` (a view crossing the antimeridian included),
        in level order rather than KDBush's.
        """
        west = ((bbox[0] + 180) % 360 + 360) % 360 - 180
        south = max(-90.0, min(90.0, bbox[1]))
        east = 180.0 if bbox[2] == 180 else ((bbox[2] + 180) % 360 + 360) % 360 - 180
        north = max(-90.0, min(90.0, bbox[3]))
        if bbox[2] - bbox[0] >= 360:
            west, east = -180.0, 180.0
        elif west > east:
            return np.concatenate([self.in_view([west, south, 180, north], zoom), self.in_view([-180, south, east, north], zoom)])
        level = self.levels[self.limit_zoom(zoom)]
        x32, y32 = level.x.astype(np.float32).astype(np.float64), level.y.astype(np.float32).astype(np.float64)
        x0, x1 = lng_x(np.asarray(west, dtype=np.float64)), lng_x(np.asarray(east, dtype=np.float64))
        y0, y1 = lat_y(np.asarray(north, dtype=np.float64)), lat_y(np.asarray(south, dtype=np.float64))
        return np.flatnonzero((x32 >= x0) & (x32 <= x1) & (y32 >= y0) & (y32 <= y1))

    def expansion_zoom(self, cluster_id: int) -> int:
        """Return the zoom at which the cluster splits (supercluster's ``getClusterExpansionZoom``).

        A cluster always has at least two children at the level it was made from, so this is the
        zoom encoded in its id.
        """
        return int((cluster_id - self.n_points) % 32)

    def item(self, zoom: int, pos: int) -> dict[str, Any]:
        """Return the item at ``pos`` of the level of ``zoom``: {cluster, id, n, lng, lat}."""
        level = self.levels[self.limit_zoom(zoom)]
        n = int(level.num[pos])
        if n > 1:
            return {"cluster": True, "id": int(level.ids[pos]), "n": n,
                    "lng": x_lng(float(level.x[pos])), "lat": y_lat(float(level.y[pos]))}
        point = int(level.ids[pos])
        return {"cluster": False, "id": point, "n": 1, "lng": float(self.lng[point]), "lat": float(self.lat[point])}


def view_items(index: ClusterIndex, sites: Any, assets: Any, status: dict[str, Any], bbox: Sequence[float], zoom: int,
               statuses: Sequence[str], severity: Sequence[str]) -> list[dict[str, Any]]:
    """Return the markers of a view as the map worker's ``clusters`` answer lists them.

    ``sites`` and ``assets`` are :class:`data.map_queries.MapData` frames (asset row = point),
    ``status`` a status payload (``{"sites": {site_id: [status, output_mw, last_update]}}``).
    Clusters: ``{c: 1, id, lat, lng, n, a, w, z}`` with ``a`` = [capacity MW, output MW, points
    per status...] (generating sites only for the MW), ``w`` the worst status code and ``z`` the
    expansion zoom; points: ``{c: 0, id, lat, lng, site, siteName, name, kind, isSite, market,
    region, st, cap, out, last}``.
    """
    n_status = len(statuses)
    no_data = statuses.index("no data")
    site_ids = sites["site_id"].to_list()
    n_sites = len(site_ids)
    site_status = np.full(n_sites, no_data, dtype=np.int64)
    site_out = np.zeros(n_sites, dtype=np.float64)
    site_last: list[Any] = [None] * n_sites
    code = {s: i for i, s in enumerate(statuses)}
    entries = (status or {}).get("sites") or {}
    for i, sid in enumerate(site_ids):
        e = entries.get(sid)
        if e is None:
            continue
        site_status[i] = code.get(e[0], no_data)
        site_out[i] = 0.0 if e[1] is None else float(e[1])
        site_last[i] = e[2]
    point_site = assets["site_idx"].to_numpy().astype(np.int64)
    point_cap = np.nan_to_num(assets["capacity_kw"].to_numpy().astype(np.float64))
    site_kw = np.bincount(point_site, weights=point_cap, minlength=n_sites)
    share = np.divide(point_cap, site_kw[point_site], out=np.zeros_like(point_cap), where=site_kw[point_site] > 0)
    generating = sites["generating"].to_numpy().astype(bool)
    gen = generating[point_site]
    point_status = site_status[point_site]
    point_out = site_out[point_site] * share

    level_zoom = index.limit_zoom(zoom)
    level = index.levels[level_zoom]
    wanted = index.in_view(bbox, zoom)
    holder = index.positions_at(zoom)
    m = len(level.num)
    agg = np.zeros((m, 2 + n_status), dtype=np.float64)
    agg[:, 0] = np.bincount(holder, weights=np.where(gen, point_cap / 1000.0, 0.0), minlength=m)
    agg[:, 1] = np.bincount(holder, weights=np.where(gen, point_out, 0.0), minlength=m)
    counts = np.bincount(holder * n_status + point_status, minlength=m * n_status).reshape(m, n_status)
    agg[:, 2:] = counts
    agg = agg.astype(np.float32).astype(np.float64)  # the worker sums in a Float32Array
    severity_codes = [statuses.index(s) for s in severity]

    names, asset_names = sites["name"].to_list(), assets["name"].to_list()
    kinds, site_kind = assets["kind"].to_list(), sites["kind"].to_list()
    markets, regions = sites["market"].to_list(), sites["region"].to_list()
    out: list[dict[str, Any]] = []
    for pos in wanted.tolist():
        it = index.item(level_zoom, pos)
        if it["cluster"]:
            a = agg[pos].tolist()
            worst = next((c for c in severity_codes if a[2 + c] > 0), no_data)
            out.append({"c": 1, "id": it["id"], "lat": it["lat"], "lng": it["lng"], "n": it["n"], "a": a, "w": worst,
                        "z": index.expansion_zoom(it["id"])})
            continue
        fid = it["id"]
        s = int(point_site[fid])
        is_site = kinds[fid] == "site"
        out.append({"c": 0, "id": fid, "lat": it["lat"], "lng": it["lng"], "site": site_ids[s], "siteName": names[s],
                    "name": names[s] if is_site else asset_names[fid],
                    "kind": site_kind[s] if is_site else kinds[fid], "isSite": is_site,
                    "market": markets[s], "region": regions[s], "st": int(site_status[s]),
                    "cap": point_cap[fid] / 1000.0, "out": float(point_out[fid]) if gen[fid] else None,
                    "last": site_last[s]})
    return out
