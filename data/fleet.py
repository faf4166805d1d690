"""Read queries for the fleet: sites with their live state, fleet KPIs, assets.

Live state comes from ``asset_latest`` (one row per asset and metric), energy from the daily
rollups, so these stay fast at 100,000 assets.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from data.models import Asset, AssetLatest, Site, TelemetryRollup, utcnow

STALE_AFTER = dt.timedelta(minutes=15)
PRODUCING_MIN_FRACTION = 0.01

SITE_COLUMNS = [
    "site_id", "name", "kind", "portfolio_id", "market", "pricing_node", "country", "region", "timezone",
    "latitude", "longitude", "capacity_mw", "data_origin", "assets", "reporting_assets", "output_mw",
    "last_update", "status",
]


@dataclass(frozen=True)
class FleetKpis:
    """Fleet-wide figures shown on the overview."""

    sites: int
    sites_reporting: int
    assets: int
    capacity_mw: float
    output_mw: float
    energy_today_mwh: float
    last_update: dt.datetime | None

    @property
    def output_pct(self) -> float:
        """Return current output as a percentage of capacity."""
        return 100.0 * self.output_mw / self.capacity_mw if self.capacity_mw else 0.0


def site_status(output_mw: float | None, capacity_mw: float, last_update: dt.datetime | None, now: dt.datetime) -> str:
    """Return 'no data', 'stale', 'producing' or 'idle' for a site's latest state."""
    if last_update is None:
        return "no data"
    if now - last_update > STALE_AFTER:
        return "stale"
    if capacity_mw > 0 and (output_mw or 0.0) / capacity_mw >= PRODUCING_MIN_FRACTION:
        return "producing"
    return "idle"


def site_frame(session: Session, now: dt.datetime | None = None) -> pl.DataFrame:
    """Return one row per site with live output (MW), reporting assets, last update and status."""
    now = now or utcnow()
    sites = session.execute(
        select(
            Site.id, Site.name, Site.kind, Site.portfolio_id, Site.market, Site.pricing_node, Site.country,
            Site.region, Site.timezone, Site.latitude, Site.longitude, Site.capacity_mw, Site.data_origin,
        )
    ).all()
    counts = dict(session.execute(select(Asset.site_id, func.count()).group_by(Asset.site_id)).all())
    recent = AssetLatest.ts > now - STALE_AFTER
    live = {
        r[0]: (r[1], int(r[2] or 0), r[3])
        for r in session.execute(
            select(
                Asset.site_id,
                func.sum(case((recent, AssetLatest.value))),
                func.sum(case((recent, 1), else_=0)),
                func.max(AssetLatest.ts),
            )
            .join(Asset, Asset.id == AssetLatest.asset_id)
            .where(AssetLatest.metric == "power_kw", Asset.kind != "meter")
            .group_by(Asset.site_id)
        ).all()
    }
    rows = []
    for s in sites:
        kw, reporting, last = live.get(s.id, (None, 0, None))
        output_mw = None if kw is None else round(kw / 1000.0, 3)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
        rows.append(
            (
                s.id, s.name, s.kind.value, s.portfolio_id, s.market, s.pricing_node, s.country, s.region,
                s.timezone, s.latitude, s.longitude, s.capacity_mw, s.data_origin, counts.get(s.id, 0),
                reporting, output_mw, last, site_status(output_mw, s.capacity_mw, last, now),
            )
        )
    schema = {
        "site_id": pl.String, "name": pl.String, "kind": pl.String, "portfolio_id": pl.String,
        "market": pl.String, "pricing_node": pl.String, "country": pl.String, "region": pl.String,
        "timezone": pl.String, "latitude": pl.Float64, "longitude": pl.Float64, "capacity_mw": pl.Float64,
        "data_origin": pl.String, "assets": pl.Int64, "reporting_assets": pl.Int64, "output_mw": pl.Float64,
        "last_update": pl.Datetime(time_zone="UTC"), "status": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _epoch_seconds(session: Session, column):
    """Return a SQL expression for ``column`` as seconds since the epoch, in the session's dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.extract("epoch", column)


def energy_today_mwh(session: Session, now: dt.datetime | None = None) -> float:
    """Return fleet energy since 00:00 UTC today in MWh (mean power of the day x hours covered).

    Substations are left out: their transformers carry the output of the sites behind them.
    The sum runs in the database, so it stays fast at 100,000 assets.
    """
    now = now or utcnow()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    covered_h = (_epoch_seconds(session, TelemetryRollup.last_ts) - day.timestamp()) / 3600.0
    total_kwh = session.execute(
        select(func.sum(TelemetryRollup.sum / TelemetryRollup.count * covered_h))
        .join(Asset, Asset.id == TelemetryRollup.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .where(
            TelemetryRollup.resolution == "1d", TelemetryRollup.bucket_start == day,
            TelemetryRollup.metric == "power_kw", TelemetryRollup.count > 0,
            Asset.kind != "meter", Site.kind != "substation",
        )
    ).scalar()
    return round(float(total_kwh or 0.0) / 1000.0, 3)


def fleet_kpis(sites: pl.DataFrame, energy_mwh: float) -> FleetKpis:
    """Return the fleet KPIs computed from ``site_frame`` output and today's energy."""
    if sites.is_empty():
        return FleetKpis(0, 0, 0, 0.0, 0.0, energy_mwh, None)
    generating = sites.filter(pl.col("kind") != "substation")
    return FleetKpis(
        sites=sites.height,
        sites_reporting=int(sites.filter(pl.col("status").is_in(["producing", "idle"])).height),
        assets=int(sites["assets"].sum()),
        capacity_mw=float(generating["capacity_mw"].sum()),
        output_mw=float(generating["output_mw"].fill_null(0.0).sum()),
        energy_today_mwh=energy_mwh,
        last_update=sites["last_update"].max(),
    )


def get_site(session: Session, site_id: str) -> Site | None:
    """Return the Site with ``site_id`` (assets loaded lazily), or None."""
    if not site_id:
        return None
    return session.get(Site, site_id)


def list_assets(session: Session, site_id: str | None = None, limit: int = 1000, offset: int = 0) -> list[Asset]:
    """Return assets ordered by id, optionally only those of ``site_id``."""
    stmt = select(Asset).order_by(Asset.id).limit(limit).offset(offset)
    if site_id:
        stmt = stmt.where(Asset.site_id == site_id)
    return list(session.execute(stmt).scalars())


def asset_latest(session: Session, asset_ids: list[str]) -> dict[str, dict[str, tuple[dt.datetime, float]]]:
    """Return {asset_id: {metric: (ts, value)}} for ``asset_ids``."""
    out: dict[str, dict[str, tuple[dt.datetime, float]]] = {}
    for chunk_start in range(0, len(asset_ids), 500):
        chunk = asset_ids[chunk_start : chunk_start + 500]
        for a, m, ts, v in session.execute(
            select(AssetLatest.asset_id, AssetLatest.metric, AssetLatest.ts, AssetLatest.value).where(
                AssetLatest.asset_id.in_(chunk)
            )
        ).all():
            out.setdefault(a, {})[m] = (ts, v)
    return out
