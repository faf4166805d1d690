"""DST days (23 and 25 local hours) in every market connector.

The ERCOT and ENTSO-E documents here are CONSTRUCTED in each provider's documented format (the
recorded fixtures hold no DST day): ERCOT's MIS CSV columns and DSTFlag convention, and an A44
document made from the recorded one with its period changed to a DST day.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.markets import entsoe, ercot
from connectors.markets.base import day_bounds_utc, local_to_utc

UTC = dt.UTC
FX = Path(__file__).resolve().parents[1] / "fixtures"
HEADER = "DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\n"


def dam_csv(date: str, hours: list[tuple[int, str]], nodes=("HB_NORTH", "HB_WEST")) -> str:
    lines = [f"{date},{h:02d}:00,{n}, {20 + h}.5,{flag}" for h, flag in hours for n in nodes]
    return HEADER + "\n".join(lines) + "\n"


def test_ercot_fall_back_day_has_25_hours():
    hours = [(1, "N"), (2, "N"), (2, "Y")] + [(h, "N") for h in range(3, 25)]
    out = ercot.parse_dam_spp(dam_csv("11/03/2024", hours))
    north = sorted((r for r in out if r.node == "HB_NORTH"), key=lambda r: r.interval_start)
    assert len(north) == 25
    assert north[0].interval_start == dt.datetime(2024, 11, 3, 5, tzinfo=UTC)  # 00:00 CDT
    assert [r.interval_start.hour for r in north[1:4]] == [6, 7, 8]  # HE02 CDT, HE02 CST (Y), HE03 CST
    assert north[-1].interval_end == dt.datetime(2024, 11, 4, 6, tzinfo=UTC)  # midnight CST
    assert all(b.interval_start == a.interval_end for a, b in zip(north, north[1:], strict=False))


def test_ercot_spring_forward_day_has_23_hours():
    hours = [(1, "N"), (2, "N")] + [(h, "N") for h in range(4, 25)]
    north = [r for r in ercot.parse_dam_spp(dam_csv("03/10/2024", hours)) if r.node == "HB_NORTH"]
    assert len(north) == 23
    assert north[0].interval_start == dt.datetime(2024, 3, 10, 6, tzinfo=UTC)
    assert north[2].interval_start == dt.datetime(2024, 3, 10, 8, tzinfo=UTC)  # HE04 = 03:00 CDT
    assert north[-1].interval_end == dt.datetime(2024, 3, 11, 5, tzinfo=UTC)


def test_ercot_hour_in_the_spring_gap_is_rejected():
    with pytest.raises(ercot.ErcotPayloadError, match="does not exist"):
        ercot.parse_dam_spp(dam_csv("03/10/2024", [(3, "N")]))


def test_ercot_repeated_hour_without_dstflag_is_rejected():
    with pytest.raises(ercot.ErcotPayloadError, match="appears twice"):
        ercot.parse_dam_spp(dam_csv("11/03/2024", [(2, "N"), (2, "N")]))


def test_ercot_rt_fall_back_intervals():
    header = "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag\n"
    body = header + "11/03/2024,2,4,HB_NORTH,HU,20,N\n11/03/2024,2,1,HB_NORTH,HU,21,Y\n"
    a, b = ercot.parse_rt_spp(body)
    assert a.interval_start == dt.datetime(2024, 11, 3, 6, 45, tzinfo=UTC)
    assert b.interval_start == dt.datetime(2024, 11, 3, 7, 0, tzinfo=UTC)


def a44_for_period(start: str, end: str, points: int) -> bytes:
    text = (FX / "entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml").read_text()
    head, _, _ = text.partition("<TimeSeries>")
    pts = "".join(f"<Point><position>{i}</position><price.amount>{40 + i}</price.amount></Point>"
                  for i in range(1, points + 1))
    series = ("<TimeSeries><mRID>1</mRID><businessType>A62</businessType>"
              "<in_Domain.mRID codingScheme=\"A01\">10Y1001A1001A82H</in_Domain.mRID>"
              "<currency_Unit.name>EUR</currency_Unit.name><price_Measure_Unit.name>MWH</price_Measure_Unit.name>"
              f"<curveType>A01</curveType><Period><timeInterval><start>{start}</start><end>{end}</end>"
              f"</timeInterval><resolution>PT60M</resolution>{pts}</Period></TimeSeries>")
    return (head + series + "</Publication_MarketDocument>").encode()


@pytest.mark.parametrize("day,start,end,hours", [
    (dt.date(2021, 3, 28), "2021-03-27T23:00Z", "2021-03-28T22:00Z", 23),
    (dt.date(2021, 10, 31), "2021-10-30T22:00Z", "2021-10-31T23:00Z", 25),
])
def test_entsoe_dst_days(day, start, end, hours):
    out = entsoe.parse_a44(a44_for_period(start, end, hours))
    assert len(out) == hours
    assert (out[0].interval_start, out[-1].interval_end) == day_bounds_utc(day, ZoneInfo("Europe/Brussels"))


def test_entsoe_position_outside_period_is_rejected():
    with pytest.raises(entsoe.EntsoePayloadError, match="position 24 outside 1..23"):
        entsoe.parse_a44(a44_for_period("2021-03-27T23:00Z", "2021-03-28T22:00Z", 24))


@pytest.mark.parametrize("tz,day,hours", [
    ("America/Los_Angeles", dt.date(2020, 3, 8), 23), ("America/Los_Angeles", dt.date(2020, 11, 1), 25),
    ("America/Chicago", dt.date(2024, 3, 10), 23), ("Europe/Berlin", dt.date(2024, 10, 27), 25),
])
def test_day_bounds(tz, day, hours):
    start, end = day_bounds_utc(day, ZoneInfo(tz))
    assert end - start == dt.timedelta(hours=hours)


def test_local_to_utc_fold():
    tz = ZoneInfo("America/Chicago")
    first = local_to_utc(dt.date(2024, 11, 3), 60, tz)
    second = local_to_utc(dt.date(2024, 11, 3), 60, tz, second_occurrence=True)
    assert second - first == dt.timedelta(hours=1)
