"""EEX Market Data API (EEX Group DataSource web service): daily settlement/close prices.

API: "EEX Market Data - API User Guide" (EEX AG, Ref. 009): ``GET /query/json/getDaily/<fields>/``
with ``priceSymbol="<symbol>"`` (EEX symbology, e.g. ``/E.DEBM`` style roots), ``chartstartdate``/
``chartstopdate`` (``yyyy/mm/dd``), ``dailybarinterval=Days``; HTTP Basic auth with the data
subscription's user and password (settings.eex_username / eex_password). Answer (JSON):
``{"results": {"items": [{"symbol": ..., "tradedatetimegmt": "M/D/YYYY h:mm:ss AM", "close": ...}]}}``.

Recorded answers (tests/fixtures/eex/, provenance in tests/fixtures/SOURCES.md): three real getDaily
answers of October 2025 (PEG day-ahead gas ``#E.PEG_GND1``, EUA futures ``/E.SEME[0]``). They hold
exactly the fields asked, in the order asked, pretty-printed with CRLF line ends; ``tradedatetimegmt``
is noon GMT of the trade date (``"10/24/2025 12:00:00 PM"``); ``symbol`` comes only when asked (this
connector asks for it; without it the asked symbol names the record). There is no offline replay:
without credentials EEX reports "not configured".

Canonical mapping: each daily item becomes a DA price for the day of the item's date (the trade date),
[00:00, 24:00) Europe/Berlin (23/25 hours on DST days), node = the price symbol, EUR/MWh. The
products recorded trade on weekdays only, so no recorded item falls on a DST Sunday: the 24-hour days
before and after the October 2025 change differ in their UTC offset (+02:00, then +01:00).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import as_float, as_str, load_json, make_payload_error, payload_guard, require
from connectors.errors import FieldError
from connectors.markets.base import MarketProvider, day_bounds_utc
from connectors.records import PriceRecord
from gateway.errors import ConfigurationError, EmptyPayload

NAME = "eex"
EexPayloadError = make_payload_error(NAME, "EexPayloadError")
MARKET = "EEX"
TZ = ZoneInfo("Europe/Berlin")
FIELDS = "close/tradedatetimegmt/symbol"


def _trade_date(value: Any) -> dt.date:
    text = str(value).strip()
    for fmt in ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise EexPayloadError(f"getDaily: unreadable tradedatetimegmt {text!r}")


@payload_guard(EexPayloadError, "getDaily")
def parse_daily(body: bytes | str, symbol: str | None = None) -> list[PriceRecord]:
    """Return one DA price per item of a getDaily JSON answer (EUR/MWh, Berlin delivery day in UTC).

    ``close`` must be a JSON number (a string such as ``"51.73"`` is refused, not coerced); an item
    with ``close`` null is skipped; two prices for one symbol and day are refused.
    """
    data = load_json(body, EexPayloadError, "getDaily")
    results = require(data, "results", EexPayloadError, "getDaily")
    items = require(results, "items", EexPayloadError, "getDaily results")
    if not isinstance(items, list):
        raise EexPayloadError("getDaily: 'items' is not an array")
    out = []
    seen: set[tuple[str, dt.date]] = set()
    for n, item in enumerate(items):
        price = as_float(require(item, "close", EexPayloadError, "getDaily item"), f"items[{n}].close")
        if price is None:
            continue
        day = _trade_date(as_str(require(item, "tradedatetimegmt", EexPayloadError, "getDaily item"),
                                 f"items[{n}].tradedatetimegmt"))
        raw_symbol = item.get("symbol")
        node = as_str(raw_symbol, f"items[{n}].symbol") if raw_symbol is not None else (symbol or "")
        if not node:
            raise EexPayloadError("getDaily: item without symbol")
        if (node, day) in seen:
            raise FieldError(f"items[{n}]: {node} has two prices for {day}")
        seen.add((node, day))
        start, end = day_bounds_utc(day, TZ)
        out.append(PriceRecord(MARKET, node[:64], "DA", start, end, price, "EUR", "MWh", NAME))
    if not out:
        raise EmptyPayload(NAME, "getDaily: no priced items")
    return out


class Eex(MarketProvider):
    """EEX Market Data API connector (daily prices per EEX symbol; credentials required)."""

    name = NAME
    label = "EEX Market Data API"
    market = MARKET
    default_timezone = "Europe/Berlin"
    currency = "EUR"
    market_types = ("DA",)
    payload_error = EexPayloadError

    def get_prices(self, market_type: str, day: dt.date, nodes: Iterable[str] | None = None) -> list[PriceRecord]:
        """Return the daily price of each EEX symbol in ``nodes`` for ``day``."""
        self.check_market_type(market_type)
        symbols = list(nodes or [])
        if not symbols:
            raise ConfigurationError(self.name, "name at least one EEX price symbol (nodes=[...])")
        return self.get_daily(symbols, day, day)

    def get_daily(self, symbols: list[str], start: dt.date, end: dt.date) -> list[PriceRecord]:
        """Return daily prices of ``symbols`` from ``start`` to ``end`` inclusive."""
        user, password = self.gateway.secret("eex_username"), self.gateway.secret("eex_password")
        auth = (user or "", password or "")
        out: list[PriceRecord] = []
        for symbol in symbols:
            params = {"priceSymbol": f'"{symbol}"', "chartstartdate": start.strftime("%Y/%m/%d"),
                      "chartstopdate": end.strftime("%Y/%m/%d"), "dailybarinterval": "Days",
                      "aggregatepriceselection": "First"}
            out += self.gateway.fetch(self.name, "GET", f"/query/json/getDaily/{FIELDS}/", endpoint="getDaily",
                                      params=params, auth=auth,
                                      parse=lambda r, s=symbol: parse_daily(r.content, s)).value
        return out
