"""Fixtures shared by the gateway and connector tests: the local provider server, an injected
sleep, and a factory of gateways live against that server."""
from __future__ import annotations

import pytest

from tests.support.provider_server import ProviderServer, live_settings


@pytest.fixture(scope="session")
def provider_server():
    with ProviderServer() as server:
        yield server


@pytest.fixture
def server(provider_server):
    provider_server.reset()
    yield provider_server
    provider_server.reset()


@pytest.fixture
def store_db(db):
    """The migrated test database the gateway logs its calls into."""
    return db


class SleepLog:
    """Injected sleep: records what the gateway asked for and sleeps a tiny bit."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        import time

        self.calls.append(seconds)
        time.sleep(min(seconds, 0.005))


@pytest.fixture
def sleeps():
    return SleepLog()


@pytest.fixture
def make_gateway(server, store_db, sleeps):
    """Factory: a Gateway live against the local server, logging into ``store_db``."""
    from gateway import Gateway, install_gateway

    made = []

    def make(db="default", **overrides):
        gw = Gateway(live_settings(server, **overrides), db=store_db if db == "default" else db, sleep=sleeps,
                     flush_interval_s=0.05)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.close()
    install_gateway(None)
