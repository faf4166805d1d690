"""The server's clustering equals the map worker's supercluster, and the opening view it serves."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from data.map_clusters import ClusterIndex, geobuf_coordinates
from data.map_queries import STATUSES, build_map_data

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "supercluster"


@pytest.fixture(scope="module")
def golden():
    """Return (points document, supercluster 8.0.1's output on it, our index of the same points)."""
    doc = json.loads((FIXTURES / "points.json").read_text())
    expected = json.loads(gzip.decompress((FIXTURES / "golden.json.gz").read_bytes()))
    pts = np.asarray(doc["points"], dtype=np.float64)
    index = ClusterIndex(pts[:, 0], pts[:, 1], doc["options"]["radius"], doc["options"]["maxZoom"])
    return doc, expected, index


def test_every_level_equals_supercluster(golden):
    doc, expected, index = golden
    assert set(index.levels) == {int(z) for z in expected["levels"]}
    for z, level in expected["levels"].items():
        ours = index.levels[int(z)]
        assert ours.ids.tolist() == level["ids"], f"zoom {z}: cluster ids differ"
        assert ours.num.tolist() == level["num"], f"zoom {z}: point counts differ"
        assert int(ours.num.sum()) == len(doc["points"])
    # clustering really happened at many zooms (the fixture is not trivially flat)
    assert len(index.levels[0].ids) < 60 < len(index.levels[10].ids) < len(doc["points"])


def test_views_equal_get_clusters(golden):
    _doc, expected, index = golden
    for view in expected["views"]:
        zoom = view["zoom"]
        level_zoom = index.limit_zoom(zoom)
        got = {}
        for pos in index.in_view(view["bbox"], zoom).tolist():
            it = index.item(level_zoom, pos)
            got[(it["id"], it["cluster"])] = it
        want = {(i[0], i[1] > 1): i for i in view["items"]}
        assert got.keys() == want.keys(), f"view {view['bbox']} z{zoom}"
        for key, (_id, n, lng, lat, expansion) in want.items():
            it = got[key]
            assert it["n"] == n
            assert it["lng"] == pytest.approx(lng, abs=1e-9) and it["lat"] == pytest.approx(lat, abs=1e-9)
            if it["cluster"]:
                assert index.expansion_zoom(it["id"]) == expansion


def test_positions_follow_points_into_their_clusters(golden):
    _doc, _expected, index = golden
    for zoom in (0, 3, 8, 15):
        level = index.levels[index.limit_zoom(zoom)]
        pos = index.positions_at(zoom)
        assert np.array_equal(np.bincount(pos, minlength=len(level.num)), level.num)


def test_empty_and_single_point_indexes() -> None:
    empty = ClusterIndex(np.zeros(0), np.zeros(0), 60, 14)
    assert empty.in_view([-180, -85, 180, 85], 3).size == 0
    one = ClusterIndex(np.array([5.5]), np.array([48.4]), 60, 14)
    pos = one.in_view([-180, -85, 180, 85], 3).tolist()
    assert pos == [0] and one.item(3, 0) == {"cluster": False, "id": 0, "n": 1, "lng": 5.5, "lat": 48.4}


def test_geobuf_coordinates_round_like_the_worker_decodes() -> None:
    assert geobuf_coordinates([5.5925049, -0.000004, 179.999996]).tolist() == [5.5925, -0.0, 180.0]


def test_opening_view_of_the_map_fleet(map_fleet):
    from callbacks.map import CLUSTER_MAX_ZOOM, CLUSTER_RADIUS

    with map_fleet.db.read_session() as session:
        data = build_map_data(session, "t")
    index = data.cluster_index(CLUSTER_RADIUS, CLUSTER_MAX_ZOOM)
    assert data.cluster_index(CLUSTER_RADIUS, CLUSTER_MAX_ZOOM, build=False) is index
    status = {"ts": "2026-11-27T08:00:00Z", "sites": {"m-sol": ["producing", 3.0, "2026-11-27T07:59:00Z"],
                                                       "m-wind": ["producing", 2.05, "2026-11-27T07:59:00Z"]}}
    items = data.view(index, status, [-180, -85, 180, 85], 3)
    assert sum(it["n"] if it["c"] else 1 for it in items) == data.assets.height == 10
    clusters = [it for it in items if it["c"]]
    assert clusters
    for it in clusters:
        a = it["a"]
        assert len(a) == 2 + len(STATUSES) and sum(a[2:]) == it["n"]
        assert it["z"] > 3 and STATUSES[it["w"]] in STATUSES
    total_out = sum(it["a"][1] for it in clusters) + sum(it["out"] or 0.0 for it in items if not it["c"])
    assert total_out == pytest.approx(5.05, abs=1e-4)  # Mesa Solar 3 MW + Ridge Wind 2.05 MW
    points = [it for it in items if not it["c"]]
    for it in points:
        assert {"site", "siteName", "name", "kind", "isSite", "market", "region", "st", "cap", "out", "last"} <= it.keys()
    # a site whose status is unknown counts as "no data"
    bare = data.view(index, {"ts": None, "sites": {}}, [-180, -85, 180, 85], 3)
    no_data = STATUSES.index("no data")
    assert all(it["w"] == no_data for it in bare if it["c"]) and all(it["st"] == no_data for it in bare if not it["c"])
