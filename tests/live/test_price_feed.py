"""The price feed: real recorded DA prices on today's clock, deterministic simulated RT, idempotent store."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import func, select

from core.settings import get_settings
from data.models import MarketPrice
from live.price_feed import PriceFeed, day_ahead_ticks, load_price_book, real_time_ticks

UTC = dt.UTC


@pytest.fixture(scope="module")
def book():
    return load_price_book(get_settings().demo_data_dir)


def test_day_ahead_prices_are_the_recorded_ones(book):
    at = dt.datetime(2030, 3, 14, 17, 30, tzinfo=UTC)
    frame = pl.read_csv(get_settings().demo_data_dir / "market/smard_day_ahead_prices_2015_2018_hourly_utc.csv.gz",
                        infer_schema_length=0)
    recorded = frame.filter(pl.col("time_utc") == "2018-03-14T17:00:00Z")["France"][0]
    assert book.da_price("EPEX", "FR", at) == float(recorded)
    # ERCOT 2017-02-14, hour ending 12 (11:00-12:00 Central) at HB_SOUTH
    noon_ct = dt.datetime(2030, 7, 1, 16, 30, tzinfo=UTC)  # 11:30 CDT
    rows = [line for line in open(get_settings().demo_data_dir.parent / "tests/fixtures/ercot/dam_spp_np4-190-cd_2017-02-14.csv")
            if line.startswith("02/14/2017,12:00,HB_SOUTH,")]
    assert book.da_price("ERCOT", "HB_SOUTH", noon_ct) == float(rows[0].split(",")[3])
    assert book.da_price("EPEX", "NOWHERE", at) is None


def test_real_time_is_deterministic_and_on_the_interval_grid(book):
    start = dt.datetime(2030, 1, 2, 10, 0, tzinfo=UTC)
    a = real_time_ticks(book, start, start + dt.timedelta(hours=1))
    b = real_time_ticks(book, start, start + dt.timedelta(hours=1))
    assert a == b and a
    caiso = [t for t in a if t["market"] == "CAISO" and t["node"] == "TH_SP15_GEN-APND"]
    ercot = [t for t in a if t["market"] == "ERCOT" and t["node"] == "HB_WEST"]
    assert len(caiso) == 12 and len(ercot) == 4  # 5-min and 15-min intervals
    assert caiso[0]["interval_start"] == "2030-01-02T10:00:00Z" and caiso[0]["interval_end"] == "2030-01-02T10:05:00Z"
    assert len(day_ahead_ticks(book, start.date())) == 24 * len(book.nodes())


def test_feed_publishes_through_the_bus_into_the_store_once(services, book):
    from live.prices import PriceStore

    class _Hub:
        pushed: list = []

        @classmethod
        def push(cls, event, payload, room, scoped=None):
            cls.pushed.append((event, len(payload["prices"])))

        @classmethod
        def prices_changed(cls):
            pass

    store = PriceStore(services.db, _Hub)
    services.bus.subscribe("prices.v1", store.handle_message, group="store")
    feed = PriceFeed(services.bus, book, history_hours=1)
    now = dt.datetime(2030, 5, 5, 12, 2, tzinfo=UTC)
    published = feed.publish_due(now)
    again = PriceFeed(services.bus, book, history_hours=1).publish_due(now)  # another process, same values
    assert published == again > 0
    with services.db.session() as s:
        stored = s.execute(select(func.count()).select_from(MarketPrice)).scalar_one()
    assert stored == published  # the repeat stored nothing new
    board = store.full_state()[0][1]
    hub_node = next(n for n in board["nodes"] if n["node"] == "HB_SOUTH") if board["nodes"] else None
    assert board["full"] is True and board["nodes"] is not None
    assert hub_node is None or hub_node["currency"] == "USD"
