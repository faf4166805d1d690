"""Map data: coordinate validation, point layout, geobuf/columns building, caching, filters, KPIs, search."""
from __future__ import annotations

import math

import geobuf
import orjson
import pytest

from data.fleet import site_frame
from data.map_queries import (
    CACHE,
    MapFilters,
    MapInputError,
    apply_status_diff,
    build_map_data,
    coordinate_problem,
    filter_options,
    kpis,
    layout_offsets,
    parse_bounds,
    search,
    status_payload,
)
from data.models import Site


@pytest.mark.parametrize(
    ("lat", "lon", "problem"),
    [(48.4, 5.6, None), (-33.9, 151.2, None), (90, 180, None), (None, 5.0, "missing"), (5.0, None, "missing"),
     ("abc", 1, "not a number"), (float("nan"), 1, "not a number"), (float("inf"), 1, "not a number"),
     (-120.1, 36.2, "latitude out of range"), (45, 181, "longitude out of range"), (0, 0, "placeholder (0, 0)"),
     ("48.5", "5.5", None)],
)
def test_coordinate_problem(lat, lon, problem):
    assert coordinate_problem(lat, lon) == problem


def test_layout_offsets_spacing():
    east, north = layout_offsets(50, 400.0)
    assert (east[0], north[0]) == (0.0, 0.0)
    dists = [math.dist((east[i], north[i]), (east[j], north[j])) for i in range(50) for j in range(i)]
    assert min(dists) > 150.0  # laid-out turbines never sit on top of each other
    assert max(math.hypot(e, n) for e, n in zip(east, north, strict=False)) < 400.0 * 0.55 * math.sqrt(50) + 1


def _data(map_fleet):
    with map_fleet.db.session() as s:
        return build_map_data(s, "v1")


def test_points_and_not_on_map(map_fleet):
    data = _data(map_fleet)
    a = data.assets
    # meters excluded; the substation without assets is one point; sites with bad coordinates have none
    assert sorted(a["asset_id"].to_list()) == sorted(
        [f"m-sol-INV-{i}" for i in (1, 2, 3)] + [f"m-wind-WTG-{i}" for i in (1, 2, 3, 4)]
        + ["m-bess-BAT-1", "m-bess-BAT-2", "m-sub"])
    assert a.filter(a["asset_id"] == "m-sub")["kind"].to_list() == ["site"]
    rows = {r["site_id"]: r for r in data.not_on_map()}
    assert set(rows) == {"m-nocoord", "m-swapped", "m-zero"}
    assert rows["m-nocoord"]["problem"] == "missing" and rows["m-nocoord"]["assets"] == 2
    assert rows["m-swapped"]["problem"] == "latitude out of range"
    assert rows["m-zero"]["problem"] == "placeholder (0, 0)"
    # real turbine coordinates are kept; the turbine with an impossible latitude is laid out near its site
    wind = {r["asset_id"]: r for r in a.filter(a["site_idx"] == data.sites["site_id"].to_list().index("m-wind")).to_dicts()}
    assert (wind["m-wind-WTG-1"]["latitude"], wind["m-wind-WTG-1"]["longitude"]) == (48.4569, 5.5847)
    assert wind["m-wind-WTG-1"]["placed"] and not wind["m-wind-WTG-4"]["placed"]
    assert abs(wind["m-wind-WTG-4"]["latitude"] - 48.45) < 0.01
    # assets without coordinates are spread around the site, not stacked
    sol = a.filter(a["asset_id"].str.starts_with("m-sol"))
    assert sol.select(["latitude", "longitude"]).unique().height == 3


def test_geobuf_and_columns_match(map_fleet):
    data = _data(map_fleet)
    fc = geobuf.decode(data.geobuf())
    assert len(fc["features"]) == data.assets.height
    for i, f in enumerate(fc["features"]):
        assert not f.get("properties")  # feature i is point i
        lon, lat = f["geometry"]["coordinates"]
        assert abs(lat - data.assets["latitude"][i]) < 1e-5 and abs(lon - data.assets["longitude"][i]) < 1e-5
    cols = orjson.loads(data.columns_json())
    assert len(cols["assets"]["site"]) == data.assets.height
    assert cols["sites"]["id"][cols["assets"]["site"][0]] == data.sites["site_id"][data.assets["site_idx"][0]]
    assert cols["statuses"][0] == "producing" and "no data" in cols["statuses"]
    assert cols["sites"]["ok"][cols["sites"]["id"].index("m-nocoord")] is False
    import gzip

    assert gzip.decompress(data.gzipped("geobuf")) == data.geobuf()


def test_cache_follows_fleet_changes(map_fleet):
    first = CACHE.data(map_fleet.db)
    assert CACHE.data(map_fleet.db) is first
    with map_fleet.db.session() as s:
        s.get(Site, "m-nocoord").latitude, s.get(Site, "m-nocoord").longitude = 30.0, -100.0
    assert CACHE.data(map_fleet.db) is first  # version re-read at most every few seconds
    CACHE._version.clear()
    second = CACHE.data(map_fleet.db)
    assert second.version != first.version
    assert "m-nocoord" not in {r["site_id"] for r in second.not_on_map()}


def test_status_payload_and_live_diff(map_fleet):
    with map_fleet.db.session() as s:
        payload = status_payload(site_frame(s))
    assert payload["sites"]["m-sol"][0] == "producing" and payload["sites"]["m-sol"][1] == pytest.approx(3.0)
    assert payload["sites"]["m-bess"][0] == "no data" and payload["sites"]["m-bess"][1] is None
    out = apply_status_diff(payload, {"ts": "2026-01-01T00:00:00Z", "changed": {"m-bess": {"status": "idle", "output_mw": 0.0}}})
    assert out["sites"]["m-bess"] == ["idle", 0.0, "2026-01-01T00:00:00Z"]
    assert out["sites"]["m-sol"] == payload["sites"]["m-sol"]
    with pytest.raises(MapInputError, match="changed"):
        apply_status_diff(payload, {"ts": "x"})
    with pytest.raises(MapInputError, match="m-sol"):
        apply_status_diff(payload, {"changed": {"m-sol": {"status": "exploded"}}})


def test_filter_inputs_are_validated():
    f = MapFilters.from_inputs(["wind"], "ERCOT", None, ["producing"], [5, 50])
    assert f.kinds == ("wind",) and f.markets == ("ERCOT",) and f.cap_min_mw == 5.0 and f.active
    assert not MapFilters.from_inputs().active
    with pytest.raises(MapInputError, match="type"):
        MapFilters.from_inputs(["nuclear"])
    with pytest.raises(MapInputError, match="status"):
        MapFilters.from_inputs(statuses=["sleepy"])
    with pytest.raises(MapInputError, match="capacity"):
        MapFilters.from_inputs(capacity=[10, 1])
    with pytest.raises(MapInputError, match="capacity"):
        MapFilters.from_inputs(capacity=["a", "b"])
    with pytest.raises(MapInputError, match="market"):
        MapFilters.from_inputs(markets=[1, 2])
    assert parse_bounds([[30, -110], [40, -90]]) == (30.0, -110.0, 40.0, -90.0)
    assert parse_bounds(None) is None
    for bad in ([[40, 0], [30, 1]], "x", [[1, 2]], [[float("nan"), 0], [1, 1]]):
        with pytest.raises(MapInputError):
            parse_bounds(bad)


def test_kpis_follow_filters_and_bounds(map_fleet):
    data = _data(map_fleet)
    with map_fleet.db.session() as s:
        status = status_payload(site_frame(s))
    everything = kpis(data, status, MapFilters(), None)
    # generating capacity on the map: 6 + 8.2 + 20 MW (substation and unplotted sites excluded)
    assert everything["capacity_mw"] == pytest.approx(34.2)
    assert everything["output_mw"] == pytest.approx(3.0 + 2.05)
    assert everything["sites"] == 4 and everything["assets"] == 9 and everything["not_on_map"] == 3
    assert everything["by_status"] == {"producing": 2, "no data": 2}
    texas = kpis(data, status, MapFilters(), (25.0, -107.0, 37.0, -93.0))
    assert texas["sites"] == 2 and texas["output_mw"] == pytest.approx(3.0) and texas["capacity_mw"] == pytest.approx(6.0)
    wind = kpis(data, status, MapFilters(kinds=("wind",)), None)
    assert wind["sites"] == 1 and wind["output_mw"] == pytest.approx(2.05) and wind["not_on_map"] == 1
    nodata = kpis(data, status, MapFilters(statuses=("no data",)), None)
    assert nodata["sites"] == 2 and nodata["output_mw"] == 0.0
    big = kpis(data, status, MapFilters(cap_min_mw=10.0), None)
    assert big["sites"] == 2  # Bay Storage 20 MW and the 100 MW substation
    # a view that wraps past 180° east still finds Europe 360° further on
    wrapped = kpis(data, status, MapFilters(), (40.0, 360.0 + 0.0, 55.0, 360.0 + 10.0))
    assert wrapped["sites"] == 1


def test_filter_options(map_fleet):
    opts = filter_options(_data(map_fleet))
    assert opts["kinds"] == ["solar", "wind", "storage", "substation"]
    assert opts["markets"] == ["CAISO", "EPEX", "ERCOT"] and "Texas" in opts["regions"]
    assert opts["capacity"] == [0.0, 100.0]


def test_search_sites_and_assets_offline(map_fleet):
    data = _data(map_fleet)
    hits = search(data, "ridge")
    assert hits[0]["type"] == "site" and hits[0]["id"] == "m-wind" and hits[0]["on_map"]
    asset = search(data, "m-bess-BAT-2")
    assert asset[0]["type"] == "asset" and asset[0]["site_id"] == "m-bess" and asset[0]["zoom"] == 17
    lost = search(data, "lost solar")
    assert lost[0]["on_map"] is False and lost[0]["lat"] is None
    wtg = search(data, "WTG", limit=3)
    assert len(wtg) == 3 and all(h["type"] == "asset" for h in wtg)
    assert search(data, "   ") == []
    with pytest.raises(MapInputError):
        search(data, "x" * 101)


def test_portfolio_scope_restricts_everything(map_fleet):
    data = _data(map_fleet)
    scoped = data.restricted({"m-wind", "m-nocoord"})
    assert scoped.sites["site_id"].to_list() == ["m-nocoord", "m-wind"]
    assert set(scoped.assets["asset_id"].str.slice(0, 6).to_list()) == {"m-wind"}
    cols = orjson.loads(scoped.columns_json())
    assert all(cols["sites"]["id"][i] == "m-wind" for i in cols["assets"]["site"])
    assert [r["site_id"] for r in scoped.not_on_map()] == ["m-nocoord"]
    assert scoped.version != data.version
    assert CACHE.status(map_fleet.db, {"m-wind"})["sites"].keys() == {"m-wind"}
    # the server's opening view of a scoped caller holds only that caller's points
    index = scoped.cluster_index(60, 14)
    items = scoped.view(index, CACHE.status(map_fleet.db, {"m-wind"}), [-180, -85, 180, 85], 3)
    assert sum(it["n"] if it["c"] else 1 for it in items) == scoped.assets.height == 4


def test_status_is_kept_warm_while_the_map_is_in_use(map_fleet, monkeypatch):
    import time

    from data import map_queries

    monkeypatch.setattr(map_queries, "STATUS_REFRESH_S", 0.05)
    first = CACHE.status(map_fleet.db)
    read_at = CACHE._status[map_fleet.db.url][0]
    deadline = time.monotonic() + 5
    while CACHE._status[map_fleet.db.url][0] == read_at and time.monotonic() < deadline:
        time.sleep(0.02)
    assert CACHE._status[map_fleet.db.url][0] > read_at, "the status was not re-read in the background"
    assert CACHE.status(map_fleet.db)["sites"].keys() == first["sites"].keys()
    # nobody reads it any more: the refresh stops
    monkeypatch.setattr(map_queries, "STATUS_KEEP_WARM_S", 0.0)
    thread = CACHE._refreshers[map_fleet.db.url]
    thread.join(timeout=5)
    assert not thread.is_alive()
