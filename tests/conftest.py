"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when
FLEETLIGHT_TEST_DATABASE_URL is set), the process services, the app, and headless Chromium."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("FLEETLIGHT_SIMULATOR_ENABLED", "false")
os.environ.setdefault("FLEETLIGHT_SEED_ON_START", "false")
os.environ.setdefault("FLEETLIGHT_PROVIDER_POLLING_ENABLED", "false")

from connectors.recorded import register_recordings
from core import runtime
from core.settings import load_settings
from tests.support.databases import PostgresFactory, SqliteFactory

register_recordings()  # what bootstrap.build does: offline replays for gateways built by tests

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def pytest_setup_options():
    """Point dash[testing]'s selenium at Debian's headless Chromium."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--disable-quic", "--disable-sync"):
        options.add_argument(flag)
    return options


def pytest_configure(config: pytest.Config) -> None:
    """Make selenium find Debian's chromedriver."""
    if Path(CHROMEDRIVER).exists():
        os.environ["PATH"] = f"{Path(CHROMEDRIVER).parent}:{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory):
    """Return the session's database factory (PostgreSQL if configured, else SQLite)."""
    url = os.environ.get("FLEETLIGHT_TEST_DATABASE_URL", "")
    factory = PostgresFactory(url) if url.startswith("postgresql") else SqliteFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.close()


@pytest.fixture()
def db(database_factory):
    """Yield a fresh migrated Database for one test."""
    from data.map_queries import CACHE

    database = database_factory.new()
    yield database
    CACHE.clear()  # the map's caches and its status refresh thread belong to this database
    database_factory.drop(database)


@pytest.fixture()
def settings(db, tmp_path):
    """Return settings pointing at the test database, simulator and seeding off."""
    return load_settings(
        database_url=db.engine.url.render_as_string(hide_password=False), instance_dir=tmp_path / "instance",
        simulator_enabled=False, seed_on_start=False, secret_key="test-secret-key-not-for-production",
        provider_polling_enabled=False,
    )


@pytest.fixture()
def services(settings, db):
    """Install and yield the process services of role "test" (in-process bus, ingest) on the test database."""
    from bootstrap.build import build

    previous = runtime.installed()
    svc = build(settings, "test", db=db)
    yield svc
    svc.bus.close()
    runtime._current = previous


@pytest.fixture(scope="session")
def dash_app(tmp_path_factory: pytest.TempPathFactory):
    """Return the one Dash app of the test session (services are swapped per test)."""
    from bootstrap.build import build
    from bootstrap.web import create_app

    base = tmp_path_factory.mktemp("app")
    boot_settings = load_settings(database_url=f"sqlite:///{base / 'boot.db'}", instance_dir=base,
                                  simulator_enabled=False, seed_on_start=False, secret_key="test-secret",
                                  provider_polling_enabled=False)
    boot = build(boot_settings, "web")
    app = create_app(boot_settings, boot)
    app.server.config["TESTING"] = True
    return app


@pytest.fixture()
def client(dash_app, services):
    """Return a Flask test client of the app bound to this test's services."""
    return dash_app.server.test_client()


@pytest.fixture()
def small_fleet(services):
    """Create the tiny test fleet in this test's database."""
    from tests.support.fleet import make_small_fleet

    make_small_fleet(services.db)
    services.ingest.assets.refresh()
    return services


@pytest.fixture()
def ingest_token(services):
    """Return a bearer token allowed to write telemetry."""
    from data.models import Role
    from security.tokens import create_token

    return create_token(services.db, "test-ingest", ["telemetry:write", "read"], Role.operator)


BROWSER_PASSWORD = "correct-horse-battery-9"


@pytest.fixture()
def browser_sign_in(dash_duo, dash_app, services):
    """Return ``sign_in(role="viewer", path="/", username=None)``: start the app in Chromium, create a
    user with ``role`` and sign in through the form, landing on ``path``."""
    from data.models import Role
    from security.users import create_user

    started: list[bool] = []

    def sign_in(role: str = "viewer", path: str = "/", username: str | None = None) -> str:
        name = username or f"browser-{role}"
        create_user(services.db, name, BROWSER_PASSWORD, Role(role))
        if not started:
            dash_duo.start_server(dash_app, navigate=False)
            started.append(True)
        dash_duo.driver.get(dash_duo.server.url + "/login?next=" + path)
        dash_duo.wait_for_element("#login-username").send_keys(name)
        dash_duo.find_element("#login-password").send_keys(BROWSER_PASSWORD)
        dash_duo.find_element("#login-submit").click()
        return name

    return sign_in
