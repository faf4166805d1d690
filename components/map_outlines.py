"""The bundled offline base layer: country and US-state outlines served from ``assets/offline/``.

Source: the npm packages ``world-atlas`` 2.0.2 (countries-110m) and ``us-atlas`` 3.0.1 (states-10m),
TopoJSON of Natural Earth (public domain) by Mike Bostock, ISC licence (see
``assets/offline/LICENSE-outlines.txt``). They are converted to GeoJSON once, at build time:

    cd /tmp && npm pack world-atlas@2.0.2 us-atlas@3.0.1 && tar xzf world-atlas-2.0.2.tgz && \
        mkdir us && tar xzf us-atlas-3.0.1.tgz -C us
    python -m components.map_outlines /tmp/package/countries-110m.json /tmp/us/package/states-10m.json

and the two GeoJSON files are committed, so the app needs no network and no npm at run time.

Rings that cross the antimeridian (Russia, Fiji) or go round a pole (Antarctica) are cut at
longitude ±180 (:func:`split_antimeridian`): drawn as they are, their edge from +180 to -180 spans
the whole map and fills a band across it. ``python -m components.map_outlines --fix FILE`` applies
the cut to a GeoJSON file already built (idempotent).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from core.settings import REPO_ROOT

OFFLINE_DIR = REPO_ROOT / "assets" / "offline"
COUNTRIES_FILE = "countries-110m.geojson"
STATES_FILE = "us-states-10m.geojson"
DECIMALS = 2  # about 1 km: enough for outlines up to zoom ~9


def outline_urls(assets_url_path: str = "/assets") -> dict[str, str]:
    """Return the URLs of the bundled outline layers (countries, US states)."""
    return {"countries": f"{assets_url_path}/offline/{COUNTRIES_FILE}", "states": f"{assets_url_path}/offline/{STATES_FILE}"}


def _decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Return the topology's arcs as absolute (lon, lat) lists (TopoJSON spec §2.1.3, quantized delta encoding)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform:
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            x = y = 0
            pts = []
            for dx, dy, *_ in arc:
                x += dx
                y += dy
                pts.append((x * sx + tx, y * sy + ty))
        else:
            pts = [(p[0], p[1]) for p in arc]
        arcs.append(pts)
    return arcs


def _ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[list[float]]:
    out: list[tuple[float, float]] = []
    for i in indexes:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(pts if not out else pts[1:])
    coords: list[list[float]] = []
    for lon, lat in out:
        p = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not coords or coords[-1] != p:
            coords.append(p)
    if coords and coords[0] != coords[-1]:
        coords.append(coords[0])
    return coords


Point = list[float]


def _unwrap(ring: list[Point]) -> tuple[list[Point], int]:
    """Return the ring with longitudes made continuous (no step over 180 degrees) and the number of
    steps that were made continuous."""
    out = [list(ring[0])]
    jumps = 0
    for lon, lat in ring[1:]:
        prev = out[-1][0]
        while lon - prev > 180:
            lon -= 360
            jumps += 1
        while prev - lon > 180:
            lon += 360
            jumps += 1
        out.append([lon, lat])
    return out, jumps


def _clip(ring: list[Point], x: float, keep_below: bool) -> list[Point]:
    """Return the ring clipped to the half-plane lon <= x (``keep_below``) or lon >= x (Sutherland-Hodgman)."""
    def inside(p: Point) -> bool:
        return p[0] <= x if keep_below else p[0] >= x

    out: list[Point] = []
    for i, cur in enumerate(ring):
        prev = ring[i - 1]
        if inside(cur) != inside(prev):
            t = (x - prev[0]) / (cur[0] - prev[0])
            out.append([x, prev[1] + t * (cur[1] - prev[1])])
        if inside(cur):
            out.append(cur)
    return out


def _close(ring: list[Point]) -> list[Point]:
    coords = [[round(lon, DECIMALS), round(lat, DECIMALS)] for lon, lat in ring]
    coords = [p for i, p in enumerate(coords) if i == 0 or p != coords[i - 1]]
    if coords and coords[0] != coords[-1]:
        coords.append(coords[0])
    return coords


def split_antimeridian(polygon: list[list[Point]]) -> list[list[list[Point]]]:
    """Return ``polygon`` (outer ring, holes) as polygons that each stay within longitudes -180..180.

    A ring whose consecutive points step over 180 degrees of longitude is made continuous, closed
    along the pole when it goes round one (an odd number of steps), and cut into its parts within
    [-540, -180], [-180, 180] and [180, 540], each shifted back into -180..180. Holes of a cut ring
    are dropped (none of the bundled outlines has one). A polygon that needs no cut is returned as is.
    """
    outer = polygon[0]
    if all(abs(a[0] - b[0]) <= 180 or abs(a[1]) == abs(b[1]) == 90 for a, b in zip(outer, outer[1:], strict=False)):
        return [polygon]  # within the map, or already cut (a closing edge along a pole is drawn at the map's edge)
    ring, jumps = _unwrap(outer)
    if jumps % 2:  # round a pole: close along it, on the side of the ring's mean latitude
        pole = -90.0 if sum(p[1] for p in ring) < 0 else 90.0
        ring = [*ring, [ring[-1][0], pole], [ring[0][0], pole]]
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        moved = [[lon + shift, lat] for lon, lat in ring]
        part = _close(_clip(_clip(moved, -180.0, keep_below=False), 180.0, keep_below=True))
        if len(part) >= 4:
            pieces.append([part])
    return pieces


def fix_antimeridian(collection: dict[str, Any]) -> dict[str, Any]:
    """Return the FeatureCollection with every polygon cut by :func:`split_antimeridian` (idempotent)."""
    features = []
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        cut = [piece for poly in polys for piece in split_antimeridian(poly)]
        new = {"type": "Polygon", "coordinates": cut[0]} if len(cut) == 1 else {"type": "MultiPolygon", "coordinates": cut}
        features.append({**feature, "geometry": new})
    return {**collection, "features": features}


def topology_to_geojson(topology: dict[str, Any], object_name: str) -> dict[str, Any]:
    """Return the named TopoJSON object as a GeoJSON FeatureCollection (coordinates rounded, tiny rings dropped)."""
    if topology.get("type") != "Topology" or object_name not in topology.get("objects", {}):
        raise ValueError(f"not a TopoJSON topology with object {object_name!r}")
    arcs = _decode_arcs(topology)
    obj = topology["objects"][object_name]
    geometries = obj["geometries"] if obj["type"] == "GeometryCollection" else [obj]
    features = []
    for g in geometries:
        if g["type"] == "Polygon":
            polys = [[_ring(r, arcs) for r in g["arcs"]]]
        elif g["type"] == "MultiPolygon":
            polys = [[_ring(r, arcs) for r in p] for p in g["arcs"]]
        else:
            continue
        polys = [[r for r in p if len(r) >= 4] for p in polys]
        polys = [p for p in polys if p]
        if not polys:
            continue
        geometry = {"type": "Polygon", "coordinates": polys[0]} if len(polys) == 1 else {
            "type": "MultiPolygon", "coordinates": polys}
        features.append({"type": "Feature", "properties": {"name": (g.get("properties") or {}).get("name", "")},
                         "geometry": geometry})
    return fix_antimeridian({"type": "FeatureCollection", "features": features})


def build(countries_topojson: Path, states_topojson: Path, out_dir: Path = OFFLINE_DIR) -> dict[str, int]:
    """Write the two GeoJSON outline files into ``out_dir``; return their sizes in bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for src, obj, name in ((countries_topojson, "countries", COUNTRIES_FILE), (states_topojson, "states", STATES_FILE)):
        fc = topology_to_geojson(json.loads(Path(src).read_text()), obj)
        data = json.dumps(fc, separators=(",", ":"))
        (out_dir / name).write_text(data)
        sizes[name] = len(data)
    return sizes


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--fix":
        path = Path(sys.argv[2])
        path.write_text(json.dumps(fix_antimeridian(json.loads(path.read_text())), separators=(",", ":")))
        sys.exit(0)
    if len(sys.argv) != 3:
        sys.exit("usage: python -m components.map_outlines COUNTRIES_TOPOJSON STATES_TOPOJSON | --fix GEOJSON")
    print(build(Path(sys.argv[1]), Path(sys.argv[2])))
