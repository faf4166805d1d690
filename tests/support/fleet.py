"""A tiny, explicit fleet for unit tests of the data layer and API."""
from __future__ import annotations

from data.db import Database
from data.models import Asset, AssetKind, Portfolio, Site, SiteKind

SOLAR_ASSETS = [f"t-sol-INV-{i:02d}" for i in range(1, 4)]
WIND_ASSETS = [f"t-wind-WTG-{i:02d}" for i in range(1, 3)]


def make_small_fleet(db: Database) -> None:
    """Create a portfolio with one solar site (3 x 1 MW inverters + meter) and one wind site (2 x 2 MW)."""
    with db.session() as s:
        s.add(Portfolio(id="test", name="Test portfolio"))
        s.add(Site(id="t-sol", portfolio_id="test", name="Test Solar", kind=SiteKind.solar, latitude=30.2,
                   longitude=-97.7, capacity_mw=3.0, market="ERCOT", pricing_node="HB_SOUTH",
                   timezone="America/Chicago", country="US", region="Texas", data_origin="derived"))
        s.add(Site(id="t-wind", portfolio_id="test", name="Test Wind", kind=SiteKind.wind, latitude=48.45,
                   longitude=5.59, capacity_mw=4.0, market="EPEX", pricing_node="FR", timezone="Europe/Paris",
                   country="FR", region="Grand Est"))
        s.flush()
        for aid in SOLAR_ASSETS:
            s.add(Asset(id=aid, site_id="t-sol", name=aid, kind=AssetKind.inverter, capacity_kw=1000.0))
        s.add(Asset(id="t-sol-MTR", site_id="t-sol", name="Meter", kind=AssetKind.meter, capacity_kw=3000.0))
        for aid in WIND_ASSETS:
            s.add(Asset(id=aid, site_id="t-wind", name=aid, kind=AssetKind.turbine, capacity_kw=2000.0))
