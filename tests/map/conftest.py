"""Fixtures of the map tests: a small fleet with live output and bad coordinates; cache reset."""
from __future__ import annotations

import pytest

from data.map_queries import CACHE
from tests.map.fleets import make_map_fleet


@pytest.fixture(autouse=True)
def _fresh_map_cache():  # noqa: ANN202
    CACHE.clear()
    yield
    CACHE.clear()


@pytest.fixture()
def map_fleet(services):  # noqa: ANN001, ANN201
    """Install the map test fleet (Mesa Solar producing at 50 %, Ridge Wind at 25 %) in the test database."""
    make_map_fleet(services.db, live={"m-sol": 0.5, "m-wind": 0.25})
    return services
