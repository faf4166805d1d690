"""The live state of the fleet held in memory by the hub: latest values per asset, site figures.

Seeded from the store (``asset_latest`` and today's daily rollups' ``energy_kwh``) and advanced by
every batch the store worker commits, so building a push costs O(changed assets), not a query.
Every rule comes from :mod:`domain`: which assets count (:mod:`domain.kinds`), status
(:mod:`domain.status`), energy (:mod:`domain.energy`, the same trapezoid segments the store adds),
expected output (:mod:`domain.expected`). Site figures are :class:`domain.kpis.SiteFigures`.

A late point (older than the asset's latest) is stored but does not move the live figures; the
store replaces its segment, and the hub's periodic reload from the store picks that up.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings, get_settings
from data.models import Asset, AssetLatest, Site, TelemetryRollup
from domain.energy import segment_kwh
from domain.expected import PvGeometry, pv_expected_kw, pv_geometry, site_expected_kw, wind_expected_kw
from domain.kinds import counts_as_site_power
from domain.kpis import SiteFigures
from domain.status import site_status

LIVE_METRICS = ("power_kw", "irradiance_wm2", "temperature_c", "wind_speed_ms")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DAY_MS = 86_400_000


def to_ms(ts: dt.datetime) -> int:
    """Return ``ts`` (tz-aware, or naive UTC) as epoch milliseconds."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return round(ts.timestamp() * 1000)  # C-level and exact to the millisecond for any current date


@dataclass
class SiteInfo:
    """The static facts of a site the live view needs."""

    site_id: str
    name: str
    kind: str
    market: str
    node: str
    capacity_mw: float
    pv: PvGeometry | None = None


@dataclass
class AssetState:
    """Latest values of one asset: metric -> (ts_ms, value); energy of segments starting on ``day_ms``, kWh."""

    site_id: str
    kind: str
    capacity_kw: float
    counts: bool = True
    values: dict[str, tuple[int, float]] = field(default_factory=dict)
    energy_kwh: float = 0.0
    day_ms: int = 0


def _day_start_ms(ts_ms: int) -> int:
    return ts_ms - ts_ms % _DAY_MS


class LiveState:
    """Thread-safe in-memory live state; ``apply`` returns the sites whose figures changed."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.sites: dict[str, SiteInfo] = {}
        self.assets: dict[str, AssetState] = {}
        self._lock = threading.Lock()

    # --- loading -----------------------------------------------------------------------------

    def load(self, session: Session, now: dt.datetime) -> None:
        """Replace the state with what the store holds now (sites, assets, latest values, energy)."""
        sites: dict[str, SiteInfo] = {}
        for r in session.execute(select(Site.id, Site.name, Site.kind, Site.market, Site.pricing_node, Site.capacity_mw,
                                        Site.latitude, Site.longitude, Site.attributes)):
            kind = r.kind.value
            pv = (pv_geometry(r.latitude, r.longitude, r.attributes)
                  if kind in ("solar", "hybrid") and r.latitude is not None and r.longitude is not None else None)
            sites[r.id] = SiteInfo(r.id, r.name, kind, r.market, r.pricing_node or "", float(r.capacity_mw), pv)
        assets = {
            r.id: AssetState(r.site_id, r.kind.value, float(r.capacity_kw),
                             counts_as_site_power(sites[r.site_id].kind if r.site_id in sites else "", r.kind))
            for r in session.execute(select(Asset.id, Asset.site_id, Asset.kind, Asset.capacity_kw))
        }
        for a, m, ts, v in session.execute(
            select(AssetLatest.asset_id, AssetLatest.metric, AssetLatest.ts, AssetLatest.value).where(
                AssetLatest.metric.in_(LIVE_METRICS)
            )
        ):
            if a in assets:
                assets[a].values[m] = (to_ms(ts), float(v))
        day = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        day_ms = to_ms(day)
        for state in assets.values():
            state.day_ms = day_ms
        for a, energy in session.execute(
            select(TelemetryRollup.asset_id, TelemetryRollup.energy_kwh).where(
                TelemetryRollup.resolution == "1d", TelemetryRollup.bucket_start == day,
                TelemetryRollup.metric == "power_kw",
            )
        ):
            if a in assets:
                assets[a].energy_kwh = float(energy or 0.0)
        with self._lock:
            self.sites, self.assets = sites, assets

    # --- updating ----------------------------------------------------------------------------

    def apply(self, rows: Iterable[tuple[str, str, dt.datetime, float]]) -> tuple[set[str], set[str]]:
        """Advance the state with stored rows (asset, metric, ts, value); return (site ids, unknown asset ids)."""
        touched: set[str] = set()
        unknown: set[str] = set()
        max_gap = float(self.settings.energy_max_gap_s)
        live = [r for r in rows if r[1] in LIVE_METRICS]
        stamps = [round(ts.timestamp() * 1000) if ts.tzinfo is not None else to_ms(ts) for _, _, ts, _ in live]
        # in time order (a batch usually is already; sorting the positions is then one pass)
        order = sorted(range(len(live)), key=stamps.__getitem__)
        assets = self.assets
        with self._lock:
            for i in order:
                asset_id, metric, _, value = live[i]
                state = assets.get(asset_id)
                if state is None:
                    unknown.add(asset_id)
                    continue
                ts_ms = stamps[i]
                values = state.values
                prev = values.get(metric)
                if prev is not None:
                    if ts_ms <= prev[0]:
                        continue  # a late point: stored, but not the latest
                    if metric == "power_kw":
                        # the segment belongs to the day of its start (as in the store's rollups)
                        start_day = prev[0] - prev[0] % _DAY_MS
                        if start_day > state.day_ms:
                            state.energy_kwh, state.day_ms = 0.0, start_day
                        if start_day == state.day_ms:
                            state.energy_kwh += segment_kwh(prev[1], float(value), (ts_ms - prev[0]) / 1000.0, max_gap)
                values[metric] = (ts_ms, float(value))
                touched.add(state.site_id)
        return touched, unknown

    # --- reading -----------------------------------------------------------------------------

    def site_figures(self, site_ids: Iterable[str] | None, now_ms: int) -> dict[str, SiteFigures]:
        """Return the live figures of ``site_ids`` (all sites if None), keyed by site id."""
        stale_ms = self.settings.stale_after_s * 1000
        today = _day_start_ms(now_ms)
        with self._lock:
            wanted = set(self.sites) if site_ids is None else {s for s in site_ids if s in self.sites}
            acc: dict[str, dict] = {
                s: {"kw": 0.0, "n": 0, "t": None, "irr": [], "temp": [], "ws": [], "inv_kw": 0.0, "turbines": [],
                    "kwh": 0.0}
                for s in wanted
            }
            for state in self.assets.values():
                a = acc.get(state.site_id)
                if a is None:
                    continue
                vals = state.values
                for metric, key in (("irradiance_wm2", "irr"), ("temperature_c", "temp"), ("wind_speed_ms", "ws")):
                    item = vals.get(metric)
                    if item is not None and now_ms - item[0] <= stale_ms:
                        a[key].append(item[1])
                if not state.counts:
                    continue
                power = vals.get("power_kw")
                if power is not None:
                    a["t"] = power[0] if a["t"] is None else max(a["t"], power[0])
                    if now_ms - power[0] <= stale_ms:
                        a["kw"] += power[1]
                        a["n"] += 1
                if state.day_ms == today:
                    a["kwh"] += state.energy_kwh
                if state.kind == "inverter":
                    a["inv_kw"] += state.capacity_kw
                elif state.kind == "turbine":
                    ws = vals.get("wind_speed_ms")
                    own = ws[1] if ws is not None and now_ms - ws[0] <= stale_ms else None
                    a["turbines"].append((state.capacity_kw, own))
            return {site_id: self._figures(self.sites[site_id], a, now_ms) for site_id, a in acc.items()}

    def _figures(self, info: SiteInfo, a: dict, now_ms: int) -> SiteFigures:
        pv_kw = wind_kw = None
        if info.pv is not None and a["inv_kw"] > 0 and a["irr"]:
            temp = sum(a["temp"]) / len(a["temp"]) if a["temp"] else None
            pv_kw = pv_expected_kw(sum(a["irr"]) / len(a["irr"]), temp, a["inv_kw"], info.pv, now_ms / 1000.0)
        if a["turbines"]:
            site_ws = sum(a["ws"]) / len(a["ws"]) if a["ws"] else None
            wind_kw = wind_expected_kw(a["turbines"], site_ws)
        expected_kw = site_expected_kw(pv_kw, wind_kw)
        output_mw = a["kw"] / 1000.0 if a["n"] else None
        last = a["t"]
        last_dt = None if last is None else _EPOCH + dt.timedelta(milliseconds=last)
        status = site_status(output_mw, info.capacity_mw, last_dt, _EPOCH + dt.timedelta(milliseconds=now_ms),
                             self.settings)
        return SiteFigures(
            site_id=info.site_id, kind=info.kind, market=info.market, pricing_node=info.node,
            capacity_mw=info.capacity_mw, output_mw=output_mw,
            expected_mw=None if expected_kw is None else expected_kw / 1000.0,
            energy_today_mwh=a["kwh"] / 1000.0, last_ts_ms=last, status=status.value, assets_reporting=a["n"],
        )
