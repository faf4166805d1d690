"""Every visible text element of the analysis and operations pages reads against its background
(WCAG AA, contrast >= 4.5:1) in the light and in the dark theme, in a real headless Chromium.
The ratio is computed in the page (tests/pages/contrast.js) from getComputedStyle: the text colour
composited over the background colours stacked beneath it."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from dash.testing.wait import until

from data.models import utcnow
from ingest.validation import ValidPoint

pytestmark = pytest.mark.browser

CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text()
PAGES = {"/": "#ov-site-table .ag-row", "/map": "#map-kpi-output", "/sites/t-sol?range=7d": "#site-range-resolution",
         "/live": "#lv-site-grid .ag-row", "/markets": "#mk-node-grid .ag-row", "/forecasts": "#fc-site",
         "/weather": "#wx-site", "/admin": "h2", "/admin/dead-letters": "h2",
         "/admin/metrics": "#om-table .ag-row", "/alerts": "#al-table .ag-row"}
MINIMUM = 4.5


def _set_theme(dash_duo, theme: str) -> None:
    switch = dash_duo.find_element("#shell-theme-switch")
    current = dash_duo.driver.execute_script("return document.documentElement.getAttribute('data-bs-theme') || 'light';")
    if current != theme:
        dash_duo.driver.execute_script("arguments[0].click();", switch)
        until(lambda: dash_duo.driver.execute_script(
            "return document.documentElement.getAttribute('data-bs-theme');") == theme, timeout=5)


def _open_first_dropdown(dash_duo) -> bool:
    """Open the first dropdown of the page (its menu's options are then checked too); False if none."""
    return dash_duo.driver.execute_script(
        "const d = document.querySelector('button.dash-dropdown'); if (!d) return false; d.click(); return true;")


def test_text_contrast_on_every_page_in_both_themes(dash_duo, dash_app, live_hub, small_fleet, browser_sign_in):
    from core.settings import get_settings
    from live.price_feed import PRICES_TOPIC, PriceFeed, load_price_book
    from live.prices import PriceStore

    store = PriceStore(small_fleet.db, live_hub)
    small_fleet.bus.subscribe(PRICES_TOPIC, store.handle_message, group="store")
    live_hub.extra_full_state["markets"] = store.full_state
    PriceFeed(small_fleet.bus, load_price_book(get_settings().demo_data_dir)).publish_due(dt.datetime.now(dt.UTC))
    now = utcnow().replace(microsecond=0)
    small_fleet.ingest.submit_points([ValidPoint("t-sol-INV-01", "power_kw", now, 900.0),
                                      ValidPoint("t-wind-WTG-01", "power_kw", now - dt.timedelta(hours=1), 300.0)], "test")
    from alerts.lifecycle import Condition, book_of

    book = book_of(small_fleet)
    book.raise_alert(Condition("threshold", None, "t-sol", "t-sol-INV-01", "critical", "INV-01 hot", "", "c:1"))
    acked = book.raise_alert(Condition("comm_loss", None, "t-wind", "t-wind-WTG-01", "warning", "WTG-01 silent", "",
                                       "c:2"))
    book.acknowledge(acked, "op", "on it")
    browser_sign_in("admin", "/live")
    problems: dict[str, list] = {}
    for theme in ("light", "dark"):
        for path, ready in PAGES.items():
            dash_duo.driver.get(dash_duo.server.url + path)
            try:
                dash_duo.wait_for_element(ready, timeout=25)
            except Exception:
                # once in a loaded CI run the overview's first rows never came after a navigation (not
                # seen again in 5 runs); this test is about colours: load the page once more
                dash_duo.driver.get(dash_duo.server.url + path)
                try:
                    dash_duo.wait_for_element(ready, timeout=25)
                except Exception:
                    raise AssertionError(f"{path} ({theme}): {ready} did not appear, twice") from None
            _set_theme(dash_duo, theme)
            time.sleep(0.6)  # theme-driven figure redraws and pushes settle
            result = dash_duo.driver.execute_script(CONTRAST_JS, MINIMUM)
            assert result["checked"] > 10, (path, theme, result)
            if result["failures"]:
                problems[f"{theme} {path}"] = result["failures"][:12]
            if _open_first_dropdown(dash_duo):
                time.sleep(0.3)
                menu = dash_duo.driver.execute_script(CONTRAST_JS, MINIMUM)
                if menu["failures"]:
                    problems[f"{theme} {path} (dropdown open)"] = menu["failures"][:12]
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
