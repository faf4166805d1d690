"""Stored 15-min rollup rows of a hand-computable day of the small test fleet's PV site (2026-06-01 UTC)."""
from __future__ import annotations

import datetime as dt

from data.models import TelemetryRollup
from tests.support.fleet import SOLAR_ASSETS

DAY = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
Q = dt.timedelta(minutes=15)
NOON = [DAY + dt.timedelta(hours=17) + i * Q for i in range(4)]  # ~ solar noon in Texas (18:50 UTC)
NIGHT = [DAY + dt.timedelta(hours=5) + i * Q for i in range(4)]
GHI = [800.0, 850.0, 900.0, 700.0]
TEMP = 30.0
# energy per inverter and noon interval (kWh); INV-02 down in interval 3, INV-03 curtailed in interval 2
ENERGY = {SOLAR_ASSETS[0]: [180.0, 185.0, 190.0, 150.0], SOLAR_ASSETS[1]: [175.0, 180.0, 185.0, 0.0],
          SOLAR_ASSETS[2]: [170.0, 175.0, 100.0, 140.0]}


def rollup(asset: str, metric: str, start: dt.datetime, mean: float, energy: float = 0.0, spread: float = 1.0,
           count: int = 15) -> TelemetryRollup:
    """Return a 15-min rollup row of ``count`` readings around ``mean`` (+- ``spread``), as ingest stores it."""
    return TelemetryRollup(asset_id=asset, metric=metric, resolution="15min", bucket_start=start, count=count,
                           sum=mean * count, min=mean - spread, max=mean + spread, last_ts=start + Q - dt.timedelta(minutes=1),
                           last_value=mean, energy_kwh=energy)


def store_solar_day(db) -> None:
    """Store the day: GHI and temperature on the meter, power of the 3 inverters (one down, one curtailed)."""
    with db.session() as s:
        for t, g in zip(NOON, GHI, strict=True):
            s.add(rollup("t-sol-MTR", "irradiance_wm2", t, g, spread=10.0))
            s.add(rollup("t-sol-MTR", "temperature_c", t, TEMP))
        for t in NIGHT:
            s.add(rollup("t-sol-MTR", "irradiance_wm2", t, 0.0, spread=0.0))
            s.add(rollup("t-sol-MTR", "temperature_c", t, 18.0))
        for aid, energies in ENERGY.items():
            for t, e in zip(NOON, energies, strict=True):
                s.add(rollup(aid, "power_kw", t, e * 4, energy=e, spread=20.0))
            for t in NIGHT:  # negative night power (the inverter draws): the stored energy is the exported part, 0
                s.add(rollup(aid, "power_kw", t, -3.0, energy=0.0, spread=2.0))
        s.add(rollup(SOLAR_ASSETS[2], "curtailment_kw", NOON[2], 400.0))


