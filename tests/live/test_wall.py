"""The wall display: reachable by a wall screen, filled by push, alerts listed."""
from __future__ import annotations

import datetime as dt

import pytest

from data.models import Alert, Event


def test_alerts_panel_lists_open_alerts_and_events(small_fleet):
    from callbacks.wall import recent_alerts

    with small_fleet.db.session() as s:
        s.add(Alert(site_id="t-sol", rule="underperformance", severity="critical", title="Inverter 2 below expected"))
        s.add(Event(actor="system", kind="integration.failed", entity_type="provider", entity_id="ercot",
                    payload={"message": "ercot: 401 invalid subscription key"}))
        s.add(Event(actor="system", kind="user.signed_in", entity_type="user", entity_id="x",
                    ts=dt.datetime.now(dt.UTC)))
    items = recent_alerts()
    titles = [i["title"] for i in items]
    assert "Inverter 2 below expected" in titles
    assert any("401 invalid subscription key" in t for t in titles)
    assert not any("signed_in" in t for t in titles)


@pytest.mark.browser
def test_wall_screen_fills_by_push(dash_duo, dash_app, live_hub, small_fleet, browser_sign_in):
    from ingest.validation import ValidPoint

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    small_fleet.ingest.submit_points(
        [ValidPoint(a, "power_kw", now, 750.0) for a in ("t-sol-INV-01", "t-sol-INV-02")], "test")
    browser_sign_in("wall", "/wall")
    dash_duo.wait_for_element("#wall-root", timeout=15)
    dash_duo.wait_for_text_to_equal("#wall-kpi-output", "1.5 MW", timeout=20)
    dash_duo.wait_for_contains_text("#wall-board", "ERCOT", timeout=10)
    assert not dash_duo.find_element(".shell-navbar").is_displayed()
    # a later measurement arrives by push, with no reload or click
    small_fleet.ingest.submit_points(
        [ValidPoint("t-sol-INV-03", "power_kw", now + dt.timedelta(seconds=1), 500.0)], "test")
    dash_duo.wait_for_text_to_equal("#wall-kpi-output", "2.0 MW", timeout=20)
