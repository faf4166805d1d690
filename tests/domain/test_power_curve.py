"""Measured power curve (IEC 61400-12-1 style bins) of one turbine from stored rollup rows, by hand."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from data.performance_queries import rollup_frame
from domain.expected import ReferenceCurve
from domain.power_curve import measured_curve
from domain.quality import flag_rollups
from tests.support.fleet import WIND_ASSETS, make_small_fleet
from tests.support.performance_rows import DAY, Q, rollup

TABLE = ReferenceCurve(2000.0, (3.0, 5.0, 8.0, 12.0), (0.0, 300.0, 1000.0, 2000.0))
AID = WIND_ASSETS[0]
# (wind m/s, power kW, temperature degC, curtailment kW or None)
ROWS = [(7.9, 900.0, 10.0, None), (8.0, 1000.0, 10.0, None), (8.1, 1100.0, 10.0, None),  # the 8.0 m/s bin
        (9.0, 400.0, 10.0, 500.0),  # curtailed
        (10.0, 0.0, 10.0, None),  # stopped in a wind
        (10.0, 300.0, 0.0, None),  # icing: cold, under half the reference
        (60.0, 1500.0, 10.0, None),  # an anemometer out of range
        (11.0, 1700.0, 10.0, None), (11.1, 1750.0, 10.0, None)]  # two intervals: a bin too thin to draw


def test_bins_filters_and_deviation_by_hand(db):
    make_small_fleet(db)
    with db.session() as s:
        for i, (ws, kw, temp, curt) in enumerate(ROWS):
            t = DAY + i * Q
            s.add(rollup(AID, "wind_speed_ms", t, ws, count=10, spread=0.3))
            s.add(rollup(AID, "power_kw", t, kw, energy=kw / 4, count=10, spread=20.0))
            s.add(rollup(AID, "temperature_c", t, temp, count=10, spread=0.2))
            if curt is not None:
                s.add(rollup(AID, "curtailment_kw", t, curt, count=10))
    with db.read_session() as s:
        flagged = flag_rollups(rollup_frame(s, [AID], DAY, DAY + dt.timedelta(days=1)))
    curve = measured_curve(AID, 2000.0, TABLE, flagged)
    assert curve.filtered == {"out of range": 1, "curtailed": 1, "stopped": 1, "icing": 1}
    assert curve.points.height == 5
    rho = 101325.0 / (287.05 * 283.15)
    norm = [v * (rho / 1.225) ** (1 / 3) for v in (7.9, 8.0, 8.1)]
    assert curve.bins["speed_bin_ms"].to_list() == [8.0]  # the 11 m/s bin has 2 intervals: not drawn
    row = curve.bins.row(0, named=True)
    assert row["n"] == 3 and row["power_kw"] == pytest.approx(1000.0)
    assert row["speed_ms"] == pytest.approx(np.mean(norm))
    reference = 1000.0 + (np.mean(norm) - 8.0) / 4.0 * 1000.0
    assert row["reference_kw"] == pytest.approx(reference)
    assert row["deviation_pct"] == pytest.approx(100 * (1000.0 - reference) / reference)
    assert row["flagged"] is False
    assert curve.reference == "declared"


def test_no_reference_curve_still_bins(db):
    make_small_fleet(db)
    with db.session() as s:
        for i in range(3):
            s.add(rollup(AID, "wind_speed_ms", DAY + i * Q, 6.0 + 0.1 * i, count=10, spread=0.3))
            s.add(rollup(AID, "power_kw", DAY + i * Q, 500.0 + i, energy=125.0, count=10, spread=20.0))
    with db.read_session() as s:
        flagged = flag_rollups(rollup_frame(s, [AID], DAY, DAY + dt.timedelta(days=1)))
    curve = measured_curve(AID, 2000.0, None, flagged)
    assert curve.reference == "none" and curve.bins.height == 1
    assert curve.bins["deviation_pct"][0] is None and curve.bins["flagged"][0] is False
