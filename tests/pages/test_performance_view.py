"""The /performance view assembly (callbacks.performance.performance_view) on stored rows, without a browser."""
from __future__ import annotations

from callbacks.performance import performance_view
from domain.performance_kpis import kpi_order
from tests.support.fleet import WIND_ASSETS
from tests.support.performance_rows import DAY, Q, rollup


def _store_wind(db) -> None:
    with db.session() as s:
        for aid in WIND_ASSETS:
            for i in range(8):
                t = DAY + i * Q
                s.add(rollup(aid, "wind_speed_ms", t, 8.0 + 0.05 * i, count=10, spread=0.3))
                s.add(rollup(aid, "power_kw", t, 900.0 + 5 * i, energy=(900.0 + 5 * i) / 4, count=10, spread=20.0))


def test_a_wind_site_shows_its_measured_power_curves(small_fleet):
    _store_wind(small_fleet.db)
    view = performance_view("site:t-wind", "2026-06-01", "2026-06-01", "1d", "light")
    names = [trace.name for trace in view["curves"].data]
    assert "WTG-01 measured" in names and "WTG-02 measured" in names
    assert any(n.startswith("WTG-01 reference (generic)") for n in names)
    assert view["curves_note"].startswith("2 turbines, 16 intervals kept")
    assert len(view["values"]) == len(kpi_order())


def test_a_portfolio_shows_no_curves_and_bad_dates_say_why(small_fleet):
    _store_wind(small_fleet.db)
    view = performance_view("portfolio:test", "2026-06-01", "2026-06-01", "1d", "dark")
    assert view["curves_note"] == "" and view["curves"].layout.annotations
    bad = performance_view("site:t-wind", "2026-06-02", "2026-06-01", "1d", "light")
    assert bad["note"] == "The end date is before the start date." and bad["values"][0] == "—"
    unknown = performance_view("site:nope", "2026-06-01", "2026-06-01", "1d", "light")
    assert unknown["note"] == "Choose a site or portfolio you can see."
