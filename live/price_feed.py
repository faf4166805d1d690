"""Market prices for the live price panel, replayed from REAL price data onto today's clock.

Until the market connectors feed live prices, this feed publishes ``prices.v1`` messages built
from recorded market data (demo_data/SOURCES.md):

* **EPEX** zones (DE-LU, FR, NL, DK1, ...): SMARD day-ahead prices of 2018, hourly, taken for the
  same month, day and UTC hour as today (DE-AT-LU before 2018-10-01 and DE-LU after, continued).
* **ERCOT** hubs and load zones: the DAM settlement point prices of 2017-02-14 (NP4-190-CD),
  hour by local (America/Chicago) hour ending, repeated every day.
* **CAISO** trading hubs and DLAPs: the DAM LMPs of 2020-01-01 (OASIS PRC_LMP), by local hour.

Day-ahead prices are those real values. There is no recorded real-time series, so the real-time
price is SIMULATED, labelled so on the page: DA price of the hour plus an AR(1) deviation whose
size is the node's real hour-to-hour DA volatility, with rare spikes. It is deterministic per
(node, interval), so every process publishes the same value. RT intervals: 15 min (ERCOT, EPEX),
5 min (CAISO). All prices in currency per MWh; intervals labelled by their start, UTC.
"""
from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

log = logging.getLogger(__name__)

PRICES_TOPIC = "prices.v1"
SOURCE = "price-sim"
UTC = dt.UTC
SMARD_FILE = "market/smard_day_ahead_prices_2015_2018_hourly_utc.csv.gz"
ERCOT_FILE = "market/ercot_dam_spp_np4-190-cd_2017-02-14.csv.gz"
CAISO_FILE = "market/caiso_prc_lmp_dam_2020-01-01_hubs_dlaps.zip"
SMARD_ZONES = {
    "DE-LU": ("Germany/Austria/Luxembourg", "Germany/Luxembourg"), "FR": ("France",), "NL": ("Netherlands",),
    "DK1": ("Denmark 1",), "DK2": ("Denmark 2",), "SE4": ("Sweden 4",), "PL": ("Poland",),
    "IT-NORD": ("Northern Italy",), "CH": ("Switzerland",), "CZ": ("Czech Republic",), "HU": ("Hungary",),
    "SI": ("Slovenia",), "AT": ("Austria", "Germany/Austria/Luxembourg"),
}
ERCOT_NODES = ("HB_HOUSTON", "HB_NORTH", "HB_SOUTH", "HB_WEST", "HB_BUSAVG", "HB_HUBAVG", "LZ_AEN", "LZ_CPS",
               "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST")
CAISO_NODES = ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND", "TH_ZP26_GEN-APND", "DLAP_PGAE-APND", "DLAP_SCE-APND",
               "DLAP_SDGE-APND")


@dataclass(frozen=True)
class MarketSpec:
    """How a market's recorded DA prices map onto today and how its RT prices are simulated."""

    market: str
    currency: str
    timezone: str
    rt_minutes: int
    source_note: str


MARKETS = {
    "EPEX": MarketSpec("EPEX", "EUR", "UTC", 15, "SMARD day-ahead 2018 (Bundesnetzagentur, CC BY 4.0)"),
    "ERCOT": MarketSpec("ERCOT", "USD", "America/Chicago", 15, "ERCOT DAM SPP NP4-190-CD of 2017-02-14"),
    "CAISO": MarketSpec("CAISO", "USD", "America/Los_Angeles", 5, "CAISO OASIS PRC_LMP DAM of 2020-01-01"),
}


class PriceBook:
    """Recorded day-ahead prices per (market, node), with the lookups that map them onto any day."""

    def __init__(self, smard: dict[str, dict[tuple[int, int, int], float]], daily: dict[tuple[str, str], list[float]]) -> None:
        self._smard = smard  # zone -> (month, day, hour UTC) -> price
        self._daily = daily  # (market, node) -> 24 prices by local hour (0 = hour ending 01)
        self._sigma: dict[tuple[str, str], float] = {}
        for zone, table in smard.items():
            zone_values = np.array([table[k] for k in sorted(table)])
            self._sigma[("EPEX", zone)] = float(np.nanstd(np.diff(zone_values))) if len(zone_values) > 2 else 5.0
        for key, values in daily.items():
            self._sigma[key] = float(np.std(np.diff(values))) if len(values) > 2 else 2.0

    def nodes(self) -> list[tuple[str, str]]:
        """Return every (market, node) priced by the book."""
        return sorted([("EPEX", z) for z in self._smard] + list(self._daily))

    def currency(self, market: str) -> str:
        """Return the currency of ``market``."""
        return MARKETS[market].currency

    def da_price(self, market: str, node: str, at: dt.datetime) -> float | None:
        """Return the day-ahead price (currency/MWh) in force at instant ``at`` (UTC), or None."""
        if market == "EPEX":
            table = self._smard.get(node)
            if table is None:
                return None
            day = 28 if (at.month, at.day) == (2, 29) else at.day
            return table.get((at.month, day, at.hour))
        values = self._daily.get((market, node))
        if values is None:
            return None
        local = at.astimezone(ZoneInfo(MARKETS[market].timezone))
        return values[min(local.hour, 23)]

    def volatility(self, market: str, node: str) -> float:
        """Return the node's real hour-to-hour DA price change standard deviation (currency/MWh)."""
        return max(self._sigma.get((market, node), 2.0), 0.5)

    def rt_price(self, market: str, node: str, interval_start: dt.datetime) -> float | None:
        """Return the SIMULATED real-time price of the RT interval starting at ``interval_start``."""
        da = self.da_price(market, node, interval_start)
        if da is None:
            return None
        step = MARKETS[market].rt_minutes
        day = interval_start.astimezone(UTC).date()
        path = _deviation_path(market, node, day.isoformat(), 1440 // step, self.volatility(market, node))
        minute = interval_start.hour * 60 + interval_start.minute
        return round(da + float(path[minute // step]), 2)


@functools.lru_cache(maxsize=512)
def _deviation_path(market: str, node: str, day: str, n: int, sigma: float) -> np.ndarray:
    """Return a deterministic AR(1) deviation path (currency/MWh) with rare positive spikes."""
    seed = int.from_bytes(hashlib.sha256(f"{market}|{node}|{day}".encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    phi = 0.85
    shocks = rng.normal(0.0, sigma * 0.6 * np.sqrt(1 - phi**2), n)
    path = np.empty(n)
    level = 0.0
    for i in range(n):
        level = phi * level + shocks[i]
        path[i] = level
    spikes = rng.random(n) < 0.012
    path[spikes] += rng.uniform(4.0, 10.0, int(spikes.sum())) * max(sigma, 3.0)
    return path


def load_price_book(demo_data_dir: Path) -> PriceBook:
    """Return the price book read from the recorded files under ``demo_data_dir``."""
    from connectors.markets.caiso import parse_oasis_zip
    from connectors.markets.ercot import parse_dam_spp

    frame = pl.read_csv(demo_data_dir / SMARD_FILE, infer_schema_length=0)
    times = pl.Series(frame["time_utc"]).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
    frame = frame.with_columns(times.alias("t")).filter(pl.col("t").dt.year() == 2018)
    smard: dict[str, dict[tuple[int, int, int], float]] = {}
    for zone, columns in SMARD_ZONES.items():
        table: dict[tuple[int, int, int], float] = {}
        for column in reversed(columns):  # later columns first so the first named wins where both exist
            if column not in frame.columns:
                continue
            for t, value in zip(frame["t"], frame[column], strict=False):
                if value not in (None, ""):
                    table[(t.month, t.day, t.hour)] = float(value)
        if len(table) > 24 * 300:
            smard[zone] = table
    daily: dict[tuple[str, str], list[float]] = {}
    ercot = parse_dam_spp(gzip.decompress((demo_data_dir / ERCOT_FILE).read_bytes()))
    caiso = parse_oasis_zip((demo_data_dir / CAISO_FILE).read_bytes(), "DA")
    for records, market, wanted in ((ercot, "ERCOT", ERCOT_NODES), (caiso, "CAISO", CAISO_NODES)):
        tz = ZoneInfo(MARKETS[market].timezone)
        by_node: dict[str, dict[int, float]] = {}
        for r in records:
            if r.node in wanted:
                by_node.setdefault(r.node, {})[r.interval_start.astimezone(tz).hour] = r.price
        for node, hours in by_node.items():
            if len(hours) >= 23:
                filled = [hours.get(h, hours.get(h - 1, 0.0)) for h in range(24)]
                daily[(market, node)] = filled
    return PriceBook(smard, daily)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def day_ahead_ticks(book: PriceBook, day: dt.date) -> list[dict[str, Any]]:
    """Return prices.v1 price items for every hour of UTC ``day`` and every node (DA)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=UTC)
    items = []
    for market, node in book.nodes():
        for h in range(24):
            t = start + dt.timedelta(hours=h)
            price = book.da_price(market, node, t)
            if price is not None:
                items.append({"market": market, "node": node, "market_type": "DA", "interval_start": _iso(t),
                              "interval_end": _iso(t + dt.timedelta(hours=1)), "price": price,
                              "currency": book.currency(market)})
    return items


def real_time_ticks(book: PriceBook, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Return prices.v1 items for every RT interval that starts in [since, until) (UTC)."""
    items = []
    for market, node in book.nodes():
        step = dt.timedelta(minutes=MARKETS[market].rt_minutes)
        t = since.replace(second=0, microsecond=0)
        t -= dt.timedelta(minutes=t.minute % MARKETS[market].rt_minutes)
        if t < since:
            t += step
        while t < until:
            price = book.rt_price(market, node, t)
            if price is not None:
                items.append({"market": market, "node": node, "market_type": "RT", "interval_start": _iso(t),
                              "interval_end": _iso(t + step), "price": price, "currency": book.currency(market)})
            t += step
    return items


class PriceFeed:
    """Publishes DA prices for today and tomorrow and each RT interval as it starts."""

    def __init__(self, bus: Any, book: PriceBook, history_hours: float = 6.0) -> None:
        self.bus = bus
        self.book = book
        self.history_hours = history_hours
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._published_until: dt.datetime | None = None
        self._da_days: set[dt.date] = set()

    def publish_due(self, now: dt.datetime) -> int:
        """Publish what is due at ``now`` (missing DA days, new RT intervals); return items published."""
        items: list[dict[str, Any]] = []
        for day in (now.date(), (now + dt.timedelta(days=1)).date()):
            if day not in self._da_days:
                items += day_ahead_ticks(self.book, day)
                self._da_days.add(day)
        since = self._published_until or now - dt.timedelta(hours=self.history_hours)
        until = now + dt.timedelta(seconds=1)
        items += real_time_ticks(self.book, since, until)
        self._published_until = until
        for start in range(0, len(items), 2000):
            self.bus.publish(PRICES_TOPIC, {"v": 1, "source": SOURCE, "prices": items[start : start + 2000]})
        return len(items)

    def start(self) -> None:
        """Start the feed thread (publishes at once, then every 10 s)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="fleetlight-price-feed", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        """Return True while the feed thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the feed thread and wait up to ``timeout`` seconds for it."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.publish_due(dt.datetime.now(UTC))
            except Exception:
                log.exception("price feed publish failed")
            self._stop.wait(10.0)
