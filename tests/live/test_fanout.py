"""Two server processes behind one Redis: a push made by either reaches clients of both."""
from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
import socketio

from data.db import Database
from data.migrate import upgrade_to_head
from data.models import Role
from security.tokens import create_token
from tests.support.fleet import SOLAR_ASSETS, make_small_fleet
from tests.support.live_services import free_port, require_redis, start_app_process, stop_process, wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]


class Screen:
    """A python-socketio client in room ``live`` recording every live_sites push."""

    def __init__(self, url: str, token: str) -> None:
        self.pushes: list[dict] = []
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("live_sites", self.pushes.append, namespace="/live")
        self.sio.connect(url, namespaces=["/live"], auth={"token": token, "rooms": ["live"]}, transports=["websocket"])

    def saw(self, site: str, mw: float) -> bool:
        return any(p["sites"].get(site, {}).get("output_mw") == mw for p in self.pushes)


@pytest.fixture()
def two_servers(tmp_path):
    redis_url = require_redis()
    import redis

    redis.Redis.from_url(redis_url).ping()
    db = Database(f"sqlite:///{tmp_path / 'shared.db'}")
    upgrade_to_head(db)
    make_small_fleet(db)
    ingest = create_token(db, "fanout-ingest", ["telemetry:write"], Role.operator)
    viewer = create_token(db, "fanout-viewer", ["read"], Role.viewer)
    db.dispose()
    env = {"FLEETLIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}", "FLEETLIGHT_REDIS_URL": redis_url,
           "FLEETLIGHT_SIMULATOR_ENABLED": "false", "FLEETLIGHT_SEED_ON_START": "false",
           "FLEETLIGHT_SECRET_KEY": "fanout-test-secret-key", "FLEETLIGHT_LOG_LEVEL": "WARNING",
           "FLEETLIGHT_PROVIDER_POLLING_ENABLED": "false"}
    ports = [free_port(), free_port()]
    procs = []
    try:
        for i, port in enumerate(ports):
            procs.append(start_app_process({**env, "FLEETLIGHT_INSTANCE_DIR": str(tmp_path / f"inst{i}")}, port,
                                           tmp_path / f"app{i}.log"))
        yield ports, ingest, viewer
    finally:
        for proc in procs:
            stop_process(proc)


def test_push_from_one_process_reaches_clients_of_both(two_servers):
    (port_a, port_b), ingest, viewer = two_servers
    on_a, on_b = Screen(f"http://127.0.0.1:{port_a}", viewer), Screen(f"http://127.0.0.1:{port_b}", viewer)
    try:
        wait_for(lambda: on_a.pushes and on_b.pushes, 10, what="full state on both")
        for port, kw in ((port_a, 432.0), (port_b, 876.0)):
            ts = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
            response = httpx.post(f"http://127.0.0.1:{port}/api/v1/telemetry", headers={"Authorization": f"Bearer {ingest}"},
                                  json={"points": [{"asset_id": SOLAR_ASSETS[0], "metric": "power_kw", "ts": ts, "value": kw}]})
            assert response.status_code == 200, response.text
            mw = kw / 1000.0
            wait_for(lambda: on_a.saw("t-sol", mw) and on_b.saw("t-sol", mw), 10,
                     what=f"the value posted to :{port} on screens of both processes")
            time.sleep(1.1)  # next value in a later second
    finally:
        on_a.sio.disconnect()
        on_b.sio.disconnect()
