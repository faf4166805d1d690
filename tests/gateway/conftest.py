"""Fixtures of the gateway tests: the local provider server, live settings, a gateway and a database."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from provider_server import ProviderServer, live_settings  # noqa: E402


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
def store_db(request, tmp_path):
    """A migrated Database: the shared ``db`` fixture when tests/conftest.py provides it, else SQLite here."""
    try:
        shared = request.getfixturevalue("db")
    except pytest.FixtureLookupError:
        shared = None
    if shared is not None:
        yield shared
        return
    from data.db import Database
    from data.models import Base

    database = Database("sqlite:///" + str(tmp_path / "gw.db"))
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


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
