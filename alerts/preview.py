"""What a rule would have raised over the last days, before it is saved (the rules editor, and
``POST /api/v1/alert-rules/preview``).

The same conditions as the evaluator, on what the store holds: thresholds run
:class:`alerts.conditions.ThresholdMachine` over the 15-minute means of the metric (raw points
are kept only ``FLEETLIGHT_RAW_RETENTION_DAYS``); communication loss finds the gaps between
15-minute buckets with data longer than the rule's limit (PV: starting in daylight);
underperformance runs the detector over the period; prices, weather alerts and integration
failures are read from their tables. Flap and parent suppression are not replayed.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.conditions import is_daylight
from alerts.evaluator import threshold_machine
from alerts.rules import NOAA_SEVERITIES, parse_definition
from data.models import Asset, Event, MarketPrice, Site, TelemetryRollup, WeatherAlert, utcnow
from domain.kinds import is_generating_asset, is_generating_site

PREVIEW_DAYS = 7
MAX_LISTED = 200


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def preview_rule(session: Session, body: Any, *, now: dt.datetime | None = None, days: int = PREVIEW_DAYS,
                 visible: frozenset[str] | None = None) -> dict[str, Any]:
    """Return {raised, alerts: [{ts, subject, title}], basis, start, end} for the rule ``body``.

    Raises alerts.rules.RuleError(422) when the definition is invalid.
    """
    d = parse_definition(body)
    end = now or utcnow()
    start = end - dt.timedelta(days=days)
    site_stmt = select(Site.id, Site.name, Site.kind, Site.latitude, Site.longitude)
    if d.site_id is not None:
        site_stmt = site_stmt.where(Site.id == d.site_id)
    sites = {sid: (name, kind.value, lat, lon) for sid, name, kind, lat, lon in session.execute(site_stmt)
             if visible is None or sid in visible}
    found: list[tuple[dt.datetime, str, str]] = []
    if d.kind == "threshold":
        basis = f"15-min means of {d.metric}"
        assets = select(Asset.id).where(Asset.site_id.in_(sorted(sites)))
        if d.asset_id:
            assets = assets.where(Asset.id == d.asset_id)
        rows = session.execute(
            select(TelemetryRollup.asset_id, TelemetryRollup.bucket_start, TelemetryRollup.sum / TelemetryRollup.count)
            .where(TelemetryRollup.resolution == "15min", TelemetryRollup.metric == d.metric,
                   TelemetryRollup.count > 0, TelemetryRollup.bucket_start >= start,
                   TelemetryRollup.asset_id.in_(assets.scalar_subquery()))
            .order_by(TelemetryRollup.asset_id, TelemetryRollup.bucket_start)).all()
        machines: dict[str, Any] = {}
        for aid, bucket, mean in rows:
            machine = machines.setdefault(aid, threshold_machine(d))
            if machine.feed(_as_utc(bucket), float(mean)) == "raise":
                found.append((_as_utc(bucket), aid, f"{d.metric} {float(mean):,.2f}"))
    elif d.kind == "comm_loss":
        basis = "gaps between 15-min buckets with data (PV: gaps starting in daylight)"
        limit = dt.timedelta(minutes=d.stale_after_min)
        assets_rows = session.execute(select(Asset.id, Asset.site_id, Asset.kind).where(
            Asset.site_id.in_(sorted(sites)))).all()
        kinds = {aid: (sid, kind.value) for aid, sid, kind in assets_rows if is_generating_asset(kind)}
        buckets: dict[str, list[dt.datetime]] = defaultdict(list)
        for aid, bucket in session.execute(
                select(TelemetryRollup.asset_id, TelemetryRollup.bucket_start).where(
                    TelemetryRollup.resolution == "15min", TelemetryRollup.metric == "power_kw",
                    TelemetryRollup.bucket_start >= start, TelemetryRollup.asset_id.in_(sorted(kinds)))
                .order_by(TelemetryRollup.asset_id, TelemetryRollup.bucket_start)):
            buckets[aid].append(_as_utc(bucket))
        for aid, times in buckets.items():
            sid, kind = kinds[aid]
            _name, site_kind, lat, lon = sites[sid]
            pv = kind == "inverter" or site_kind == "solar"
            for a, b in zip(times, times[1:], strict=False):
                gap_start = a + dt.timedelta(minutes=15)
                if b - gap_start > limit and (not pv or is_daylight(gap_start + limit, lat, lon)):
                    found.append((gap_start + limit, aid, f"no telemetry for {(b - gap_start).total_seconds() / 60:.0f} min"))
    elif d.kind == "underperformance":
        from alerts.underperformance import site_episodes

        basis = "anomaly detector on 15-min actual vs expected energy (performance model)"
        for sid, (name, kind, _lat, _lon) in sites.items():
            if not is_generating_site(kind):
                continue
            eps = site_episodes(session, sid, start, end, window=d.window, k=d.k,
                                min_shortfall_pct=d.min_shortfall_pct, min_expected_pct=d.min_expected_pct)
            for ep in eps.episodes.itertuples(index=False):
                found.append((ep.start.to_pydatetime() if hasattr(ep.start, "to_pydatetime") else ep.start, name,
                              f"{float(ep.mean_shortfall_pct):.0f} % of capacity below expected for "
                              f"{int(ep.intervals)} intervals"))
    elif d.kind in ("price_spike", "negative_price"):
        basis = "stored market prices"
        stmt = select(MarketPrice).where(MarketPrice.market == d.market, MarketPrice.interval_start >= start)
        if d.node:
            stmt = stmt.where(MarketPrice.node == d.node)
        if d.market_type:
            stmt = stmt.where(MarketPrice.market_type == d.market_type)
        active: dict[tuple[str, str], bool] = {}
        for p in session.execute(stmt.order_by(MarketPrice.interval_start)).scalars():
            on = p.price > d.above_per_mwh if d.kind == "price_spike" else p.price < d.below_per_mwh
            key = (p.node, p.market_type)
            if on and not active.get(key):
                found.append((p.interval_start, f"{p.market} {p.node} {p.market_type}",
                              f"{p.price:,.2f} {p.currency}/MWh"))
            active[key] = on
    elif d.kind == "severe_weather":
        basis = "stored weather alerts (NOAA, OpenWeatherMap)"
        floor = NOAA_SEVERITIES.index(d.min_severity)
        for w in session.execute(select(WeatherAlert).where(WeatherAlert.site_id.in_(sorted(sites)))).scalars():
            level = NOAA_SEVERITIES.index(w.severity) if w.severity in NOAA_SEVERITIES else (
                floor if d.unrated and not w.severity else -1)
            onset = w.onset or start
            if level >= floor and onset < end and (w.ends is None or w.ends > start):
                found.append((max(onset, start), sites[w.site_id or ""][0] if w.site_id in sites else str(w.site_id),
                              f"{w.event} ({w.severity or w.source})"))
    else:  # integration
        basis = "integration.failed / integration.recovered events"
        failing: dict[str, bool] = {}
        for e in session.execute(select(Event).where(
                Event.kind.in_(("integration.failed", "integration.recovered")), Event.ts >= start)
                .order_by(Event.id)).scalars():
            if d.provider and e.entity_id != d.provider:
                continue
            if e.kind == "integration.failed" and not failing.get(e.entity_id):
                found.append((e.ts, e.entity_id, str((e.payload or {}).get("message") or "provider call failed")[:200]))
            failing[e.entity_id] = e.kind == "integration.failed"
    found.sort(key=lambda f: f[0])
    return {"raised": len(found), "start": start.isoformat(), "end": end.isoformat(), "basis": basis,
            "alerts": [{"ts": ts.isoformat(), "subject": subject, "title": title}
                       for ts, subject, title in found[:MAX_LISTED]],
            "note": "flapping, parent and maintenance suppression are not replayed"}
