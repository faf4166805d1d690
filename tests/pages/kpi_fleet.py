"""The fleet of the KPI agreement test: a PV site producing, a PV site at night, a wind site, a
battery charging, a stale site and a substation whose meter sees the ERCOT plants behind it."""
from __future__ import annotations

import datetime as dt

import orjson

from data.db import Database
from data.models import Asset, AssetKind, Portfolio, Site, SiteKind

PV_DAY_ASSETS = ["k-pv-day-INV-01", "k-pv-day-INV-02"]
PV_DAY_SENSOR = "k-pv-day-MET"
PV_NIGHT_ASSETS = ["k-pv-night-INV-01"]
PV_NIGHT_SENSOR = "k-pv-night-MET"
WIND_ASSETS = ["k-wind-WTG-01", "k-wind-WTG-02"]
BATTERY = "k-bat-BESS-01"
STALE_ASSETS = ["k-stale-INV-01"]
SUBSTATION_METER = "k-sub-MTR"

_SITES = (
    # id, name, kind, capacity MW, market, node, lat, lon, tz
    ("k-pv-day", "KPI PV day", SiteKind.solar, 2.0, "ERCOT", "HB_SOUTH", 30.2, -97.7, "America/Chicago"),
    ("k-pv-night", "KPI PV night", SiteKind.solar, 1.0, "EPEX", "DE-LU", 47.6, 19.7, "Europe/Budapest"),
    ("k-wind", "KPI Wind", SiteKind.wind, 4.0, "EPEX", "FR", 48.45, 5.59, "Europe/Paris"),
    ("k-bat", "KPI Battery", SiteKind.storage, 1.0, "ERCOT", "HB_SOUTH", 29.8, -95.4, "America/Chicago"),
    ("k-stale", "KPI Stale", SiteKind.solar, 1.5, "ERCOT", "HB_SOUTH", 31.0, -98.0, "America/Chicago"),
    ("k-sub", "KPI Substation", SiteKind.substation, 0.0, "ERCOT", "HB_SOUTH", 30.3, -97.6, "America/Chicago"),
)


def make_kpi_fleet(db: Database) -> None:
    """Create the portfolio, the six sites and their assets."""
    with db.session() as s:
        s.add(Portfolio(id="kpi", name="KPI portfolio"))
        for sid, name, kind, cap, market, node, lat, lon, tz in _SITES:
            s.add(Site(id=sid, portfolio_id="kpi", name=name, kind=kind, latitude=lat, longitude=lon, capacity_mw=cap,
                       market=market, pricing_node=node, timezone=tz, country="", region=""))
        s.flush()
        assets = [(a, "k-pv-day", AssetKind.inverter, 1000.0) for a in PV_DAY_ASSETS]
        assets += [(PV_DAY_SENSOR, "k-pv-day", AssetKind.meter, 2000.0)]
        assets += [(a, "k-pv-night", AssetKind.inverter, 1000.0) for a in PV_NIGHT_ASSETS]
        assets += [(PV_NIGHT_SENSOR, "k-pv-night", AssetKind.meter, 1000.0)]
        assets += [(a, "k-wind", AssetKind.turbine, 2000.0) for a in WIND_ASSETS]
        assets += [(BATTERY, "k-bat", AssetKind.battery, 1000.0)]
        assets += [(a, "k-stale", AssetKind.inverter, 1500.0) for a in STALE_ASSETS]
        assets += [(SUBSTATION_METER, "k-sub", AssetKind.meter, 5000.0)]
        for aid, sid, kind, cap in assets:
            s.add(Asset(id=aid, site_id=sid, name=aid, kind=kind, capacity_kw=cap))


def history(now: dt.datetime) -> list[tuple[str, str, dt.datetime, float]]:
    """Return the last hour of telemetry at 5-minute steps (the stale site stopped 40 minutes ago)."""
    rows: list[tuple[str, str, dt.datetime, float]] = []
    for k in range(12, -1, -1):
        ts = now - dt.timedelta(minutes=5 * k)
        rows += [(PV_DAY_ASSETS[0], "power_kw", ts, 700.0 - 5 * k), (PV_DAY_ASSETS[1], "power_kw", ts, 650.0 - 4 * k)]
        rows += [(PV_DAY_SENSOR, "irradiance_wm2", ts, 620.0), (PV_DAY_SENSOR, "temperature_c", ts, 18.0)]
        rows += [(PV_NIGHT_ASSETS[0], "power_kw", ts, 0.0), (PV_NIGHT_SENSOR, "irradiance_wm2", ts, 0.0),
                 (PV_NIGHT_SENSOR, "temperature_c", ts, 4.0)]
        rows += [(WIND_ASSETS[0], "power_kw", ts, 1500.0 + 10 * k), (WIND_ASSETS[1], "power_kw", ts, 1300.0),
                 (WIND_ASSETS[0], "wind_speed_ms", ts, 9.0), (WIND_ASSETS[1], "wind_speed_ms", ts, 8.5)]
        rows += [(BATTERY, "power_kw", ts, -400.0)]
        if k >= 8:
            rows += [(STALE_ASSETS[0], "power_kw", ts, 900.0)]
        rows += [(SUBSTATION_METER, "power_kw", ts, 700.0 - 5 * k + 650.0 - 4 * k - 400.0)]
    return rows


def post_points(client, token: str, rows: list[tuple[str, str, dt.datetime, float]]) -> dict:
    """POST ``rows`` to /api/v1/telemetry (the real ingest path); return the response body (all stored)."""
    body = {"points": [{"asset_id": a, "metric": m, "ts": ts.isoformat(), "value": v} for a, m, ts, v in rows]}
    response = client.post("/api/v1/telemetry", data=orjson.dumps(body), content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["rejected"] == 0, response.get_data(as_text=True)
    return response.json
