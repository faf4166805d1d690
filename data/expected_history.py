"""Expected output over time, from the weather each site really measured (15-minute rollups).

For every 15-minute bucket (interval start) the site's own irradiance, air temperature and wind
speed means go through the one expectation rule (:mod:`domain.expected`), the same the live hub
applies to the latest readings, so the /live chart's "Expected from weather" line continues the
pushed expected figure. A site that measured no weather in a bucket has no expectation there.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Asset, Site, TelemetryRollup
from domain.expected import PvGeometry, pv_expected_kw, pv_geometry, site_expected_kw, wind_expected_kw
from domain.kinds import counts_as_site_power

BUCKET = dt.timedelta(minutes=15)
WEATHER_METRICS = ("irradiance_wm2", "temperature_c", "wind_speed_ms")


@dataclass
class _Bucket:
    """The weather of one site in one bucket: metric -> bucket means (one per sensor), per asset speed."""

    means: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    asset_wind: dict[str, float] = field(default_factory=dict)


def _as_utc(ts: dt.datetime) -> dt.datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)


def expected_output_history(session: Session, site_id: str | None, since: dt.datetime,
                            visible: frozenset[str] | set[str] | None) -> list[tuple[dt.datetime, float]]:
    """Return [(bucket_start UTC, expected MW)] per 15-min bucket since ``since``.

    ``site_id`` None sums the fleet's sites that have an expectation in each bucket (as the fleet
    ``expected_mw`` KPI does). Buckets where no site measured weather are left out (no point, not 0).
    The sun's position is taken at the middle of each bucket (its mean irradiance is centred there).
    """
    site_stmt = select(Site.id, Site.kind, Site.latitude, Site.longitude, Site.attributes)
    asset_stmt = select(Asset.id, Asset.site_id, Asset.kind, Asset.capacity_kw)
    weather_stmt = (
        select(Asset.site_id, TelemetryRollup.asset_id, TelemetryRollup.metric, TelemetryRollup.bucket_start,
               TelemetryRollup.sum / TelemetryRollup.count)
        .join(Asset, Asset.id == TelemetryRollup.asset_id)
        .where(TelemetryRollup.resolution == "15min", TelemetryRollup.metric.in_(WEATHER_METRICS),
               TelemetryRollup.bucket_start >= since, TelemetryRollup.count > 0)
    )
    if visible is not None:  # a caller's scope: only those sites (None: every site)
        site_stmt = site_stmt.where(Site.id.in_(sorted(visible)))
    if site_id is not None:
        site_stmt = site_stmt.where(Site.id == site_id)
        asset_stmt = asset_stmt.where(Asset.site_id == site_id)
        weather_stmt = weather_stmt.where(Asset.site_id == site_id)
    sites: dict[str, tuple[str, PvGeometry | None]] = {}
    for sid, kind, lat, lon, attributes in session.execute(site_stmt):
        pv = pv_geometry(lat, lon, attributes) if kind.value in ("solar", "hybrid") and lat is not None and lon is not None else None
        sites[sid] = (kind.value, pv)
    inverter_kw: dict[str, float] = defaultdict(float)
    turbines: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for aid, sid, kind, cap in session.execute(asset_stmt):
        if sid not in sites or not counts_as_site_power(sites[sid][0], kind):
            continue
        if kind.value == "inverter":
            inverter_kw[sid] += float(cap)
        elif kind.value == "turbine":
            turbines[sid].append((aid, float(cap)))
    buckets: dict[tuple[str, dt.datetime], _Bucket] = defaultdict(_Bucket)
    for sid, aid, metric, start, mean in session.execute(weather_stmt):
        if mean is None:
            continue
        b = buckets[(sid, _as_utc(start))]
        b.means[metric].append(float(mean))
        if metric == "wind_speed_ms":
            b.asset_wind[aid] = float(mean)
    totals: dict[dt.datetime, float] = defaultdict(float)
    for (sid, start), b in buckets.items():
        if sid not in sites:
            continue
        pv_kw = wind_kw = None
        geometry = sites[sid][1]
        irradiance = _mean(b.means.get("irradiance_wm2"))
        if geometry is not None and inverter_kw.get(sid, 0.0) > 0 and irradiance is not None:
            mid_s = (start + BUCKET / 2).timestamp()
            pv_kw = pv_expected_kw(irradiance, _mean(b.means.get("temperature_c")), inverter_kw[sid], geometry, mid_s)
        if turbines.get(sid):
            wind_kw = wind_expected_kw([(cap, b.asset_wind.get(aid)) for aid, cap in turbines[sid]],
                                       _mean(b.means.get("wind_speed_ms")))
        kw = site_expected_kw(pv_kw, wind_kw)
        if kw is not None:
            totals[start] += kw
    return [(t, totals[t] / 1000.0) for t in sorted(totals)]


def _mean(values: list[float] | None) -> float | None:
    return sum(values) / len(values) if values else None
