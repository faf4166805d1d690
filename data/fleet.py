"""Read queries for the fleet: sites with their live state, fleet KPIs, assets, latest prices.

Live state comes from ``asset_latest`` (one row per asset and metric), energy from the daily
rollups' ``energy_kwh``, so these stay fast at 100,000 assets. The rules (status, which assets
count, energy) are those of :mod:`domain`, as in the live hub.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from data.models import Asset, AssetLatest, MarketPrice, Site, TelemetryRollup, utcnow
from domain.kinds import GENERATING_ASSET_KINDS, METERING_SITE_KINDS
from domain.status import REPORTING_STATUSES, stale_after
from domain.status import site_status as _domain_site_status

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
    """Return the status text of a site's latest state (the rule of :func:`domain.status.site_status`)."""
    return _domain_site_status(output_mw, capacity_mw, last_update, now).value


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
    recent = AssetLatest.ts >= now - stale_after()
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
            .join(Site, Site.id == Asset.site_id)
            .where(AssetLatest.metric == "power_kw", site_power_filter())
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


def site_power_filter():
    """Return a SQL condition (Asset joined with Site): the SQL form of :func:`domain.kinds.counts_as_site_power` (Asset joined with Site)."""
    return or_(
        and_(Site.kind.not_in(sorted(METERING_SITE_KINDS)), Asset.kind.in_(sorted(GENERATING_ASSET_KINDS))),
        and_(Site.kind.in_(sorted(METERING_SITE_KINDS)), Asset.kind == "transformer"),
    )


def energy_today_mwh(session: Session, now: dt.datetime | None = None) -> float:
    """Return fleet energy since 00:00 UTC today in MWh: the sum of today's 1d rollups' ``energy_kwh``.

    Generating assets of generating sites only (a substation meters the plants behind it). The
    figure the live hub pushes is the same sum (seeded from these rollups, advanced by the same
    segments). The sum runs in the database, so it stays fast at 100,000 assets.
    """
    now = now or utcnow()
    day = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    total_kwh = session.execute(
        select(func.sum(TelemetryRollup.energy_kwh))
        .join(Asset, Asset.id == TelemetryRollup.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .where(
            TelemetryRollup.resolution == "1d", TelemetryRollup.bucket_start == day,
            TelemetryRollup.metric == "power_kw",
            Asset.kind.in_(sorted(GENERATING_ASSET_KINDS)), Site.kind.not_in(sorted(METERING_SITE_KINDS)),
        )
    ).scalar()
    return float(total_kwh or 0.0) / 1000.0


def latest_rt_prices(session: Session, now: dt.datetime) -> dict[tuple[str, str], tuple[float, str]]:
    """Return {(market, node): (price per MWh, currency)} of the latest real-time interval started by ``now``.

    Looks back 2 days at most (a node without a real-time price since then has none).
    """
    latest = (
        select(MarketPrice.market, MarketPrice.node, func.max(MarketPrice.interval_start).label("start"))
        .where(MarketPrice.market_type == "RT", MarketPrice.interval_start <= now,
               MarketPrice.interval_start > now - dt.timedelta(days=2))
        .group_by(MarketPrice.market, MarketPrice.node)
        .subquery()
    )
    rows = session.execute(
        select(MarketPrice.market, MarketPrice.node, MarketPrice.price, MarketPrice.currency).join(
            latest, and_(MarketPrice.market == latest.c.market, MarketPrice.node == latest.c.node,
                         MarketPrice.interval_start == latest.c.start)
        ).where(MarketPrice.market_type == "RT")
    ).all()
    return {(m, n): (float(p), c) for m, n, p, c in rows}


def store_site_figures(session: Session, now: dt.datetime | None = None) -> dict:
    """Return {site_id: domain.kpis.SiteFigures} computed from the store by the live state's own rules."""
    from live.state import LiveState, to_ms

    now = now or utcnow()
    state = LiveState()
    state.load(session, now)
    return state.site_figures(None, to_ms(now))


def fleet_kpis(sites: pl.DataFrame, energy_mwh: float) -> FleetKpis:
    """Return the fleet KPIs computed from ``site_frame`` output and today's energy."""
    if sites.is_empty():
        return FleetKpis(0, 0, 0, 0.0, 0.0, energy_mwh, None)
    generating = sites.filter(~pl.col("kind").is_in(sorted(METERING_SITE_KINDS)))
    return FleetKpis(
        sites=sites.height,
        sites_reporting=int(sites.filter(pl.col("status").is_in(sorted(REPORTING_STATUSES))).height),
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
