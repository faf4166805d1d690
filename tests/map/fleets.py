"""Small explicit fleets for the map tests (independent of the demo seeder)."""
from __future__ import annotations

import datetime as dt

from data.db import Database
from data.models import Asset, AssetKind, AssetLatest, Portfolio, Site, SiteKind

# (id, name, kind, lat, lon, capacity_mw, market, region, [(asset suffix, kind, kW, lat, lon)])
SITES = [
    ("m-sol", "Mesa Solar", SiteKind.solar, 31.9, -102.1, 6.0, "ERCOT", "Texas",
     [(f"INV-{i}", AssetKind.inverter, 2000.0, None, None) for i in range(1, 4)]),
    ("m-wind", "Ridge Wind", SiteKind.wind, 48.45, 5.59, 8.2, "EPEX", "Grand Est",
     [("WTG-1", AssetKind.turbine, 2050.0, 48.4569, 5.5847), ("WTG-2", AssetKind.turbine, 2050.0, 48.4497, 5.5869),
      ("WTG-3", AssetKind.turbine, 2050.0, 48.4461, 5.5925), ("WTG-4", AssetKind.turbine, 2050.0, 999.0, 5.5875)]),
    ("m-bess", "Bay Storage", SiteKind.storage, 37.5, -121.9, 20.0, "CAISO", "California",
     [("BAT-1", AssetKind.battery, 10000.0, None, None), ("BAT-2", AssetKind.battery, 10000.0, None, None)]),
    ("m-sub", "North Substation", SiteKind.substation, 32.0, -101.9, 100.0, "ERCOT", "Texas", []),
    ("m-nocoord", "Lost Solar", SiteKind.solar, None, None, 5.0, "ERCOT", "Texas",
     [("INV-1", AssetKind.inverter, 5000.0, None, None)]),
    ("m-swapped", "Swapped Wind", SiteKind.wind, -120.1, 36.2, 4.0, "CAISO", "California",
     [("WTG-1", AssetKind.turbine, 4000.0, None, None)]),
    ("m-zero", "Zero Island Solar", SiteKind.solar, 0.0, 0.0, 1.0, "EPEX", "Grand Est", []),
]


def make_map_fleet(db: Database, live: dict[str, float] | None = None, now: dt.datetime | None = None) -> None:
    """Write :data:`SITES` (each site also gets a meter) and optional live output per site (fraction of capacity)."""
    now = now or dt.datetime.now(dt.UTC)
    with db.session() as s:
        s.add(Portfolio(id="map", name="Map test"))
        s.flush()
        for sid, name, kind, lat, lon, cap, market, region, assets in SITES:
            s.add(Site(id=sid, portfolio_id="map", name=name, kind=kind, latitude=lat, longitude=lon, capacity_mw=cap,
                       market=market, region=region, country="US" if market != "EPEX" else "FR"))
            s.flush()
            for suffix, akind, kw, alat, alon in assets:
                s.add(Asset(id=f"{sid}-{suffix}", site_id=sid, name=suffix, kind=akind, capacity_kw=kw,
                            latitude=alat, longitude=alon))
            s.add(Asset(id=f"{sid}-MTR", site_id=sid, name="Meter", kind=AssetKind.meter, capacity_kw=cap * 1000.0))
        s.flush()
        for sid, fraction in (live or {}).items():
            site = next(x for x in SITES if x[0] == sid)
            for suffix, _k, kw, _a, _b in site[8]:
                s.add(AssetLatest(asset_id=f"{sid}-{suffix}", metric="power_kw", ts=now, value=kw * fraction))
