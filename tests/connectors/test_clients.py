"""Connector clients against the local provider server: live calls, fault matrix, storage."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select

from connectors.markets.base import market_provider
from connectors.polling import poll_market
from connectors.store import store_alerts, store_prices, store_weather
from connectors.weather.base import weather_provider
from connectors.weather.service import forecast_with_fallback
from data.models import MarketPrice, Portfolio, Site, SiteKind, WeatherAlert, WeatherRecord
from gateway.errors import (
    AuthError,
    BadPayload,
    EmptyPayload,
    ProviderUnavailable,
    RateLimited,
    Timeout,
    UnsupportedRequest,
)
from tests.support.provider_server import FAST_LIMITS

D = dt.date
CALLS = {
    "owm": ("openweathermap", lambda gw: weather_provider("openweathermap", gw).get_forecast(51.5, -0.13)),
    "nws": ("noaa_nws", lambda gw: weather_provider("noaa_nws", gw).get_alerts(46.9, -116.9)),
    "ncei": ("noaa_ncei", lambda gw: weather_provider("noaa_ncei", gw).get_history(
        34.7, -86.6, D(2013, 9, 3), D(2013, 9, 30), station="GHCND:USC00200230")),
    "ercot": ("ercot", lambda gw: market_provider("ercot", gw).get_prices("DA", D(2017, 2, 14), ["HB_HOUSTON"])),
    "caiso": ("caiso", lambda gw: market_provider("caiso", gw).get_prices("DA", D(2020, 1, 1))),
    "entsoe": ("entsoe", lambda gw: market_provider("entsoe", gw).get_prices("DA", D(2021, 1, 1))),
    "eex": ("eex", lambda gw: market_provider("eex", gw).get_prices("DA", D(2025, 10, 27), ["#E.PEG_GND1"])),
}


def test_live_calls_return_canonical_records(make_gateway, server):
    gw = make_gateway()
    forecast = CALLS["owm"][1](gw)
    assert len(forecast) == 40 and forecast[0].temperature_c == pytest.approx(14.87)  # server converted K -> °C
    assert CALLS["nws"][1](gw)[0].event == "Winter Weather Advisory"  # point alerts: JSON-LD @graph form
    assert weather_provider("noaa_nws", gw).get_zone_alerts("ORZ006")[0].event == "Flood Watch"  # GeoJSON form
    history = CALLS["ncei"][1](gw)
    assert len(history) == 28 and history[5].precipitation_mm == pytest.approx(
        next(r for r in history if r.ts.day == 8).precipitation_mm)
    ercot = CALLS["ercot"][1](gw)
    assert len(ercot) == 24 and {r.node for r in ercot} == {"HB_HOUSTON"}
    caiso = CALLS["caiso"][1](gw)
    assert len(caiso) == 40712
    assert len(CALLS["entsoe"][1](gw)) == 240
    [eex] = CALLS["eex"][1](gw)  # the recorded getDaily answer for PEG day-ahead gas, trade date 27 Oct 2025
    assert (eex.node, eex.price) == ("#E.PEG_GND1", 30.198)
    assert (eex.interval_start, eex.interval_end) == (dt.datetime(2025, 10, 26, 23, tzinfo=dt.UTC),
                                                      dt.datetime(2025, 10, 27, 23, tzinfo=dt.UTC))
    ua = [h.get("user-agent") for p, _, h in server.requests if p == "nws"]
    assert ua and all(u.startswith("FleetlightTests/1.0") for u in ua)
    ercot_req = [h for p, _, h in server.requests if p == "ercot"]
    assert all(h["authorization"] == "Bearer test-id-token" for h in ercot_req)


def test_nws_forecast_and_current_follow_the_grid(make_gateway):
    nws = weather_provider("noaa_nws", make_gateway())
    assert len(nws.get_forecast(30, -85)) == 156
    [obs] = nws.get_current(30, -85)
    assert obs.station == "KFLL"
    with pytest.raises(UnsupportedRequest, match="outside the US"):
        nws.get_forecast(48.1, 11.6)


def test_unsupported_requests_are_named(make_gateway):
    gw = make_gateway()
    with pytest.raises(UnsupportedRequest, match="ENTSO-E Transparency does not offer RT prices"):
        market_provider("entsoe", gw).get_prices("RT", D(2021, 1, 1))
    with pytest.raises(UnsupportedRequest, match="EEX Market Data API does not offer RT"):
        market_provider("eex", gw).get_prices("RT", D(2021, 1, 1), ["x"])
    with pytest.raises(UnsupportedRequest, match="pass nodes"):
        market_provider("caiso", gw).get_prices("RT", D(2021, 1, 1))
    with pytest.raises(UnsupportedRequest):
        weather_provider("noaa_ncei", gw).get_forecast(1, 1)


def test_ercot_bad_password_is_auth_error(make_gateway):
    import connectors.markets.ercot as ercot

    ercot._tokens.clear()
    gw = make_gateway(ercot_password="wrong")
    with pytest.raises(AuthError, match="ercot.*token request refused.*AADB2C90225"):
        CALLS["ercot"][1](gw)
    ercot._tokens.clear()


FAULTS = {
    "401": AuthError,
    "429": RateLimited,
    "500": ProviderUnavailable,
    "timeout:0.5": Timeout,
    "html": BadPayload,
    "truncated": BadPayload,
    "missing-field": BadPayload,
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", list(CALLS))
def test_fault_matrix(make_gateway, server, caplog, name, fault):
    provider, call = CALLS[name]
    timeout = 0.2 if fault.startswith("timeout") else 10.0
    gw = make_gateway(provider_limits={provider: {"timeout_s": timeout, "max_attempts": 2, "backoff_initial_s": 0.01,
                                                  "backoff_max_s": 0.01, "rate_per_s": 10000, "burst": 10000}})
    server.persist(name, fault)
    with caplog.at_level(logging.WARNING, logger="gateway"), pytest.raises(FAULTS[fault]) as err:
        call(gw)
    assert err.value.provider == provider and str(err.value).startswith(provider)
    assert any(r.getMessage().startswith(provider) for r in caplog.records), "failure not logged"


@pytest.mark.parametrize("name", list(CALLS))
def test_new_field_is_tolerated(make_gateway, server, name):
    provider, call = CALLS[name]
    server.persist(name, "new-field")  # the server rewrites the body (CAISO: a 32 MB CSV), so allow time
    assert call(make_gateway(provider_limits={provider: {**FAST_LIMITS, "timeout_s": 20}}))


@pytest.mark.parametrize("name,expect", [
    ("owm", EmptyPayload), ("ncei", []), ("nws", []), ("caiso", EmptyPayload), ("entsoe", EmptyPayload),
    ("eex", EmptyPayload), ("ercot", EmptyPayload)])
def test_empty_day(make_gateway, server, name, expect):
    provider, call = CALLS[name]
    if name == "ercot":
        server.inject("ercot", "pass", "empty-day")  # listing fine, the day's document empty
    else:
        server.persist(name, "empty-day")
    if isinstance(expect, list):
        assert call(make_gateway()) == expect
    else:
        with pytest.raises(expect) as err:
            call(make_gateway())
        assert err.value.provider == provider


@pytest.mark.parametrize("name", ["caiso", "ercot"])
def test_zip_with_wrong_member(make_gateway, server, name):
    provider, call = CALLS[name]
    server.inject(name, *(["pass", "wrong-member"] if name == "ercot" else ["wrong-member"]))
    with pytest.raises(BadPayload, match=r"zip holds \['README.txt'\]") as err:
        call(make_gateway())
    assert err.value.provider == provider


def test_breaker_opens_and_cache_fallback_serves_data(make_gateway, server):
    gw = make_gateway()
    first = CALLS["entsoe"][1](gw)
    server.persist("entsoe", "503")
    for _ in range(3):
        assert CALLS["entsoe"][1](gw) == first  # served from the last good answer
    assert gw.state("entsoe") == "breaker open"
    assert CALLS["entsoe"][1](gw) == first  # breaker open: not attempted, still served


def test_secondary_weather_provider(make_gateway, server):
    gw = make_gateway()
    server.persist("owm", "500")
    records, used = forecast_with_fallback(30.0, -85.0, gateway=gw)
    assert used == "noaa_nws" and len(records) == 156
    with pytest.raises(ProviderUnavailable):
        forecast_with_fallback(48.1, 11.6, gateway=gw)  # outside the US: no secondary


def _site(db, market="ERCOT", node="HB_NORTH"):
    with db.session() as s:
        s.add(Portfolio(id="p1", name="P"))
        s.add(Site(id="s1", portfolio_id="p1", name="S", kind=SiteKind.solar, latitude=30.0, longitude=-85.0,
                   capacity_mw=10, market=market, pricing_node=node))


def test_store_prices_is_idempotent(make_gateway, store_db):
    records = CALLS["ercot"][1](make_gateway())
    assert store_prices(store_db, records) == 24
    assert store_prices(store_db, records) == 24
    with store_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MarketPrice)) == 24
        row = s.scalars(select(MarketPrice).order_by(MarketPrice.interval_start)).first()
    assert row.interval_start == dt.datetime(2017, 2, 14, 6, tzinfo=dt.UTC) and row.currency == "USD"


def test_store_weather_and_alerts_idempotent(make_gateway, store_db):
    gw = make_gateway()
    _site(store_db)
    forecast = CALLS["owm"][1](gw)
    current = weather_provider("openweathermap", gw).get_current(51.5, -0.13)
    alerts = CALLS["nws"][1](gw)
    for _ in range(2):
        store_weather(store_db, "s1", forecast + current)
        store_alerts(store_db, "s1", alerts)
    with store_db.session() as s:
        assert s.scalar(select(func.count()).select_from(WeatherRecord)) == 41
        assert s.scalar(select(func.count()).select_from(WeatherAlert)) == 1


def test_failed_poll_stores_nothing_and_replay_poll_stores(make_gateway, server, store_db):
    _site(store_db, market="CAISO", node="TH_NP15_GEN-APND")
    gw = make_gateway()
    server.persist("caiso", "truncated")
    assert poll_market("caiso", store_db, gw, today=D(2020, 1, 1)) == 0
    with store_db.session() as s:
        assert s.scalar(select(func.count()).select_from(MarketPrice)) == 0
    server.persist("caiso", None)
    stored = poll_market("caiso", store_db, gw, today=D(2020, 1, 1))
    assert stored == 2 * 3 * 24  # DA today + tomorrow, 3 trading hubs


def test_replay_poll_without_keys(store_db):
    from core.settings import load_settings
    from gateway import Gateway

    gw = Gateway(load_settings(provider_polling_enabled=False), db=None)
    try:
        assert poll_market("entsoe", store_db, gw) > 0
    finally:
        gw.close()
    with store_db.session() as s:  # the recorded DE-LU document: 48 hourly + 192 quarter-hourly prices
        assert s.scalar(select(func.count()).select_from(MarketPrice)) == 240


def test_provider_polling_follows_its_setting(store_db):
    # the switch is the setting (the test settings turn it off), not a question about pytest
    from bootstrap.build import make_scheduler
    from bootstrap.components import ProviderPolling
    from core.settings import load_settings
    from gateway import Gateway

    gw = Gateway(load_settings(provider_polling_enabled=False), db=None)
    scheduler = make_scheduler()
    try:
        off = ProviderPolling(scheduler, store_db, gw, enabled=False)
        off.start()
        assert off.job_ids == [] and scheduler.get_jobs() == []
        on = ProviderPolling(scheduler, store_db, gw, enabled=True)
        on.start()  # no keys: every market provider is replayed once from its recording
        assert sorted(on.job_ids) == sorted(j.id for j in scheduler.get_jobs())
        assert {"replay-entsoe", "replay-ercot"} <= set(on.job_ids)
        assert on.health()["polling"] is True
        on.stop(1.0)
        assert scheduler.get_jobs() == []
    finally:
        gw.close()


def test_caiso_try_later_code_is_retried_by_the_gateway(make_gateway, server):
    """OASIS 1015 ('try later') in a 200 zip is a retryable ProviderBusy: the gateway asks again."""
    from gateway.errors import ProviderBusy, RequestRejected

    gw = make_gateway()
    server.inject("caiso", "oasis:1015")
    before = server.count("caiso")
    assert len(CALLS["caiso"][1](gw)) == 40712
    assert server.count("caiso") - before == 2  # the busy answer, then the report
    server.persist("caiso", "oasis:1015")
    with pytest.raises(ProviderBusy, match="OASIS error 1015: Request is being processed"):
        market_provider("caiso", make_gateway()).get_prices("DA", D(2020, 1, 2))
    server.persist("caiso", "oasis:1002")
    with pytest.raises(RequestRejected, match="OASIS error 1002: Invalid date format"):
        market_provider("caiso", make_gateway()).get_prices("DA", D(2020, 1, 3))
    server.persist("caiso", None)


def test_ercot_rt_full_posting_through_the_gateway(make_gateway):
    """The full NP6-905-CD posting, zipped as ERCOT serves it: DC ties are two series, nothing dropped."""
    out = market_provider("ercot", make_gateway()).get_prices("RT", D(2024, 3, 29))
    assert len(out) == 908
    by_node = {r.node: r.price for r in out}
    assert by_node["DC_E"] == by_node["DC_E:EW"] == 2.95 and by_node["LZ_WEST:EW"] is not None


def test_ercot_rt_offline_replay_serves_the_full_posting(store_db):
    """Without ERCOT credentials the recorded full posting is replayed: every settlement-point type."""
    from core.settings import load_settings
    from gateway import Gateway

    gw = Gateway(load_settings(provider_polling_enabled=False), db=store_db, flush_interval_s=0.05)
    try:
        assert gw.mode("ercot") == "offline replay"
        out = market_provider("ercot", gw).get_prices("RT", D(2030, 1, 1))  # a replay serves its recorded day
        assert len(out) == 908 and {"DC_N", "DC_N:EW", "AMOCO_PUN1", "HB_BUSAVG"} <= {r.node for r in out}
    finally:
        gw.close()


def test_eex_recorded_days_through_the_gateway(make_gateway, server):
    """The recorded getDaily answers, served as EEX serves them: one price per symbol and trade day.

    24 and 27 October 2025 bracket the autumn DST change (26 October): the same 24-hour Berlin day
    starts at 22:00Z before it and at 23:00Z after it.
    """
    eex = market_provider("eex", make_gateway())
    [gas_fri] = eex.get_prices("DA", D(2025, 10, 24), ["#E.PEG_GND1"])
    [gas_mon] = eex.get_prices("DA", D(2025, 10, 27), ["#E.PEG_GND1"])
    [co2_mon] = eex.get_prices("DA", D(2025, 10, 27), ["/E.SEME[0]"])
    assert (gas_fri.price, gas_mon.price, co2_mon.price) == (30.971, 30.198, 77.52)  # "close" of each file
    assert (gas_fri.interval_start, gas_fri.interval_end) == (dt.datetime(2025, 10, 23, 22, tzinfo=dt.UTC),
                                                              dt.datetime(2025, 10, 24, 22, tzinfo=dt.UTC))
    assert co2_mon.interval_start == gas_mon.interval_start == dt.datetime(2025, 10, 26, 23, tzinfo=dt.UTC)
    assert {r.currency for r in (gas_fri, gas_mon, co2_mon)} == {"EUR"} and co2_mon.node == "/E.SEME[0]"
    asked = [h for p, _, h in server.requests if p == "eex"]
    assert len(asked) == 3 and all(h["authorization"].startswith("Basic ") for h in asked)


def test_caiso_real_oasis_xml_of_another_report_is_refused_by_name(make_gateway, server):
    """A real OASISReport XML (ENE_LOSS DAM over the spring DST change) in the zip: not read as LMPs."""
    from gateway.errors import BadPayload

    server.persist("caiso", "member:caiso_oasis/20130309_20130311_ENE_LOSS_DAM_20190803_22_07_54_v1.xml")
    with pytest.raises(BadPayload, match=r"caiso: .*XML report ENE_LOSS \(DAM\) is not an LMP report"):
        market_provider("caiso", make_gateway()).get_prices("DA", D(2013, 3, 10))
