"""Sites far from the market they sell in are flagged, not drawn (data.market_regions)."""
from __future__ import annotations

import pytest

from data.map_queries import MapFilters, MapInputError, assemble_map_data
from data.market_regions import market_region_problem


def test_market_region_problem():
    assert market_region_problem("ERCOT", 30.2, -97.7) is None  # Austin
    assert market_region_problem("ercot", 48.45, 5.59).startswith("far from its market ercot")
    assert market_region_problem("EPEX", 35.4, -118.9) is not None  # a Californian site sold in Europe
    assert market_region_problem("NYISO", 0.5, 0.5) is None  # not a checked market
    assert market_region_problem(None, 10.0, 10.0) is None


def test_far_from_market_is_listed_not_on_map():
    sites = [("ok", "Austin Solar", "solar", "ERCOT", "Texas", "US", 5.0, 30.2, -97.7),
             ("far", "Texas Wind in France", "wind", "ERCOT", "Texas", "US", 4.0, 48.45, 5.59),
             ("swapped", "Bakersfield Storage II", "storage", "CAISO", "California", "US", 20.0, -118.94059, 35.41543)]
    data = assemble_map_data(sites, [], "v1")
    hidden = {r["site_id"]: r["problem"] for r in data.not_on_map()}
    assert set(hidden) == {"far", "swapped"}
    assert hidden["far"].startswith("far from its market ERCOT (expected lat")
    assert hidden["swapped"] == "latitude out of range"


def test_capacity_minimum_above_maximum_says_so_with_the_numbers():
    with pytest.raises(MapInputError, match=r"Minimum capacity 30 MW is above the maximum 20 MW"):
        MapFilters.from_inputs(capacity=[30, 20])
