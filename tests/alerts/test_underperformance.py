"""The underperformance rule: the anomaly detector on the performance model's actual vs expected
energy of a PV site (daylight intervals only), run by the evaluator's scheduled job."""
from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select

from alerts.evaluator import RuleEngine
from alerts.lifecycle import AlertBook
from alerts.rules import create_rule
from alerts.underperformance import site_energy_series
from data.models import Alert, AlertState
from ingest.validation import ValidPoint
from tests.support.fleet import SOLAR_ASSETS

NOW = dt.datetime(2026, 6, 10, 20, 0, tzinfo=dt.UTC)  # 15:00 in Texas
STEP = dt.timedelta(minutes=15)


def _irradiance(ts: dt.datetime) -> float:
    local_h = (ts.hour + ts.minute / 60 - 5) % 24  # CDT
    return max(0.0, 950 * math.sin(math.pi * (local_h - 6.5) / 13.5)) if 6.5 < local_h < 20 else 0.0


def test_scheduled_detector_raises_an_ongoing_shortfall_in_daylight_only(small_fleet):
    svc = small_fleet
    start = NOW - dt.timedelta(hours=72)
    times = [start + i * STEP for i in range(int((NOW - start) / STEP) + 1)]
    weather = [ValidPoint("t-sol-MTR", "irradiance_wm2", t, _irradiance(t)) for t in times] + \
              [ValidPoint("t-sol-MTR", "temperature_c", t, 25.0) for t in times]
    svc.ingest.submit_points(weather, "test")
    with svc.db.read_session() as s:
        _actual, expected, _cap = site_energy_series(s, "t-sol", start, NOW + STEP)
    assert len(expected) > 100  # the performance model gave an expectation from the weather
    # output follows the expectation at 92 %, then drops to 40 % for the last 4 daylight hours
    points = []
    for t in times:
        kwh = float(expected.get(t, 0.0))
        factor = 0.4 if t >= NOW - dt.timedelta(hours=4) else 0.92
        for aid in SOLAR_ASSETS:
            points.append(ValidPoint(aid, "power_kw", t, kwh * 4 / len(SOLAR_ASSETS) * factor))
    svc.ingest.submit_points(points, "test")
    rule = create_rule(svc.db, {"kind": "underperformance", "name": "Under", "site_id": "t-sol"}, "system")
    engine = RuleEngine(svc.db, AlertBook(svc.db, svc.bus))
    engine.load()
    assert engine.underperformance(NOW + dt.timedelta(minutes=1)) == {"raised": 1, "cleared": 0}
    with svc.db.read_session() as s:
        (alert,) = s.execute(select(Alert)).scalars().all()
    assert alert.rule_id == rule["id"] and alert.site_id == "t-sol" and alert.state == AlertState.open
    assert "below expected" in alert.title and "energy lost" in alert.message
    # the same episode on the next run: still one alert
    engine.underperformance(NOW + dt.timedelta(minutes=16))
    with svc.db.read_session() as s:
        assert len(s.execute(select(Alert)).scalars().all()) == 1
