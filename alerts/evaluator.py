"""The rule evaluator: runs the stored rules on what arrives on the bus, raises and clears through
:class:`alerts.lifecycle.AlertBook`.

Inputs (nothing polls the events table):

* ``telemetry.v1`` on the bus under its own consumer group ``alerts`` (every point, whichever
  process stores it): ``threshold`` rules and the data side of ``comm_loss`` (an asset heard from
  again clears its alert);
* ``prices.v1`` on the bus: ``price_spike`` and ``negative_price``;
* ``events.v1`` on the bus (the gateway publishes its failure and recovery events there): ``integration``;
* :meth:`RuleEngine.sweep` every minute (the passing of time is no message): ``comm_loss``
  (silence longer than the rule allows; PV only while the sun is up), ``severe_weather`` (the
  NOAA/OpenWeatherMap alerts the weather connectors stored for a site), and the lifecycle's
  housekeeping (flapping alerts settling, silences ending);
* :meth:`RuleEngine.underperformance` every 15 minutes: ``underperformance`` rules.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from alerts.conditions import ThresholdMachine, is_daylight
from alerts.lifecycle import ACTIVE, AlertBook, Condition
from alerts.rules import NOAA_SEVERITIES, definition_of
from data.db import Database
from data.models import Alert, AlertRule, Asset, AssetLatest, Site, WeatherAlert, utcnow
from domain.kinds import is_generating_asset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssetInfo:
    """What the evaluator needs to know of an asset."""

    site_id: str
    site_name: str
    asset_kind: str
    site_kind: str
    latitude: float | None
    longitude: float | None

    @property
    def pv(self) -> bool:
        """True for a PV asset (an inverter, or any asset of a solar site): silent at night by nature."""
        return self.asset_kind == "inverter" or self.site_kind == "solar"


@dataclass
class LoadedRule:
    """An enabled rule with its validated definition."""

    id: int
    definition: Any

    @property
    def kind(self) -> str:
        return str(self.definition.kind)


class RuleEngine:
    """Evaluates the enabled rules; thread-safe (telemetry, prices and sweeps arrive on several threads)."""

    def __init__(self, db: Database, book: AlertBook) -> None:
        self.db = db
        self.book = book
        self.rules: list[LoadedRule] = []
        self.assets: dict[str, AssetInfo] = {}
        self.sites: dict[str, AssetInfo] = {}  # site id -> its first asset's info (site kind, place)
        self.last_seen: dict[str, dt.datetime] = {}
        self.machines: dict[tuple[int, str], ThresholdMachine] = {}
        self.site_active: dict[tuple[int, str], set[str]] = {}  # grouped threshold rules: assets meeting it
        self.comm_active: set[str] = set()  # dedup keys of comm_loss alerts this engine raised
        self.evaluations = 0
        self._lock = threading.RLock()
        self._rules_at = -1e18

    # --- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        """Read the enabled rules, the asset directory and every asset's newest point time."""
        self.reload_rules()
        with self.db.read_session() as session:
            rows = session.execute(select(Asset.id, Asset.site_id, Asset.kind, Site.kind, Site.name, Site.latitude,
                                          Site.longitude).join(Site, Site.id == Asset.site_id)).all()
            latest = session.execute(select(AssetLatest.asset_id, AssetLatest.ts)).all()
            comm_keys = session.execute(select(Alert.dedup_key).where(
                Alert.rule == "comm_loss", Alert.state.in_(ACTIVE))).scalars().all()
        assets = {aid: AssetInfo(sid, sname, akind.value, skind.value, lat, lon)
                  for aid, sid, akind, skind, sname, lat, lon in rows}
        with self._lock:
            self.comm_active |= set(comm_keys)
            self.assets = assets
            self.sites = {}
            for info in assets.values():
                self.sites.setdefault(info.site_id, info)
            for aid, ts in latest:
                if ts is not None and (aid not in self.last_seen or ts > self.last_seen[aid]):
                    self.last_seen[aid] = ts

    def reload_rules(self) -> None:
        """Read the enabled rules again (after an edit; also every minute by the sweep)."""
        with self.db.read_session() as session:
            stored = session.execute(select(AlertRule).where(AlertRule.enabled.is_(True)).order_by(AlertRule.id)
                                     ).scalars().all()
            loaded = []
            for rule in stored:
                try:
                    loaded.append(LoadedRule(rule.id, definition_of(rule)))
                except ValueError as exc:  # a definition stored by an older version of the code
                    log.error("alert rule %s skipped: %s", rule.id, exc)
        with self._lock:
            self.rules = loaded
            live = {r.id for r in loaded}
            self.machines = {k: m for k, m in self.machines.items() if k[0] in live}
            self.site_active = {k: v for k, v in self.site_active.items() if k[0] in live}
            self._rules_at = time.monotonic()

    def _of(self, *kinds: str) -> list[LoadedRule]:
        return [r for r in self.rules if r.kind in kinds]

    @staticmethod
    def _in_scope(rule: LoadedRule, site_id: str | None) -> bool:
        return rule.definition.site_id is None or rule.definition.site_id == site_id

    # --- telemetry -------------------------------------------------------------------------

    def on_telemetry(self, message: dict[str, Any]) -> None:
        """``telemetry.v1`` consumer (group ``alerts``): every point published, in columns.

        Runs in the ingest request with the in-process bus, so only what a rule needs is built:
        each asset's newest instant (heard from), and datetimes only for the points of a metric
        some threshold rule watches."""
        asset_ids, metrics, stamps, values = (message[k] for k in ("asset_id", "metric", "ts_ms", "value"))
        newest: dict[str, int] = {}
        for asset_id, ms in zip(asset_ids, stamps, strict=True):
            if ms > newest.get(asset_id, -1):
                newest[asset_id] = ms
        with self._lock:
            watched = {r.definition.metric for r in self._of("threshold")}
        times: dict[int, dt.datetime] = {}

        def at(ms: int) -> dt.datetime:
            t = times.get(ms)
            if t is None:
                t = times[ms] = dt.datetime.fromtimestamp(ms / 1000.0, dt.UTC)
            return t

        heard = [(a, at(ms)) for a, ms in newest.items()]
        rows = ([(a, m, at(ms), float(v)) for a, m, ms, v in zip(asset_ids, metrics, stamps, values, strict=True)
                 if m in watched] if watched else [])
        self._evaluate(heard, rows)

    def on_stored(self, rows: list[tuple[str, str, dt.datetime, float]]) -> None:
        """Evaluate threshold rules on (asset_id, metric, ts, value) points; note who was heard from."""
        newest: dict[str, dt.datetime] = {}
        for asset_id, _, ts, _ in rows:
            prev = newest.get(asset_id)
            if prev is None or ts > prev:
                newest[asset_id] = ts
        self._evaluate(list(newest.items()), rows)

    def _evaluate(self, heard: list[tuple[str, dt.datetime]], rows: list[tuple[str, str, dt.datetime, float]]) -> None:
        """Note each asset's newest instant ``heard`` (ends its communication loss), then feed the
        threshold rules ``rows`` (asset_id, metric, ts, value) in order: a key may clear and raise
        again within one batch."""
        actions: list[tuple[Condition | str, dt.datetime | None]] = []
        with self._lock:
            for asset_id, ts in heard:
                prev = self.last_seen.get(asset_id)
                if prev is None or ts > prev:
                    self.last_seen[asset_id] = ts
                if self.comm_active:
                    info = self.assets.get(asset_id)
                    ends = (f":asset:{asset_id}", f":site:{info.site_id}" if info is not None else f":asset:{asset_id}")
                    for key in [k for k in self.comm_active if k.endswith(ends)]:
                        self.comm_active.discard(key)
                        actions.append((key, None))
            thresholds = self._of("threshold")
            for asset_id, metric, ts, value in rows if thresholds else ():
                info = self.assets.get(asset_id)
                for rule in thresholds:
                    d = rule.definition
                    if d.metric != metric or (d.asset_id is not None and d.asset_id != asset_id):
                        continue
                    if info is None or not self._in_scope(rule, info.site_id):
                        continue
                    self.evaluations += 1
                    machine = self.machines.get((rule.id, asset_id))
                    if machine is None:
                        machine = self.machines[(rule.id, asset_id)] = threshold_machine(d)
                    change = machine.feed(ts, float(value))
                    if change is None:
                        continue
                    if d.group == "site":
                        members = self.site_active.setdefault((rule.id, info.site_id), set())
                        was = bool(members)
                        (members.add if change == "raise" else members.discard)(asset_id)
                        if change == "raise" and not was:
                            actions.append((threshold_condition(rule.id, d, asset_id, info, float(value), ts), ts))
                        elif change == "clear" and was and not members:
                            actions.append((threshold_key(rule.id, info.site_id, "site"), ts))
                    elif change == "raise":
                        actions.append((threshold_condition(rule.id, d, asset_id, info, float(value), ts), ts))
                    else:
                        actions.append((threshold_key(rule.id, asset_id), ts))
        # stamped with the sample's time: the condition became true (or false) then
        for what, when in actions:
            if isinstance(what, Condition):
                self.book.raise_alert(what, when)
            else:
                self.book.clear(what, when, reason="data received again" if when is None else "condition cleared")

    # --- prices ----------------------------------------------------------------------------

    def on_prices(self, message: dict[str, Any]) -> None:
        """``prices.v1`` consumer: price spikes and negative prices per (market, node, market type)."""
        with self._lock:
            rules = self._of("price_spike", "negative_price")
        if not rules:
            return
        for tick in message.get("prices", ()):
            for rule in rules:
                d = rule.definition
                if d.market != tick["market"] or (d.node and d.node != tick["node"]) or \
                        (d.market_type and d.market_type != tick["market_type"]):
                    continue
                self.evaluations += 1
                price = float(tick["price"])
                key = f"{d.kind}:{rule.id}:{tick['market']}:{tick['node']}:{tick['market_type']}"
                on = price > d.above_per_mwh if d.kind == "price_spike" else price < d.below_per_mwh
                if on:
                    what = "price spike" if d.kind == "price_spike" else "negative price"
                    self.book.raise_alert(Condition(
                        d.kind, rule.id, d.site_id, None, d.severity,
                        f"{tick['market']} {tick['node']} {tick['market_type']}: {what} {price:,.2f} "
                        f"{tick['currency']}/MWh",
                        f"{d.name}: {price:,.2f} {tick['currency']}/MWh for {tick['interval_start']} to "
                        f"{tick['interval_end']} (limit "
                        f"{d.above_per_mwh if d.kind == 'price_spike' else d.below_per_mwh:,.2f})", key))
                else:
                    self.book.clear(key, reason=f"price back to {price:,.2f} {tick['currency']}/MWh")

    # --- events ----------------------------------------------------------------------------

    def on_event(self, message: dict[str, Any]) -> None:
        """``events.v1`` consumer: a provider failing or recovering (``integration`` rules)."""
        kind = message.get("kind")
        if kind not in ("integration.failed", "integration.recovered"):
            return
        provider = str(message.get("entity_id") or "")
        payload = message.get("payload") or {}
        with self._lock:
            rules = [r for r in self._of("integration") if r.definition.provider in (None, provider)]
        for rule in rules:
            self.evaluations += 1
            key = f"integration:{rule.id}:{provider}"
            if kind == "integration.recovered":
                self.book.clear(key, reason=f"{provider} recovered")
                continue
            text = str(payload.get("message") or payload.get("error") or "provider call failed")
            self.book.raise_alert(Condition("integration", rule.id, None, None, rule.definition.severity,
                                            f"{provider}: integration failing", text[:2000], key))

    # --- time-driven -----------------------------------------------------------------------

    def sweep(self, now: dt.datetime | None = None) -> dict[str, int]:
        """Evaluate communication loss and severe weather, then the lifecycle's housekeeping."""
        now = now or utcnow()
        self.reload_rules()
        raised = self._comm_loss(now) + self._severe_weather(now)
        settled = self.book.settle(now)
        return {"raised": raised, **settled}

    def _comm_loss(self, now: dt.datetime) -> int:
        raised = 0
        with self._lock:
            rules = self._of("comm_loss")
            assets = dict(self.assets)
            seen = dict(self.last_seen)
        for rule in rules:
            d = rule.definition
            limit = dt.timedelta(minutes=d.stale_after_min)
            by_site: dict[str, list[tuple[str, dt.datetime | None]]] = {}
            for aid, info in assets.items():
                if not self._in_scope(rule, info.site_id) or not is_generating_asset(info.asset_kind):
                    continue
                by_site.setdefault(info.site_id, []).append((aid, seen.get(aid)))
            for site_id, members in by_site.items():
                info = self.sites[site_id]
                if info.pv and not is_daylight(now, info.latitude, info.longitude):
                    continue  # a PV plant is silent at night by design
                stale = [(aid, last) for aid, last in members if last is not None and now - last > limit]
                self.evaluations += len(members)
                if d.scope == "site":
                    if stale and len(stale) == len(members):
                        newest = max(last for _a, last in stale if last is not None)
                        key = f"comm_loss:{rule.id}:site:{site_id}"
                        if key in self.comm_active:
                            continue
                        self.book.raise_alert(Condition(
                            "comm_loss", rule.id, site_id, None, d.severity,
                            f"{info.site_name}: communications lost",
                            f"no telemetry from any of its {len(members)} assets since "
                            f"{newest.strftime('%Y-%m-%d %H:%M UTC')} (limit {d.stale_after_min:g} min)", key,
                            parent=True), now)
                        with self._lock:
                            self.comm_active.add(key)
                        raised += 1
                    continue
                for aid, last in stale:
                    assert last is not None
                    key = f"comm_loss:{rule.id}:asset:{aid}"
                    if key in self.comm_active:
                        continue  # raised already: it stays until the asset is heard from
                    self.book.raise_alert(Condition(
                        "comm_loss", rule.id, site_id, aid, d.severity, f"{aid}: no telemetry",
                        f"last point {last.strftime('%Y-%m-%d %H:%M UTC')}, "
                        f"{(now - last).total_seconds() / 60:.0f} min ago (limit {d.stale_after_min:g} min)", key), now)
                    with self._lock:
                        self.comm_active.add(key)
                    raised += 1
        return raised

    def _severe_weather(self, now: dt.datetime) -> int:
        with self._lock:
            rules = self._of("severe_weather")
        if not rules:
            return 0
        with self.db.read_session() as session:
            current = session.execute(select(WeatherAlert).where(
                WeatherAlert.site_id.is_not(None), or_(WeatherAlert.ends.is_(None), WeatherAlert.ends > now),
                or_(WeatherAlert.onset.is_(None), WeatherAlert.onset <= now))).scalars().all()
            names = dict(session.execute(select(Site.id, Site.name)).all())
        raised = 0
        for rule in rules:
            d = rule.definition
            floor = NOAA_SEVERITIES.index(d.min_severity)
            live_keys = set()
            active_now = self._active_keys(f"severe_weather:{rule.id}:")
            for w in current:
                level = NOAA_SEVERITIES.index(w.severity) if w.severity in NOAA_SEVERITIES else (
                    floor if d.unrated and not w.severity else -1)
                if level < floor or not self._in_scope(rule, w.site_id):
                    continue
                self.evaluations += 1
                key = f"severe_weather:{rule.id}:{w.site_id}:{w.source}:{w.external_id}"[:200]
                live_keys.add(key)
                ends = w.ends.strftime("%Y-%m-%d %H:%M UTC") if w.ends else "further notice"
                if key in active_now:
                    continue  # raised already: it stays until the weather alert ends
                self.book.raise_alert(Condition(
                    "severe_weather", rule.id, w.site_id, None, d.severity,
                    f"{names.get(w.site_id or '', w.site_id)}: {w.event} ({w.severity or w.source})",
                    f"{w.headline or w.event} ({w.source}); until {ends}", key), now)
                raised += 1
            self._clear_missing(f"severe_weather:{rule.id}:", live_keys, now, "weather alert ended")
        return raised

    def _active_keys(self, prefix: str) -> set[str]:
        with self.db.read_session() as session:
            return set(session.execute(select(Alert.dedup_key).where(
                Alert.dedup_key.like(f"{prefix}%"), Alert.state.in_(ACTIVE))).scalars().all())

    def _clear_missing(self, prefix: str, live_keys: set[str], now: dt.datetime, reason: str) -> None:
        for key in self._active_keys(prefix) - live_keys:
            self.book.clear(key, now, reason)

    def underperformance(self, now: dt.datetime | None = None) -> dict[str, int]:
        """Run the anomaly detector for every underperformance rule and site; raise ongoing episodes."""
        from alerts.underperformance import site_episodes
        from domain.kinds import is_generating_site

        now = now or utcnow()
        with self._lock:
            rules = self._of("underperformance")
            sites = {sid: info for sid, info in self.sites.items() if is_generating_site(info.site_kind)}
        raised = cleared = 0
        end = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=now.minute % 15)
        for rule in rules:
            d = rule.definition
            start = end - dt.timedelta(hours=d.lookback_hours)
            for site_id, info in sites.items():
                if not self._in_scope(rule, site_id):
                    continue
                with self.db.read_session() as session:
                    found = site_episodes(session, site_id, start, end, window=d.window, k=d.k,
                                          min_shortfall_pct=d.min_shortfall_pct, min_expected_pct=d.min_expected_pct)
                self.evaluations += 1
                key = f"underperformance:{rule.id}:{site_id}"
                ep = found.ongoing
                if ep is None:
                    cleared += self.book.clear(key, now, "output back in line with expected") is not None
                    continue
                self.book.raise_alert(Condition(
                    "underperformance", rule.id, site_id, None,
                    "critical" if float(ep["mean_shortfall_pct"]) >= 30 and d.severity != "info" else d.severity,
                    f"{info.site_name}: {float(ep['mean_shortfall_pct']):.0f} % of capacity below expected",
                    f"{int(ep['intervals'])} 15-min intervals from {pd_iso(ep['start'])} to {pd_iso(ep['end'])}; "
                    f"energy lost {float(ep['energy_lost']):,.0f} kWh; expected from measured weather "
                    f"(performance model); z = {float(ep['z']):.1f}", key), now, still=True)
                raised += 1
        return {"raised": raised, "cleared": cleared}


def pd_iso(value: Any) -> str:
    """Return a pandas/py timestamp as 'YYYY-MM-DD HH:MM UTC'."""
    import pandas as pd

    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC") \
        if pd.Timestamp(value).tzinfo else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC")


def threshold_machine(d: Any) -> ThresholdMachine:
    """Return a fresh machine for a threshold rule definition."""
    return ThresholdMachine(d.direction, float(d.raise_level), float(d.clear_level),
                            dt.timedelta(minutes=d.raise_after_min), dt.timedelta(minutes=d.clear_after_min))


def threshold_key(rule_id: int, subject: str, group: str = "asset") -> str:
    """Return the dedup key of a threshold rule's alert on an asset (or, grouped, on a site)."""
    return f"threshold:{rule_id}:{subject}" if group == "asset" else f"threshold:{rule_id}:site:{subject}"


def threshold_condition(rule_id: int, d: Any, asset_id: str, info: AssetInfo, value: float,
                        ts: dt.datetime) -> Condition:
    """Return the condition a threshold rule raises for ``asset_id``."""
    sign = ">=" if d.direction == "above" else "<="
    held = f" for {d.raise_after_min:g} min" if d.raise_after_min else ""
    grouped = d.group == "site"
    return Condition("threshold", rule_id, info.site_id, None if grouped else asset_id, d.severity,
                     f"{info.site_name if grouped else asset_id}: {d.metric} {value:,.2f} ({d.name})",
                     f"{d.metric} {sign} {d.raise_level:g}{held} at {ts.strftime('%Y-%m-%d %H:%M:%S UTC')}; "
                     f"clears at {d.clear_level:g}" + (f" after {d.clear_after_min:g} quiet min"
                                                       if d.clear_after_min else "")
                     + (f"; first asset: {asset_id}" if grouped else ""),
                     threshold_key(rule_id, info.site_id if grouped else asset_id, d.group))
