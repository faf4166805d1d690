"""Reads for the period performance model: site configurations and 15-minute rollups.

:func:`performance_for` is what the API, the /performance page and the site page call: it reads
the sites' configuration and their 15-min rollups of [start, end) and hands them to
:mod:`domain.performance` / :mod:`domain.performance_kpis`. Nothing else computes these KPIs.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Asset, Site, TelemetryRollup, utcnow
from domain.energy import max_gap_s
from domain.expected import pv_plant, reference_curve
from domain.kinds import counts_as_site_power
from domain.performance import ROLLUP_SCHEMA, WEATHER, AssetConfig, SiteConfig, interval_frame
from domain.performance_kpis import PerformanceReport, performance_report
from domain.power_curve import MeasuredCurve, measured_curve
from domain.quality import asset_day_quality, flag_rollups

METRICS = ("power_kw", "curtailment_kw", *WEATHER)


def site_configs(session: Session, site_ids: Iterable[str]) -> list[SiteConfig]:
    """Return the :class:`SiteConfig` of each known site of ``site_ids`` (sorted by id); substations have no assets."""
    ids = sorted(set(site_ids))
    sites = session.execute(select(Site).where(Site.id.in_(ids)).order_by(Site.id)).scalars().all()
    assets = session.execute(select(Asset).where(Asset.site_id.in_(ids)).order_by(Asset.id)).scalars().all()
    by_site: dict[str, list[Asset]] = {}
    for a in assets:
        by_site.setdefault(a.site_id, []).append(a)
    out = []
    for s in sites:
        mine = by_site.get(s.id, [])
        generating = [a for a in mine if counts_as_site_power(s.kind, a.kind) and a.kind.value in ("inverter", "turbine")]
        configs = tuple(AssetConfig(a.id, a.kind.value, float(a.capacity_kw),
                                    reference_curve(float(a.capacity_kw), a.attributes) if a.kind.value == "turbine" else None)
                        for a in generating)
        inverter_kw = sum(a.capacity_kw for a in generating if a.kind.value == "inverter")
        pv = None
        if inverter_kw > 0 and s.latitude is not None and s.longitude is not None:
            pv = pv_plant(s.latitude, s.longitude, s.attributes, inverter_kw)
        attrs = s.attributes or {}
        altitude = attrs.get("altitude_m", (attrs.get("profile") or {}).get("altitude_m"))
        if altitude is None:
            altitude = next((a.attributes.get("elevation_m") for a in mine if (a.attributes or {}).get("elevation_m")), 0.0)
        out.append(SiteConfig(s.id, s.name, s.kind.value, float(s.capacity_mw), s.latitude, s.longitude, configs, pv,
                              float(altitude or 0.0), tuple(a.id for a in mine)))
    return out


def rollup_frame(session: Session, asset_ids: list[str], start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Return the 15-min rollups of ``asset_ids`` for the model's metrics in [start, end) (:data:`ROLLUP_SCHEMA`)."""
    if not asset_ids:
        return pl.DataFrame(schema=ROLLUP_SCHEMA)
    stmt = (select(TelemetryRollup.asset_id, TelemetryRollup.metric, TelemetryRollup.bucket_start, TelemetryRollup.count,
                   TelemetryRollup.sum, TelemetryRollup.min, TelemetryRollup.max, TelemetryRollup.energy_kwh)
            .where(TelemetryRollup.resolution == "15min", TelemetryRollup.asset_id.in_(asset_ids),
                   TelemetryRollup.metric.in_(METRICS), TelemetryRollup.bucket_start >= start,
                   TelemetryRollup.bucket_start < end))
    rows = session.execute(stmt).all()
    return pl.DataFrame(rows, schema=ROLLUP_SCHEMA, orient="row")  # the store hands back aware UTC datetimes


def performance_for(session: Session, site_ids: Iterable[str], start: dt.datetime, end: dt.datetime,
                    resolution: str = "1d", now: dt.datetime | None = None) -> tuple[list[SiteConfig], PerformanceReport]:
    """Return the sites' configurations and the :class:`PerformanceReport` of [start, end) at ``resolution``.

    A period reaching past ``now`` (default the clock) ends at the quarter hour after it: intervals
    still to come are not missing data.
    """
    now = now or utcnow()
    horizon = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=15 - now.minute % 15)
    end = max(start, min(end, horizon))
    configs = site_configs(session, site_ids)
    asset_ids = [a for c in configs for a in c.sensor_asset_ids]
    capacity = {a.asset_id: a.capacity_kw for c in configs for a in c.assets}
    flagged = flag_rollups(rollup_frame(session, asset_ids, start, end), capacity)
    gap = max_gap_s()
    frame = interval_frame(configs, flagged, start, end, gap)
    quality = asset_day_quality(flagged, frame, {a: c.site_id for c in configs for a in c.sensor_asset_ids}, gap)
    prices = price_frame(session, [c.site_id for c in configs], start, end)
    return configs, performance_report(frame, resolution, quality=quality, prices=prices)


def selection_options(session: Session, visible: frozenset[str] | None) -> list[dict[str, str]]:
    """Return the picker's options: every visible site ('fleet'), each portfolio ('portfolio:<id>'), each site ('site:<id>').

    ``visible`` None is every site; a portfolio is offered when it holds a visible site (and then
    stands for its visible sites only).
    """
    from data.models import Portfolio

    stmt = select(Site.id, Site.name, Site.portfolio_id, Site.kind).order_by(Site.name)
    if visible is not None:
        stmt = stmt.where(Site.id.in_(sorted(visible)))
    sites = [r for r in session.execute(stmt) if r[3].value != "substation"]
    portfolio_ids = sorted({r[2] for r in sites})
    names = dict(session.execute(select(Portfolio.id, Portfolio.name).where(Portfolio.id.in_(portfolio_ids))).all())
    options = [{"label": "Every site I see", "value": "fleet"}]
    options += [{"label": f"Portfolio · {names.get(p, p)}", "value": f"portfolio:{p}"} for p in portfolio_ids]
    options += [{"label": f"Site · {name}", "value": f"site:{sid}"} for sid, name, _p, _k in sites]
    return options


def selected_sites(session: Session, selection: str | None, visible: frozenset[str] | None) -> list[str]:
    """Return the visible site ids a picker value stands for ('fleet', 'portfolio:<id>', 'site:<id>'); [] if none."""
    stmt = select(Site.id).order_by(Site.id)
    kind, _, ident = (selection or "fleet").partition(":")
    if kind == "site":
        stmt = stmt.where(Site.id == ident)
    elif kind == "portfolio":
        stmt = stmt.where(Site.portfolio_id == ident)
    elif kind != "fleet":
        return []
    ids = list(session.execute(stmt).scalars())
    return ids if visible is None else [s for s in ids if s in visible]


def power_curves_for(session: Session, site_id: str, start: dt.datetime, end: dt.datetime) -> list[MeasuredCurve]:
    """Return the measured power curve of each turbine of ``site_id`` over [start, end) (:mod:`domain.power_curve`)."""
    configs = site_configs(session, [site_id])
    if not configs:
        return []
    site = configs[0]
    turbines = [a for a in site.assets if a.kind == "turbine"]
    if not turbines:
        return []
    flagged = flag_rollups(rollup_frame(session, list(site.sensor_asset_ids), start, end),
                           {a.asset_id: a.capacity_kw for a in turbines})
    temps = (flagged.filter((pl.col("metric") == "temperature_c") & ~pl.col("bad"))
             .group_by("bucket_start").agg(temperature_c=(pl.col("sum") / pl.col("count")).mean()))
    return [measured_curve(a.asset_id, a.capacity_kw, a.curve, flagged, site.altitude_m, temps) for a in turbines]


def price_frame(session: Session, site_ids: Iterable[str], start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Return (site_id, bucket_start, price, currency): each 15-min interval's price at the site's (market, node).

    Real-time where a real-time interval covers the bucket start, else day-ahead; intervals
    without either are left out.
    """
    from data.models import MarketPrice

    schema = {"site_id": pl.String(), "bucket_start": pl.Datetime("us", "UTC"), "price": pl.Float64(),
              "currency": pl.String()}
    sites = session.execute(select(Site.id, Site.market, Site.pricing_node).where(Site.id.in_(sorted(set(site_ids))))).all()
    nodes = {(m, n) for _s, m, n in sites}
    if not nodes:
        return pl.DataFrame(schema=schema)
    rows = session.execute(
        select(MarketPrice.market, MarketPrice.node, MarketPrice.market_type, MarketPrice.interval_start,
               MarketPrice.interval_end, MarketPrice.price, MarketPrice.currency)
        .where(MarketPrice.market.in_(sorted({m for m, _n in nodes})), MarketPrice.node.in_(sorted({n for _m, n in nodes})),
               MarketPrice.market_type.in_(["DA", "RT"]), MarketPrice.interval_end > start,
               MarketPrice.interval_start < end)).all()
    if not rows:
        return pl.DataFrame(schema=schema)
    prices = pl.DataFrame(rows, schema={"market": pl.String(), "node": pl.String(), "type": pl.String(),
                                        "interval_start": pl.Datetime("us", "UTC"), "interval_end": pl.Datetime("us", "UTC"),
                                        "price": pl.Float64(), "currency": pl.String()}, orient="row")
    grid = pl.DataFrame({"site_id": [s for s, _m, _n in sites], "market": [m for _s, m, _n in sites],
                         "node": [n for _s, _m, n in sites]}).join(
        pl.datetime_range(start, end - dt.timedelta(microseconds=1), dt.timedelta(minutes=15), eager=True,
                          time_unit="us", time_zone="UTC").alias("bucket_start").to_frame(), how="cross").sort("bucket_start")
    parts = []
    for kind in ("RT", "DA"):
        p = prices.filter(pl.col("type") == kind).sort("interval_start")
        parts.append(grid.join_asof(p, left_on="bucket_start", right_on="interval_start", by=["market", "node"],
                                    strategy="backward", check_sortedness=False)  # both sorted by time above
                     .filter(pl.col("interval_end") > pl.col("bucket_start"))
                     .select("site_id", "bucket_start", pl.col("price").alias(f"p_{kind}"), pl.col("currency").alias(f"c_{kind}")))
    both = parts[0].join(parts[1], on=["site_id", "bucket_start"], how="full", coalesce=True)
    return both.select("site_id", "bucket_start", price=pl.coalesce("p_RT", "p_DA"),
                       currency=pl.coalesce("c_RT", "c_DA")).filter(pl.col("price").is_not_null())
