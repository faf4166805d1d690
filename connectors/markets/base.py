"""Base class and registry of market connectors, and local-time helpers for DST days.

Vocabulary: ``get_prices(market_type, day, nodes=None) -> list[PriceRecord]`` for one market
day (the market's own local day, 23/24/25 hours), ``market_type`` "DA" or "RT". A connector that
does not offer a market type raises :class:`gateway.errors.UnsupportedRequest`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import ClassVar
from zoneinfo import ZoneInfo

from connectors.base import Connector
from connectors.records import UTC, PriceRecord
from gateway import Gateway
from gateway.errors import ConfigurationError

MARKET_PROVIDERS: dict[str, type[MarketProvider]] = {}


def local_to_utc(day: dt.date, minutes: int, tz: ZoneInfo, second_occurrence: bool = False) -> dt.datetime:
    """Return the UTC instant of wall-clock ``day 00:00 + minutes`` in ``tz``.

    ``second_occurrence`` picks the later of a repeated wall time (autumn fall-back: fold=1).
    Raises ValueError for a wall time that does not exist (spring-forward gap).
    """
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    local = wall.replace(tzinfo=tz, fold=1 if second_occurrence else 0)
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != wall:
        raise ValueError(f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key} (DST gap)")
    return utc


def day_bounds_utc(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Return [start, end) in UTC of local ``day`` in ``tz`` (23, 24 or 25 hours long)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(UTC)
    return start, end


class MarketProvider(Connector):
    """A market connector; subclasses set identity attributes and implement ``get_prices``."""

    market: ClassVar[str] = ""
    default_timezone: ClassVar[str] = "UTC"
    currency: ClassVar[str] = "USD"
    market_types: ClassVar[tuple[str, ...]] = ("DA", "RT")
    default_nodes: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            MARKET_PROVIDERS[cls.name] = cls

    @property
    def tz(self) -> ZoneInfo:
        """Return the market's local time zone."""
        return ZoneInfo(self.default_timezone)

    def check_market_type(self, market_type: str) -> None:
        """Raise UnsupportedRequest when this connector does not offer ``market_type``."""
        if market_type not in ("DA", "RT"):
            raise ConfigurationError(self.name, f"market_type must be 'DA' or 'RT', got {market_type!r}")
        if market_type not in self.market_types:
            raise self.unsupported(f"{market_type} prices")

    def get_prices(self, market_type: str, day: dt.date, nodes: Iterable[str] | None = None) -> list[PriceRecord]:
        """Return the prices of local market ``day`` for ``nodes`` (None: all the answer holds)."""
        raise self.unsupported(f"{market_type} prices")


def filter_nodes(records: list[PriceRecord], nodes: Iterable[str] | None) -> list[PriceRecord]:
    """Return ``records`` restricted to ``nodes`` (all when None)."""
    if nodes is None:
        return records
    wanted = set(nodes)
    return [r for r in records if r.node in wanted]


def market_provider(name: str, gateway: Gateway | None = None) -> MarketProvider:
    """Return an instance of the registered market connector ``name``."""
    import connectors.markets.caiso
    import connectors.markets.eex
    import connectors.markets.entsoe
    import connectors.markets.ercot  # noqa: F401

    try:
        return MARKET_PROVIDERS[name](gateway)
    except KeyError:
        raise ConfigurationError(name, f"unknown market provider (known: {sorted(MARKET_PROVIDERS)})") from None
