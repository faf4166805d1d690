"""The live state of the fleet held in memory by the hub: latest values per asset, site totals.

Seeded from the store (``asset_latest`` and today's daily rollups) and advanced by every batch
the store worker commits, so building a push costs O(changed assets), not a database query.
Site figures (all MW / MWh, timestamps epoch milliseconds UTC):

* ``o`` output now: sum of the latest ``power_kw`` of generating assets reported within 15 min;
* ``e`` expected now: PVWatts from the site's irradiance/temperature, or the power curve from each
  turbine's wind speed (see :mod:`live.physics`); None when the site reports no weather;
* ``cf`` capacity factor now (output / capacity); ``en`` energy since 00:00 UTC (rollup seed +
  left Riemann sum of power over time between points, gaps over 15 min not bridged);
* ``t`` last power timestamp; ``st`` status as on the map ('producing', 'idle', 'stale', 'no data').
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.fleet import STALE_AFTER, site_status
from data.models import Asset, AssetLatest, Site, TelemetryRollup
from live.physics import pv_expected_fraction, wind_expected_fraction

LIVE_METRICS = ("power_kw", "irradiance_wm2", "temperature_c", "wind_speed_ms")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_STALE_MS = int(STALE_AFTER.total_seconds() * 1000)
_GAP_MS = 15 * 60 * 1000
_NON_GENERATING = {"meter", "transformer"}
NON_GENERATING_ASSET_KINDS = frozenset(_NON_GENERATING)


def site_expected_kw(site_kind: str, generating: list[tuple[float, float | None]], irradiance_wm2: float | None,
                     temperature_c: float | None, wind_speed_ms: float | None) -> float | None:
    """Return a site's expected output (kW) from the weather it measures, or None without weather.

    ``generating`` = (capacity kW, own wind speed or None) per generating asset; PV sites use the
    site's mean irradiance and temperature, wind sites each turbine's speed, else the site mean.
    """
    if site_kind in ("solar", "hybrid") and irradiance_wm2 is not None:
        return (pv_expected_fraction(irradiance_wm2, temperature_c) or 0.0) * sum(cap for cap, _ws in generating)
    if site_kind == "wind" and (wind_speed_ms is not None or any(ws is not None for _c, ws in generating)):
        return sum((wind_expected_fraction(ws if ws is not None else wind_speed_ms) or 0.0) * cap for cap, ws in generating)
    return None


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


@dataclass
class AssetState:
    """Latest values of one asset: metric -> (ts_ms, value); energy today in kWh."""

    site_id: str
    kind: str
    capacity_kw: float
    values: dict[str, tuple[int, float]] = field(default_factory=dict)
    energy_kwh: float = 0.0
    day_ms: int = 0


def _day_start_ms(ts_ms: int) -> int:
    return ts_ms - ts_ms % 86_400_000


class LiveState:
    """Thread-safe in-memory live state; ``apply`` returns the sites whose figures changed."""

    def __init__(self) -> None:
        self.sites: dict[str, SiteInfo] = {}
        self.assets: dict[str, AssetState] = {}
        self._lock = threading.Lock()

    # --- loading -----------------------------------------------------------------------------

    def load(self, session: Session, now: dt.datetime) -> None:
        """Replace the state with what the store holds now (sites, assets, latest values, energy)."""
        sites = {
            r.id: SiteInfo(r.id, r.name, r.kind.value, r.market, r.pricing_node or "", float(r.capacity_mw))
            for r in session.execute(select(Site.id, Site.name, Site.kind, Site.market, Site.pricing_node, Site.capacity_mw))
        }
        assets = {
            r.id: AssetState(r.site_id, r.kind.value, float(r.capacity_kw))
            for r in session.execute(select(Asset.id, Asset.site_id, Asset.kind, Asset.capacity_kw))
        }
        for a, m, ts, v in session.execute(
            select(AssetLatest.asset_id, AssetLatest.metric, AssetLatest.ts, AssetLatest.value).where(
                AssetLatest.metric.in_(LIVE_METRICS)
            )
        ):
            if a in assets:
                assets[a].values[m] = (to_ms(ts), float(v))
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        day_ms = to_ms(day)
        for a, total, count, last_ts in session.execute(
            select(TelemetryRollup.asset_id, TelemetryRollup.sum, TelemetryRollup.count, TelemetryRollup.last_ts).where(
                TelemetryRollup.resolution == "1d", TelemetryRollup.bucket_start == day,
                TelemetryRollup.metric == "power_kw",
            )
        ):
            if a in assets and count:
                covered_h = max((to_ms(last_ts) - day_ms) / 3_600_000.0, 0.0)
                assets[a].energy_kwh = (total / count) * covered_h
                assets[a].day_ms = day_ms
        with self._lock:
            self.sites, self.assets = sites, assets

    # --- updating ----------------------------------------------------------------------------

    def apply(self, rows: Iterable[tuple[str, str, dt.datetime, float]]) -> tuple[set[str], set[str]]:
        """Advance the state with stored rows (asset, metric, ts, value); return (site ids, unknown asset ids)."""
        touched: set[str] = set()
        unknown: set[str] = set()
        with self._lock:
            for asset_id, metric, ts, value in rows:
                if metric not in LIVE_METRICS:
                    continue
                state = self.assets.get(asset_id)
                if state is None:
                    unknown.add(asset_id)
                    continue
                ts_ms = to_ms(ts)
                prev = state.values.get(metric)
                if prev is not None and ts_ms < prev[0]:
                    continue  # a late point: stored, but not the latest
                if metric == "power_kw" and state.kind not in _NON_GENERATING:
                    day = _day_start_ms(ts_ms)
                    if state.day_ms != day:
                        state.energy_kwh, state.day_ms = 0.0, day
                    elif prev is not None and 0 < ts_ms - prev[0] <= _GAP_MS:
                        state.energy_kwh += prev[1] * (ts_ms - prev[0]) / 3_600_000.0
                state.values[metric] = (ts_ms, float(value))
                touched.add(state.site_id)
        return touched, unknown

    # --- reading -----------------------------------------------------------------------------

    def site_figures(self, site_ids: Iterable[str] | None, now_ms: int) -> dict[str, dict]:
        """Return the live figures of ``site_ids`` (all sites if None), keyed by site id."""
        with self._lock:
            wanted = set(self.sites) if site_ids is None else {s for s in site_ids if s in self.sites}
            acc: dict[str, dict] = {
                s: {"o": 0.0, "n": 0, "t": None, "exp": 0.0, "exp_n": 0, "irr": [], "temp": [], "ws": [],
                    "gen": [], "en": 0.0}
                for s in wanted
            }
            today = _day_start_ms(now_ms)
            for state in self.assets.values():
                a = acc.get(state.site_id)
                if a is None:
                    continue
                vals = state.values
                for metric, key in (("irradiance_wm2", "irr"), ("temperature_c", "temp"), ("wind_speed_ms", "ws")):
                    item = vals.get(metric)
                    if item is not None and now_ms - item[0] <= _STALE_MS:
                        a[key].append(item[1])
                # a substation's status and flow come from its transformers (it generates nothing)
                if state.kind in _NON_GENERATING and not (
                    state.kind == "transformer" and self.sites[state.site_id].kind == "substation"
                ):
                    continue
                power = vals.get("power_kw")
                if power is not None:
                    a["t"] = power[0] if a["t"] is None else max(a["t"], power[0])
                    if now_ms - power[0] <= _STALE_MS:
                        a["o"] += power[1]
                        a["n"] += 1
                if state.day_ms == today:
                    a["en"] += state.energy_kwh
                a["gen"].append((state.capacity_kw, vals.get("wind_speed_ms")))
            out = {}
            for site_id, a in acc.items():
                info = self.sites[site_id]
                out[site_id] = self._figures(info, a, now_ms)
        return out

    @staticmethod
    def _figures(info: SiteInfo, a: dict, now_ms: int) -> dict:
        fresh = [(cap, ws[1] if ws is not None and now_ms - ws[0] <= _STALE_MS else None) for cap, ws in a["gen"]]
        expected_kw = site_expected_kw(
            info.kind, fresh, sum(a["irr"]) / len(a["irr"]) if a["irr"] else None,
            sum(a["temp"]) / len(a["temp"]) if a["temp"] else None, sum(a["ws"]) / len(a["ws"]) if a["ws"] else None)
        output_mw = a["o"] / 1000.0 if a["n"] else None
        last = a["t"]
        last_dt = None if last is None else _EPOCH + dt.timedelta(milliseconds=last)
        status = site_status(output_mw, info.capacity_mw, last_dt, _EPOCH + dt.timedelta(milliseconds=now_ms))
        return {
            "o": None if output_mw is None else round(output_mw, 4),
            "e": None if expected_kw is None else round(expected_kw / 1000.0, 4),
            "cf": None if output_mw is None or not info.capacity_mw else round(output_mw / info.capacity_mw, 4),
            "en": round(a["en"] / 1000.0, 4),
            "t": last,
            "st": status,
            "n": a["n"],
        }

    def site_infos(self) -> list[SiteInfo]:
        """Return the sites, ordered by kind then name."""
        with self._lock:
            return sorted(self.sites.values(), key=lambda s: (s.kind, s.name))


def fleet_totals(figures: dict[str, dict], infos: dict[str, SiteInfo]) -> dict:
    """Return fleet output, expected (over sites with an expectation), capacity, energy, reporting."""
    out = exp = exp_out = en = 0.0
    reporting = 0
    last = None
    capacity = sum(i.capacity_mw for i in infos.values() if i.kind != "substation")
    for site_id, f in figures.items():
        info = infos.get(site_id)
        if info is not None and info.kind == "substation":
            # substations carry the flow of the sites behind them: counted as reporting, not as output
            reporting += f["o"] is not None
            if f["t"] is not None:
                last = f["t"] if last is None else max(last, f["t"])
            continue
        if f["o"] is not None:
            out += f["o"]
            reporting += 1
        if f["e"] is not None:
            exp += f["e"]
            exp_out += f["o"] or 0.0
        en += f["en"]
        if f["t"] is not None:
            last = f["t"] if last is None else max(last, f["t"])
    return {
        "o": round(out, 3), "e": round(exp, 3), "eo": round(exp_out, 3), "cap": round(capacity, 3),
        "cf": round(out / capacity, 4) if capacity else None, "en": round(en, 3), "rep": reporting,
        "sites": len(infos), "t": last,
    }
