"""Every surface shows the same numbers: the KPI tiles of the overview, /live, /markets, /wall and
the site page equal the texts of ``GET /api/v1/fleet/kpis`` for their scope, in a real headless
Chromium; then one more telemetry batch is posted and each page shows the new texts by push,
without reload or click."""
from __future__ import annotations

import datetime as dt

import pytest
from dash.testing.wait import until

from tests.pages.kpi_fleet import PV_DAY_ASSETS, SUBSTATION_METER, make_kpi_fleet, post_points

pytestmark = pytest.mark.browser


def _texts(dash_duo, scope: str) -> dict[str, str]:
    """Return {kpi key: visible text} of every KPI slot of ``scope`` on the page (read in one script call)."""
    return dash_duo.driver.execute_script(
        "const out = {}; document.querySelectorAll('[data-kpi-scope=\"' + arguments[0] + '\"][data-kpi]')"
        ".forEach((el) => { out[el.getAttribute('data-kpi')] = el.innerText.trim(); }); return out;", scope)


def _api_texts(client, token: str, scope: str, scope_id: str | None = None) -> dict[str, str]:
    query = f"scope={scope}" + (f"&id={scope_id}" if scope_id else "")
    response = client.get(f"/api/v1/fleet/kpis?{query}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["text"]


def _agrees(dash_duo, client, token: str, scope: str, scope_id: str | None, keys: set[str]) -> bool:
    """Return True once every slot of the scope on the page shows the API's text (and all ``keys`` are shown)."""
    key = scope if scope_id is None else f"{scope}:{scope_id}"
    shown = _texts(dash_duo, key)
    api = _api_texts(client, token, scope, scope_id)
    return keys <= set(shown) and all(shown[k] == api[k] for k in shown)


def _wait_agree(dash_duo, client, token, path: str, scope: str, scope_id: str | None, keys: set[str]) -> None:
    try:
        until(lambda: _agrees(dash_duo, client, token, scope, scope_id, keys), timeout=20)
    except Exception:
        shown = _texts(dash_duo, scope if scope_id is None else f"{scope}:{scope_id}")
        raise AssertionError(f"{path} {scope}:{scope_id}: page {shown} != api {_api_texts(client, token, scope, scope_id)}") from None


def _check_page(dash_duo, client, token, path: str, scopes: list[tuple[str, str | None, set[str]]], batch) -> None:
    """Open ``path``; its KPI slots must equal the API; post ``batch``; they must follow by push, no reload."""
    dash_duo.driver.get(dash_duo.server.url + path)
    for scope, scope_id, keys in scopes:
        _wait_agree(dash_duo, client, token, path, scope, scope_id, keys)
    before = {(s, i): _api_texts(client, token, s, i) for s, i, _k in scopes}
    dash_duo.driver.execute_script("window.__flNoReload = true;")
    batch()
    for scope, scope_id, keys in scopes:
        until(lambda s=scope, i=scope_id: _api_texts(client, token, s, i) != before[(s, i)], timeout=10)
        _wait_agree(dash_duo, client, token, path, scope, scope_id, keys)
    assert dash_duo.driver.execute_script("return window.__flNoReload === true;"), f"{path} reloaded"
    logs = [e for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
    assert logs == [], logs


def test_every_surface_shows_the_api_texts_and_follows_pushes(dash_duo, dash_app, client, kpi_hub, browser_sign_in,
                                                             ingest_token, admin_token):
    services = kpi_hub
    browser_sign_in("admin", "/")
    step = [0]

    def batch() -> None:
        # one more measurement of the producing PV site (and the substation meter that sees it)
        step[0] += 1
        ts = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=step[0])
        kw = 600.0 + 37.0 * step[0]
        post_points(client, ingest_token, [(PV_DAY_ASSETS[0], "power_kw", ts, kw),
                                           (SUBSTATION_METER, "power_kw", ts, kw + 700.0)])

    fleet = {"output_mw", "capacity_mw", "energy_today_mwh", "sites_reporting", "last_ts_ms"}
    _check_page(dash_duo, client, admin_token, "/", [("fleet", None, fleet)], batch)
    _check_page(dash_duo, client, admin_token, "/live",
                [("fleet", None, fleet | {"expected_mw", "output_with_expected_mw"})], batch)
    _check_page(dash_duo, client, admin_token, "/markets",
                [("fleet", None, {"revenue_rate"}),
                 ("market", "ERCOT", {"output_mw", "capacity_mw", "expected_mw", "energy_today_mwh", "revenue_rate",
                                       "sites_reporting"})], batch)
    _check_page(dash_duo, client, admin_token, "/wall",
                [("fleet", None, fleet - {"last_ts_ms"} | {"expected_mw", "revenue_rate"}), ("market", "ERCOT", {"output_mw", "capacity_mw"})], batch)
    _check_page(dash_duo, client, admin_token, "/sites/k-pv-day",
                [("site", "k-pv-day", {"output_mw", "capacity_mw", "expected_mw", "energy_today_mwh"})], batch)
    assert services.db is not None


@pytest.fixture()
def kpi_hub(dash_app, services, client, ingest_token):
    """Yield the services with the KPI fleet, its telemetry and prices stored, and a running hub (50 ms batches)."""
    from core.settings import get_settings
    from live.hub import attach_hub
    from live.price_feed import PRICES_TOPIC, PriceFeed, load_price_book
    from live.prices import PriceStore

    make_kpi_fleet(services.db)
    services.ingest.assets.refresh()
    socketio = dash_app.server.extensions["fleetlight_socketio"]
    hub = attach_hub(socketio, services)
    hub.interval_s = 0.05
    store = PriceStore(services.db, hub)
    services.bus.subscribe(PRICES_TOPIC, store.handle_message, group="store")
    hub.extra_full_state["markets"] = store.full_state
    PriceFeed(services.bus, load_price_book(get_settings().demo_data_dir)).publish_due(dt.datetime.now(dt.UTC))
    from tests.pages.kpi_fleet import history

    post_points(client, ingest_token, history(dt.datetime.now(dt.UTC).replace(microsecond=0)))
    hub.start()
    yield services
    hub.stop()


@pytest.fixture()
def admin_token(services):
    """Return a bearer token of role admin (reads every scope of /api/v1/fleet/kpis)."""
    from data.models import Role
    from security.tokens import create_token

    return create_token(services.db, "test-admin", ["*"], Role.admin)

