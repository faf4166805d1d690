"""The fleet map in a real headless Chromium: clusters, click-through, filters, search, not-on-map."""
from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

pytestmark = pytest.mark.browser


def _stats(dash_duo):
    return dash_duo.driver.execute_script("return window.fleetMap.stats()")


def _choose(dash_duo, dropdown: str, label: str) -> None:
    """Open a dcc.Dropdown and click the option labelled ``label``."""
    dash_duo.find_element(dropdown).click()
    until(lambda: dash_duo.driver.find_elements("css selector", ".dash-dropdown-option"), timeout=5)
    option = next(o for o in dash_duo.driver.find_elements("css selector", ".dash-dropdown-option") if o.text.strip() == label)
    option.click()
    ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()


def _open_map(dash_duo, browser_sign_in):
    browser_sign_in("viewer", "/map")
    dash_duo.wait_for_element("#map-map", timeout=15)
    until(lambda: _stats(dash_duo)["clusters"] + _stats(dash_duo)["points"] > 0, timeout=15)


def test_clusters_show_mw_and_status_then_click_through(dash_duo, dash_app, map_fleet, browser_sign_in):
    _open_map(dash_duo, browser_sign_in)
    stats = _stats(dash_duo)
    assert stats["indexed"] == 10  # 9 assets + the substation without assets; 3 sites not on the map
    clusters = dash_duo.driver.find_elements("css selector", ".fl-cluster:not(.fl-pending)")
    assert clusters, "no styled cluster at the initial zoom"
    labels = " ".join(c.text for c in clusters)
    assert "MW" in labels
    # Mesa Solar produces 3 MW, Ridge Wind 2.05 MW: some cluster sums those figures (two or three digits)
    assert any(t in labels for t in ("3.0 MW", "2.0 MW", "2.1 MW", "5.0 MW", "5.1 MW")), labels
    # every label fits inside its cluster's core (the ring is 6 px wide, the core's edge 1.5 px)
    overflow = dash_duo.driver.execute_script("""
        return Array.from(document.querySelectorAll('.fl-cluster')).map(function (c) {
          var b = c.querySelector('.fl-cluster-label b'), s = c.querySelector('.fl-cluster-label small');
          return [b.textContent, c.offsetWidth - 15, b.getBoundingClientRect().width, s.getBoundingClientRect().width];
        }).filter(function (r) { return r[2] > r[1] || r[3] > r[1]; });""")
    assert overflow == [], overflow
    # the longest labels the format makes fit the smallest cluster (58 px: a 43 px core)
    widths = dash_duo.driver.execute_script("""
        var out = {}, host = document.querySelector('.fl-cluster').parentNode;
        ['845 MW', '9.9 MW', '1.2 GW', '12 GW', '999 GW'].forEach(function (t) {
          var c = document.createElement('div'); c.className = 'fl-cluster'; c.style.width = '58px';
          c.innerHTML = '<div class="fl-cluster-label"><b>' + t.replace(' ', '&nbsp;') + '</b><small>120k</small></div>';
          host.appendChild(c); out[t] = c.querySelector('b').getBoundingClientRect().width; c.remove();
        });
        return out;""")
    assert all(w <= 43 for w in widths.values()), widths
    # clusters do not cover each other (the cluster radius is wider than the largest icon)
    covered = dash_duo.driver.execute_script("""
        var r = Array.from(document.querySelectorAll('.fl-cluster')).map(function (c) { return c.getBoundingClientRect(); });
        var out = [];
        for (var i = 0; i < r.length; i++) for (var j = i + 1; j < r.length; j++) {
          var w = Math.min(r[i].right, r[j].right) - Math.max(r[i].left, r[j].left);
          var h = Math.min(r[i].bottom, r[j].bottom) - Math.max(r[i].top, r[j].top);
          if (w > 8 && h > 8) out.push([i, j, w, h]);
        }
        return out;""")
    assert covered == [], covered
    assert any("fl-worst-" in c.get_attribute("class") for c in clusters)
    # zoom to a site through search, then click one of its assets
    box = dash_duo.find_element("#map-search")
    box.send_keys("Bay Storage")
    dash_duo.wait_for_contains_text("#map-hits", "Bay Storage", timeout=10)
    box.send_keys(Keys.ENTER)
    until(lambda: len(dash_duo.driver.find_elements("css selector", ".fl-point.fl-kind-battery")) == 2, timeout=10)
    point = dash_duo.driver.find_elements("css selector", ".fl-point.fl-kind-battery")[0]
    ActionChains(dash_duo.driver).move_to_element(point).perform()
    dash_duo.wait_for_contains_text(".leaflet-tooltip", "Bay Storage", timeout=5)
    tip = dash_duo.find_element(".leaflet-tooltip").text
    assert "battery" in tip and "no data" in tip and "of 10.0 MW" in tip
    point.click()
    dash_duo.wait_for_text_to_equal("#site-title", "Bay Storage", timeout=10)
    assert dash_duo.driver.current_url.endswith("/sites/m-bess")


def test_filters_recluster_and_update_kpis(dash_duo, dash_app, map_fleet, browser_sign_in):
    _open_map(dash_duo, browser_sign_in)
    dash_duo.wait_for_text_to_equal("#map-kpi-sites", "4", timeout=10)
    _choose(dash_duo, "#map-f-kinds", "Wind")
    dash_duo.wait_for_text_to_equal("#map-kpi-sites", "1", timeout=10)
    until(lambda: _stats(dash_duo)["indexed"] == 4, timeout=10)  # the four Ridge Wind turbines
    assert "2.0 MW" in dash_duo.find_element("#map-kpi-output").text  # 2.05 MW
    dash_duo.find_element("#map-f-reset").click()
    dash_duo.wait_for_text_to_equal("#map-kpi-sites", "4", timeout=10)
    until(lambda: _stats(dash_duo)["indexed"] == 10, timeout=10)


def test_search_finds_assets_and_flies_there(dash_duo, dash_app, map_fleet, browser_sign_in):
    _open_map(dash_duo, browser_sign_in)
    dash_duo.find_element("#map-search").send_keys("m-wind-WTG-3\n")
    dash_duo.wait_for_contains_text("#map-hits", "WTG-3", timeout=10)
    dash_duo.find_element("#map-hits .list-group-item").click()
    until(lambda: dash_duo.driver.execute_script("return window.fleetMap.state.map.getZoom()") == 17, timeout=10)
    center = dash_duo.driver.execute_script("var c = window.fleetMap.state.map.getCenter(); return [c.lat, c.lng]")
    assert abs(center[0] - 48.4461) < 0.01 and abs(center[1] - 5.5925) < 0.01
    until(lambda: len(dash_duo.driver.find_elements("css selector", ".fl-point.fl-kind-turbine")) >= 1, timeout=10)
    box = dash_duo.find_element("#map-search")
    box.clear()
    box.send_keys("no-such-thing\n")
    dash_duo.wait_for_contains_text("#map-search-note", "No site, asset", timeout=10)


def test_not_on_map_panel_lists_bad_coordinates(dash_duo, dash_app, map_fleet, browser_sign_in):
    _open_map(dash_duo, browser_sign_in)
    panel = dash_duo.find_element("#map-notonmap")
    assert dash_duo.find_element("#map-notonmap-count").text == "3"
    text = panel.text
    assert "Lost Solar" in text and "missing" in text
    assert "Swapped Wind" in text and "latitude out of range" in text
    assert "Zero Island Solar" in text and "placeholder (0, 0)" in text
    dash_duo.find_element("#map-notonmap a[href='/sites/m-nocoord']").click()
    dash_duo.wait_for_text_to_equal("#site-title", "Lost Solar", timeout=10)
    assert not [e for e in dash_duo.get_logs() or [] if e["level"] == "SEVERE" and "_map" in e["message"]]


def test_live_diff_restyles_clusters_in_place(dash_duo, dash_app, map_fleet, browser_sign_in):
    _open_map(dash_duo, browser_sign_in)
    # the live subscription (room "map") starts once the first markers are drawn
    until(lambda: dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".some(function (e) { return e.name.indexOf('/socket.io/?') >= 0; })"),
        timeout=10)
    before = _stats(dash_duo)["version"]
    changed = {sid: {"status": "offline", "output_mw": 0.0} for sid in ("m-sol", "m-wind", "m-bess", "m-sub")}
    text = dash_duo.driver.execute_script(
        "return window.dash_clientside.fleetMap.live({ts: '2026-01-01T00:00:00Z', changed: arguments[0]})", changed)
    assert "4 site(s) changed" in text
    until(lambda: _stats(dash_duo)["version"] > before, timeout=10)
    clusters = dash_duo.driver.find_elements("css selector", ".fl-cluster")
    assert clusters and all("fl-worst-offline" in c.get_attribute("class") for c in clusters)
    assert all("0 MW" in c.text for c in clusters)


def test_map_reached_by_client_side_navigation(dash_duo, dash_app, map_fleet, browser_sign_in):
    browser_sign_in("viewer", "/")
    dash_duo.wait_for_element(".shell-navbar", timeout=15)
    assert dash_duo.driver.execute_script("return window.fleetMapBoot === undefined")  # no boot script off /map
    dash_duo.driver.execute_script(
        "window.history.pushState({}, '', '/map'); window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'))")
    dash_duo.wait_for_element("#map-map", timeout=15)
    until(lambda: _stats(dash_duo)["clusters"] + _stats(dash_duo)["points"] > 0, timeout=15)
    assert _stats(dash_duo)["indexed"] == 10 and _stats(dash_duo)["state"] == "ready"


def test_link_followed_at_once_waits_for_the_deferred_libraries(dash_duo, dash_app, map_fleet, browser_sign_in):
    """/map starts without AG Grid and Socket.IO; a page that needs them still renders when left at once."""
    browser_sign_in("viewer", "/map")
    dash_duo.wait_for_element(".shell-navbar", timeout=15)
    dash_duo.find_element(".shell-navbar .navbar-brand").click()  # a client-side link to the overview
    dash_duo.wait_for_element(".ag-row", timeout=20)  # its site table is an AG Grid
    assert dash_duo.driver.execute_script("return !!window.dash_ag_grid && !!window.dash_socketio")
    assert not [e for e in dash_duo.get_logs() or [] if e["level"] == "SEVERE" and e["source"] != "network"]  # tiles: offline


_WORKER_VIEW_JS = """
var done = arguments[arguments.length - 1], w = window.fleetMap.state.worker;
w.addEventListener("message", function answer(e) {
  if (e.data.type !== "clusters" || e.data.seq !== -7) return;
  w.removeEventListener("message", answer);
  done(e.data.items);
});
w.postMessage({type: "clusters", seq: -7, zoom: 3, bbox: [-180, -85, 180, 85]});
"""
_FETCH_JS = """
var done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: "same-origin"}).then(function (r) {
  return r.status === 200 ? r.json().then(function (doc) { done({status: 200, doc: doc}); }) : done({status: r.status});
});
"""


def _comparable(items):
    out = {}
    for it in items:
        key = ("c" if it["c"] else "p", it["id"])
        rest = {k: v for k, v in it.items() if k not in ("lat", "lng", "a", "out")}
        out[key] = (rest, round(it["lat"], 6), round(it["lng"], 6), [round(x, 3) for x in it.get("a", [])],
                    None if it.get("out") is None else round(it["out"], 4))
    return out


def test_second_visit_draws_the_servers_opening_view_and_it_equals_the_workers(dash_duo, dash_app, map_fleet,
                                                                                 browser_sign_in):
    _open_map(dash_duo, browser_sign_in)  # the first visit after a fleet change: the server indexes meanwhile
    until(lambda: dash_duo.driver.execute_async_script(_FETCH_JS, "/_map/opening.json")["status"] == 200, timeout=15)
    dash_duo.driver.get(dash_duo.server.url + "/map")
    until(lambda: _stats(dash_duo)["marks"].get("openingDrawn") is not None, timeout=15)
    until(lambda: _stats(dash_duo)["state"] == "ready", timeout=15)
    marks = _stats(dash_duo)["marks"]
    assert marks["openingDrawn"] < marks["workerReady"]  # drawn before the worker had indexed
    opening = dash_duo.driver.execute_async_script(_FETCH_JS, "/_map/opening.json")["doc"]
    worker = dash_duo.driver.execute_async_script(_WORKER_VIEW_JS)
    assert _comparable(opening["items"]) == _comparable(worker)
    assert dash_duo.driver.find_elements("css selector", ".fl-cluster") or dash_duo.driver.find_elements("css selector", ".fl-point")
    logs = [e for e in dash_duo.get_logs() if e["level"] == "SEVERE" and e.get("source") != "network"]  # no tiles offline
    assert logs == [], logs
