"""Pushes in a real headless Chromium: the live page, reconnect catch-up, stale banner, markets."""
from __future__ import annotations

import datetime as dt

import pytest
from dash.testing.wait import until

from data.models import utcnow
from ingest.validation import ValidPoint
from tests.support.fleet import SOLAR_ASSETS, WIND_ASSETS

pytestmark = pytest.mark.browser


def _submit(services, asset: str, kw: float, ts: dt.datetime) -> None:
    services.ingest.submit_points([ValidPoint(asset, "power_kw", ts, kw)], "test")


def _text(dash_duo, selector: str) -> str:
    """Return the visible text of the first element matching ``selector`` ("" when there is none).

    Read in one script call: pushes re-render the rows, so a WebElement found first and read later
    can already be detached (StaleElementReferenceException).
    """
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0]); return el ? el.innerText.trim() : '';", selector)


def _cell(dash_duo, site: str, col: str = "output_mw") -> str:
    return _text(dash_duo, f'#lv-site-grid .ag-row[row-id="{site}"] [col-id="{col}"]')


def _row(dash_duo, grid: str, row_id: str) -> str:
    return _text(dash_duo, f'#{grid} .ag-center-cols-container .ag-row[row-id="{row_id}"]')


def test_live_page_receives_pushes_and_catches_up_after_reconnect(dash_duo, dash_app, live_hub, small_fleet,
                                                                 browser_sign_in):
    old = utcnow().replace(microsecond=0) - dt.timedelta(minutes=20)
    _submit(small_fleet, SOLAR_ASSETS[0], 100.0, old)
    browser_sign_in("viewer", "/live")
    dash_duo.wait_for_contains_text("#lv-site-grid", "Test Solar", timeout=15)
    # data stopped 20 minutes ago: the banner says so
    until(lambda: "Stale data" in _text(dash_duo, "#fl-live-banner"), timeout=10)
    assert "stale" in _row(dash_duo, "lv-site-grid", "t-sol")

    # a push arrives in the DOM without reload
    now = utcnow().replace(microsecond=0)
    _submit(small_fleet, SOLAR_ASSETS[0], 1234.0, now)
    until(lambda: _cell(dash_duo, "t-sol") == "1.23", timeout=10)
    until(lambda: dash_duo.driver.execute_script(
        "const el = document.querySelector('#fl-live-banner'); return el && el.dataset.state;") == "live", timeout=10)
    assert "producing" in _row(dash_duo, "lv-site-grid", "t-sol")
    until(lambda: "updated" in _cell(dash_duo, "t-sol", "freshness"), timeout=3)
    dash_duo.wait_for_text_to_equal("#lv-kpi-output-value", "1.2 MW", timeout=10)

    # reconnect catch-up: pushes stop, the connection drops, data changes meanwhile;
    # the page must show the new value from the full state sent on reconnect
    live_hub.stop()
    _submit(small_fleet, WIND_ASSETS[0], 1750.0, now + dt.timedelta(seconds=1))
    eio = live_hub.socketio.server.eio
    for sock in list(eio.sockets.values()):
        sock.close(wait=False, abort=True)
    until(lambda: _cell(dash_duo, "t-wind") == "1.75", timeout=20)
    live_hub.start()
    logs = [e for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
    assert logs == [], logs


def test_markets_page_shows_prices_spread_and_revenue(dash_duo, dash_app, live_hub, small_fleet, browser_sign_in):
    from core.settings import get_settings
    from live.price_feed import PRICES_TOPIC, PriceFeed, load_price_book
    from live.prices import PriceStore

    store = PriceStore(small_fleet.db, live_hub)
    small_fleet.bus.subscribe(PRICES_TOPIC, store.handle_message, group="store")
    live_hub.extra_full_state["markets"] = store.full_state
    PriceFeed(small_fleet.bus, load_price_book(get_settings().demo_data_dir)).publish_due(dt.datetime.now(dt.UTC))
    _submit(small_fleet, SOLAR_ASSETS[0], 1000.0, utcnow().replace(microsecond=0))
    browser_sign_in("analyst", "/markets")
    dash_duo.wait_for_contains_text("#mk-node-grid", "HB_SOUTH", timeout=15)
    row = _row(dash_duo, "mk-node-grid", "ERCOT|HB_SOUTH")
    assert "USD/MWh" in row
    # the test solar site sells at HB_SOUTH: the revenue rate (server text, fleet and per market) is shown
    until(lambda: "USD/h" in _text(dash_duo, "#mk-kpi-revenue-value"), timeout=10)
    until(lambda: "USD/h" in _text(dash_duo, '#mk-market-rows tr[data-market="ERCOT"]'), timeout=10)
    rows = _text(dash_duo, "#mk-node-grid")
    assert "EPEX" in rows and "CAISO" in rows
    dash_duo.wait_for_contains_text("#mk-chart", "day-ahead vs real-time", timeout=10)
