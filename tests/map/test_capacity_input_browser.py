"""The map's capacity inputs in a real headless Chromium: a minimum typed above the maximum is
not taken silently: the slider holds it at the maximum and a note under it says so, with both numbers."""
from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

pytestmark = pytest.mark.browser


def _text(dash_duo, selector: str) -> str:
    """Return the element's text in one script call (the KPI card re-renders: a found element can go stale)."""
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0]); return el ? el.innerText.trim() : '';", selector)


def test_minimum_above_maximum_shows_a_message(dash_duo, dash_app, map_fleet, browser_sign_in):
    browser_sign_in("viewer", "/map")
    dash_duo.driver.set_window_size(1600, 1000)  # the slider shows its number inputs in a wide enough column
    dash_duo.wait_for_text_to_equal("#map-kpi-sites", "4", timeout=15)
    lo = dash_duo.find_element("#map-f-capacity-wrap input.dash-range-slider-min-input")
    hi = dash_duo.find_element("#map-f-capacity-wrap input.dash-range-slider-max-input")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", hi)
    hi.send_keys(Keys.CONTROL, "a")
    hi.send_keys("10", Keys.TAB)
    until(lambda: _text(dash_duo, "#map-kpi-sites") == "2", timeout=10)  # Mesa 6 MW, Ridge 8.2 MW
    assert _text(dash_duo, "#map-f-capacity-note") == ""
    lo.send_keys(Keys.CONTROL, "a")
    lo.send_keys("15", Keys.TAB)
    until(lambda: "Minimum 15 MW is above the maximum 10 MW" in _text(dash_duo, "#map-f-capacity-note"),
          timeout=5)
    # a valid minimum clears the note
    lo.send_keys(Keys.CONTROL, "a")
    lo.send_keys("7", Keys.TAB)
    until(lambda: _text(dash_duo, "#map-f-capacity-note") == "", timeout=5)
    until(lambda: _text(dash_duo, "#map-kpi-sites") == "1", timeout=10)
