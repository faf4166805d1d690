"""The prices.v1 consumer (stores market prices exactly once) and the price reads of the markets page."""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, cast

from sqlalchemy import Table, and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bus.registry import validate
from data.db import Database
from data.models import MarketPrice, Site

log = logging.getLogger(__name__)
UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def _parse_iso(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return value.astimezone(UTC)


def _ms(t: dt.datetime) -> int:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int((t - _EPOCH).total_seconds() * 1000)


def store_prices(session: Session, items: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """Insert price items not stored yet (idempotent on market, node, type, interval start); return the new ones."""
    if not items:
        return []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = cast(Table, MarketPrice.__table__)
    rows = [{
        "market": i["market"], "node": i["node"], "market_type": i["market_type"],
        "interval_start": _parse_iso(i["interval_start"]), "interval_end": _parse_iso(i["interval_end"]),
        "price": float(i["price"]), "currency": i["currency"], "unit": "MWh", "source": source[:32],
    } for i in items]
    stmt = insert(table).on_conflict_do_nothing(
        index_elements=["market", "node", "market_type", "interval_start"]
    ).returning(table.c.market, table.c.node, table.c.market_type, table.c.interval_start, table.c.price)
    new = []
    for start in range(0, len(rows), 2000):
        for m, n, t, s, p in session.execute(stmt, rows[start : start + 2000]).all():
            new.append({"market": m, "node": n, "type": t, "start": _ms(s), "price": p})
    return new


def node_board(session: Session, now: dt.datetime) -> list[dict[str, Any]]:
    """Return one row per (market, node) with today's DA and RT prices so far.

    Each row: market, node, currency, ``da`` [[start_ms, price]] for today and tomorrow (UTC),
    ``rt`` [[start_ms, price]] for the last 24 h up to now, ``rt_minutes`` (interval length).
    """
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = session.execute(
        select(MarketPrice.market, MarketPrice.node, MarketPrice.market_type, MarketPrice.interval_start,
               MarketPrice.interval_end, MarketPrice.price, MarketPrice.currency)
        .where(
            and_(MarketPrice.interval_start >= day - dt.timedelta(days=1),
                 MarketPrice.interval_start < day + dt.timedelta(days=2))
        )
        .order_by(MarketPrice.market, MarketPrice.node, MarketPrice.interval_start)
    ).all()
    board: dict[tuple[str, str], dict[str, Any]] = {}
    now_ms = _ms(now)
    for market, node, kind, start, end, price, currency in rows:
        entry = board.setdefault((market, node), {"market": market, "node": node, "currency": currency,
                                                  "da": [], "rt": [], "rt_minutes": 15})
        start_ms = _ms(start)
        if kind == "DA" and start >= day:
            entry["da"].append([start_ms, price])
        elif kind == "RT" and now_ms - 86_400_000 <= start_ms <= now_ms:
            entry["rt"].append([start_ms, price])
            entry["rt_minutes"] = int((_ms(end) - start_ms) // 60000)
    for entry in board.values():
        prices = [p for _t, p in entry["da"]]
        steps = [b - a for a, b in zip(prices, prices[1:], strict=False)]
        mean = sum(steps) / len(steps) if steps else 0.0
        entry["sigma"] = round((sum((x - mean) ** 2 for x in steps) / len(steps)) ** 0.5, 3) if steps else 5.0
    return list(board.values())


def site_nodes(session: Session) -> dict[str, list[str]]:
    """Return {site_id: [market, pricing_node]} for every site."""
    return {s: [m, n or ""] for s, m, n in session.execute(select(Site.id, Site.market, Site.pricing_node))}


class PriceStore:
    """Bus consumer of prices.v1: store, then push the new prices to the ``markets`` room."""

    def __init__(self, db: Database, hub: Any) -> None:
        self.db = db
        self.hub = hub
        self._cache: tuple[float, list[tuple[str, Any]]] | None = None

    def handle_message(self, message: dict[str, Any]) -> None:
        """Validate and store a prices.v1 message; push what was new."""
        validate("prices.v1", message)
        with self.db.session() as session:
            new = store_prices(session, message["prices"], message["source"])
        if new:
            self._cache = None
            self.hub.prices_changed()  # the revenue rate is output x the latest price
            payload = {"full": False, "now": int(time.time() * 1000), "prices": new}
            # prices name nodes, not sites: every portfolio scope receives them as they are
            self.hub.push("markets_prices", payload, "markets", lambda _ids: payload)

    def full_state(self) -> list[tuple[str, Any]]:
        """Return the ``markets_prices`` full-state event for a client joining ``markets``."""
        if self._cache is not None and time.monotonic() - self._cache[0] < 5.0:
            return self._cache[1]
        now = dt.datetime.now(UTC)
        with self.db.session() as session:
            payload = {"full": True, "now": _ms(now), "nodes": node_board(session, now), "sites": site_nodes(session)}
        result = [("markets_prices", payload)]
        self._cache = (time.monotonic(), result)
        return result
