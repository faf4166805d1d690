"""/admin/dead-letters in a real headless Chromium: after a replay (failed or not) and a reload that
reorders the table, the selected radio, the detail pane and the next replay name the same dead letter."""
from __future__ import annotations

import datetime as dt

import pytest
from dash.testing.wait import until
from sqlalchemy import select

from data.models import Asset, AssetKind, DeadLetter

pytestmark = pytest.mark.browser


def _ts(minutes_ago: int) -> str:
    return (dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=minutes_ago)).isoformat()


def _reject(services, asset_id: str, minutes_ago: int) -> None:
    report = services.ingest.submit_rows(
        [{"asset_id": asset_id, "metric": "power_kw", "ts": _ts(minutes_ago), "value": 1.0}], source="api:test")
    assert len(report.rejected) == 1


def _selected_id(dash_duo) -> str:
    """Return the Id cell of the row whose radio is checked ('' when none is)."""
    return dash_duo.driver.execute_script("""
        const radio = document.querySelector('#dl-table td.dash-select-cell input:checked');
        if (!radio) return '';
        const cell = radio.closest('tr').querySelector('td[data-dash-column="id"]');
        return cell ? cell.innerText.trim() : '?';""")


def _text(dash_duo, selector: str) -> str:
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0]); return el ? el.innerText.trim() : '';", selector)


def _click_radio_of(dash_duo, dead_letter_id: int) -> None:
    dash_duo.driver.execute_script("""
        for (const row of document.querySelectorAll('#dl-table tr')) {
            const cell = row.querySelector('td[data-dash-column="id"]');
            if (cell && cell.innerText.trim() === arguments[0]) { row.querySelector('td.dash-select-cell input').click(); }
        }""", str(dead_letter_id))


def _attempts(services, dead_letter_id: int) -> int:
    with services.db.session() as s:
        return s.execute(select(DeadLetter.attempts).where(DeadLetter.id == dead_letter_id)).scalar_one()


def test_selection_detail_and_next_replay_follow_the_same_row(dash_duo, small_fleet, browser_sign_in):
    for k in range(3):
        _reject(small_fleet, f"t-sol-INV-9{k}", k + 1)  # dead letters 1, 2, 3 (listed 3, 2, 1)
    browser_sign_in("admin", "/admin/dead-letters")
    until(lambda: "t-sol-INV-92" in _text(dash_duo, "#dl-table"), timeout=15)
    _click_radio_of(dash_duo, 2)
    until(lambda: "id 2 " in _text(dash_duo, "#dl-detail-meta"), timeout=10)
    assert _selected_id(dash_duo) == "2" and "attempts 1" in _text(dash_duo, "#dl-detail-meta")

    # meanwhile a new dead letter arrives: after the replay's reload it is listed first, moving row 2 down
    _reject(small_fleet, "t-sol-INV-99", 9)
    dash_duo.find_element("#dl-replay").click()
    until(lambda: "Dead letter 2 not replayed" in _text(dash_duo, "#dl-result"), timeout=10)
    assert "unknown asset 't-sol-INV-91'" in _text(dash_duo, "#dl-result")
    until(lambda: "t-sol-INV-99" in _text(dash_duo, "#dl-table"), timeout=10)
    until(lambda: "attempts 2" in _text(dash_duo, "#dl-detail-meta"), timeout=10)
    assert _selected_id(dash_duo) == "2" and "id 2 " in _text(dash_duo, "#dl-detail-meta")
    assert "unknown asset" in _text(dash_duo, "#dl-detail")  # its last error
    assert _attempts(small_fleet, 2) == 2 and _attempts(small_fleet, 3) == 1  # counted on the row shown

    # fixed upstream: the next replay acts on dead letter 2, and the page still shows dead letter 2
    with small_fleet.db.session() as s:
        s.add(Asset(id="t-sol-INV-91", site_id="t-sol", name="t-sol-INV-91", kind=AssetKind.inverter,
                    capacity_kw=1000.0))
    small_fleet.ingest.assets.refresh()
    dash_duo.find_element("#dl-replay").click()
    until(lambda: "Dead letter 2 resubmitted" in _text(dash_duo, "#dl-result"), timeout=10)
    until(lambda: "replayed" in _text(dash_duo, "#dl-detail-meta"), timeout=10)
    assert _selected_id(dash_duo) == "2" and "id 2 " in _text(dash_duo, "#dl-detail-meta")
    with small_fleet.db.session() as s:
        letters = list(s.execute(select(DeadLetter).order_by(DeadLetter.id)).scalars())
    assert [d.id for d in letters] == [1, 2, 3, 4]  # no new dead letter from either replay
    assert [d.id for d in letters if d.replayed_at is not None] == [2]
    logs = [e for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
    assert logs == [], logs
