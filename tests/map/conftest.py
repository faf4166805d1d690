"""Fixtures of the map tests: a small fleet with live output and bad coordinates; cache reset."""
from __future__ import annotations

import pytest

from data.map_queries import CACHE
from tests.map.fleets import make_map_fleet


@pytest.fixture(autouse=True)
def _fresh_map_cache():
    CACHE.clear()
    yield
    CACHE.clear()


@pytest.fixture()
def map_fleet(services):
    """Install the map test fleet (Mesa Solar producing at 50 %, Ridge Wind at 25 %) in the test database."""
    make_map_fleet(services.db, live={"m-sol": 0.5, "m-wind": 0.25})
    return services


MAP_PASSWORD = "correct-horse-battery-9"


@pytest.fixture()
def map_client(dash_app, map_fleet):
    """Return a Flask test client signed in as a viewer, on the map test fleet."""
    import re

    from data.models import Role
    from security.users import create_user

    create_user(map_fleet.db, "map-viewer", MAP_PASSWORD, Role.viewer)
    client = dash_app.server.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"username": "map-viewer", "password": MAP_PASSWORD, "csrf_token": token,
                                           "next": "/map"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client
