"""The bundled offline outlines: no ring steps across the antimeridian (such an edge spans the map
and fills a band across it)."""
from __future__ import annotations

import json

import pytest

from components.map_outlines import COUNTRIES_FILE, OFFLINE_DIR, STATES_FILE, fix_antimeridian, split_antimeridian


def _polygons(feature):
    geometry = feature["geometry"]
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


@pytest.mark.parametrize("name", [COUNTRIES_FILE, STATES_FILE])
def test_no_ring_crosses_the_antimeridian(name):
    collection = json.loads((OFFLINE_DIR / name).read_text())
    for feature in collection["features"]:
        for polygon in _polygons(feature):
            for ring in polygon:
                assert all(-180 <= lon <= 180 for lon, _ in ring), feature["properties"]["name"]
                steps = [(a, b) for a, b in zip(ring, ring[1:], strict=False) if abs(a[0] - b[0]) > 180]
                # only the closing edge along a pole (Antarctica) may run from +180 to -180
                assert all(abs(a[1]) == 90 and abs(b[1]) == 90 for a, b in steps), (feature["properties"]["name"], steps)
    assert fix_antimeridian(collection) == collection  # the committed files are already cut


def test_a_ring_across_the_antimeridian_is_cut_into_two_at_180():
    # a box from 170 E to 170 W (-170), 60..70 N, as Natural Earth writes Chukotka
    ring = [[170.0, 60.0], [-170.0, 60.0], [-170.0, 70.0], [170.0, 70.0], [170.0, 60.0]]
    pieces = split_antimeridian([ring])
    spans = sorted((min(p[0] for p in poly[0]), max(p[0] for p in poly[0])) for poly in pieces)
    assert spans == [(-180.0, -170.0), (170.0, 180.0)]
    assert all(poly[0][0] == poly[0][-1] for poly in pieces)


def test_a_ring_round_the_pole_is_closed_along_it():
    ring = [[-180.0, -80.0], [-90.0, -75.0], [0.0, -70.0], [90.0, -75.0], [180.0, -80.0], [-180.0, -80.0]]
    (piece,) = split_antimeridian([ring])
    assert min(lat for _, lat in piece[0]) == -90.0
    assert (min(p[0] for p in piece[0]), max(p[0] for p in piece[0])) == (-180.0, 180.0)


def test_a_polygon_within_the_map_is_kept_as_it_is():
    polygon = [[[10.0, 50.0], [20.0, 50.0], [20.0, 55.0], [10.0, 50.0]]]
    assert split_antimeridian(polygon) == [polygon]


def test_the_outlines_follow_the_theme():
    """Drawn on a canvas, the outlines take their colours from the theme callback, not from CSS."""
    from components.map_view import outline_styles

    def luminance(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = outline_styles("light")[0], outline_styles("dark")[0]
    assert luminance(dark["fillColor"]) < 80 < 200 < luminance(light["fillColor"])
    assert outline_styles(None) == outline_styles("light")
