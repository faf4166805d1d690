"""Gateway behaviour against the local provider server: limits, retries, breaker, fallback, call log."""
from __future__ import annotations

import json
import logging
import time

import pytest
from sqlalchemy import select

from data.models import Event, IntegrationCall
from gateway import (
    AuthError,
    BreakerOpen,
    ConfigurationError,
    Gateway,
    ProviderUnavailable,
    RateLimited,
    Timeout,
    parse_retry_after,
)
from gateway.providers import build_specs
from gateway.ratelimit import TokenBucket

OWM_KEY = "test-owm-key"


def owm(gw: Gateway, **kw):
    return gw.request("openweathermap", "GET", "/data/2.5/weather", endpoint="weather",
                      params={"lat": 51.5, "lon": -0.1, "units": "metric", "appid": kw.pop("appid", OWM_KEY)}, **kw)


def rows(db, provider=None):
    with db.session() as s:
        q = select(IntegrationCall).order_by(IntegrationCall.id)
        if provider:
            q = q.where(IntegrationCall.provider == provider)
        return list(s.execute(q).scalars())


def events(db):
    with db.session() as s:
        return list(s.execute(select(Event).order_by(Event.id)).scalars())


def test_ok_call_is_logged_with_bytes_status_and_cost(make_gateway, store_db):
    gw = make_gateway(provider_prices={"openweathermap:weather": 0.002})
    response = owm(gw)
    assert response.status_code == 200 and response.extensions["fleetlight_source"] == "live"
    gw.call_log.flush()
    [row] = rows(store_db)
    assert (row.provider, row.endpoint, row.status_code, row.outcome, row.retries) == (
        "openweathermap", "weather", 200, "ok", 0)
    assert row.bytes_received == len(response.content) and row.cost_estimate == pytest.approx(0.002)
    assert row.breaker_state == "closed" and row.latency_ms > 0
    assert gw.state("openweathermap") == "live"


def test_401_is_auth_error_not_retried_and_evented(make_gateway, server, store_db, caplog):
    gw = make_gateway()
    with caplog.at_level(logging.WARNING, logger="gateway"), pytest.raises(AuthError) as err:
        owm(gw, appid="wrong-key")
    assert str(err.value).startswith("openweathermap [weather]: credentials refused: Invalid API key")
    assert "wrong-key" not in str(err.value)
    assert server.count("owm") == 1  # not retried
    assert gw.breaker_state("openweathermap") == "closed"
    assert any("openweathermap" in r.getMessage() and "credentials refused" in r.getMessage() for r in caplog.records)
    gw.call_log.flush()
    assert rows(store_db)[-1].outcome == "error" and rows(store_db)[-1].status_code == 401
    [event] = events(store_db)
    assert event.kind == "integration.failed" and event.entity_id == "openweathermap"
    assert event.payload["error"] == "auth_error"


def test_429_with_retry_after_waits_that_long(make_gateway, server, sleeps, store_db):
    gw = make_gateway()
    server.inject("owm", "429:2")
    assert owm(gw).status_code == 200
    assert sleeps.calls == [2.0]
    gw.call_log.flush()
    assert rows(store_db)[-1].retries == 1


def test_429_without_retry_after_backs_off_exponentially(make_gateway, server, sleeps):
    gw = make_gateway()
    server.inject("owm", "429", "429")
    assert owm(gw).status_code == 200
    assert len(sleeps.calls) == 2 and all(0 < s <= 0.03 for s in sleeps.calls)


def test_retry_after_longer_than_cap_is_not_waited(make_gateway, server, sleeps):
    gw = make_gateway()
    server.inject("owm", "429:3600")
    with pytest.raises(RateLimited) as err:
        owm(gw, fallback=False)
    assert err.value.retry_after == pytest.approx(3600, abs=1) and sleeps.calls == []


def test_5xx_burst_is_retried_then_succeeds(make_gateway, server, store_db):
    gw = make_gateway()
    server.inject("owm", "500", "503")
    assert owm(gw).status_code == 200
    gw.call_log.flush()
    assert rows(store_db)[-1].retries == 2 and rows(store_db)[-1].outcome == "ok"


def test_breaker_opens_rejects_then_half_open_closes(make_gateway, server, store_db):
    gw = make_gateway()
    server.persist("owm", "503")
    for _ in range(3):  # fail_max logical calls (each with 3 attempts)
        with pytest.raises(ProviderUnavailable):
            owm(gw, fallback=False)
    assert gw.breaker_state("openweathermap") == "open" and gw.state("openweathermap") == "breaker open"
    hits = server.count("owm")
    with pytest.raises(BreakerOpen) as err:
        owm(gw, fallback=False)
    assert server.count("owm") == hits  # not attempted
    assert "circuit breaker open" in str(err.value) and "server error" in str(err.value)
    server.persist("owm", None)
    time.sleep(0.35)  # reset_timeout 0.3 s
    assert gw.breaker_state("openweathermap") == "half-open"
    assert owm(gw).status_code == 200
    assert gw.breaker_state("openweathermap") == "closed"
    gw.call_log.flush()
    kinds = [(e.kind, e.payload.get("error")) for e in events(store_db)]
    assert ("integration.failed", "breaker_open") in kinds and ("integration.recovered", None) in kinds
    assert rows(store_db)[-2].outcome == "rejected"


def test_auth_errors_do_not_open_the_breaker(make_gateway):
    gw = make_gateway()
    for _ in range(5):
        with pytest.raises(AuthError):
            owm(gw, appid="bad", fallback=False)
    assert gw.breaker_state("openweathermap") == "closed"


def test_timeout_is_named_and_retried(make_gateway, server):
    gw = make_gateway(provider_limits={"openweathermap": {"timeout_s": 0.2, "max_attempts": 2,
                                                          "backoff_initial_s": 0.01, "backoff_max_s": 0.01}})
    server.persist("owm", "timeout:0.5")
    with pytest.raises(Timeout) as err:
        owm(gw, fallback=False)
    assert "openweathermap" in str(err.value) and "no answer within 0.2s" in str(err.value)
    assert server.count("owm") == 2


def test_connection_reset_is_provider_unavailable(make_gateway, server):
    gw = make_gateway()
    server.persist("owm", "reset")
    with pytest.raises(ProviderUnavailable) as err:
        owm(gw, fallback=False)
    assert "connection failed" in str(err.value)


def test_fallback_serves_last_good_answer(make_gateway, server, store_db):
    gw = make_gateway()
    good = owm(gw)
    server.persist("owm", "503")
    again = owm(gw)
    assert again.extensions["fleetlight_source"] == "cache" and again.content == good.content
    assert "server error" in again.extensions["fleetlight_error"]
    gw.call_log.flush()
    assert rows(store_db)[-1].outcome == "fallback"


def test_fetch_never_caches_a_bad_payload(make_gateway, server):
    from connectors.weather.openweathermap import OpenWeatherMapPayloadError, parse_current

    gw = make_gateway()
    parse = lambda r: parse_current(r.content)  # noqa: E731
    params = {"lat": 1, "lon": 2, "units": "metric", "appid": OWM_KEY}
    first = gw.fetch("openweathermap", "GET", "/data/2.5/weather", params=params, parse=parse)
    server.inject("owm", "html")
    second = gw.fetch("openweathermap", "GET", "/data/2.5/weather", params=params, parse=parse)
    assert second.from_fallback and second.value == first.value
    assert isinstance(second.error, OpenWeatherMapPayloadError) and "HTML page" in str(second.error)


def test_offline_replay_without_keys(server, store_db):
    from core.settings import load_settings

    gw = Gateway(load_settings(provider_polling_enabled=False), db=store_db, flush_interval_s=0.05)
    try:
        assert gw.mode("openweathermap") == "offline replay" and gw.state("caiso") == "offline replay"
        response = gw.request("openweathermap", "GET", "/data/2.5/forecast", params={"lat": 1, "lon": 2})
        assert response.extensions["fleetlight_source"] == "replay"
        assert json.loads(response.content)["cnt"] == 40
        assert gw.state("eex") == "not configured"
        with pytest.raises(ConfigurationError) as err:
            gw.request("eex", "GET", "/query/json/getDaily/close/")
        assert "FLEETLIGHT_EEX_USERNAME" in str(err.value)
        gw.call_log.flush()
        assert rows(store_db)[-1].outcome == "replay" and rows(store_db)[-1].cost_estimate == 0
    finally:
        gw.close()
    assert server.count("owm") == 0


def test_works_without_a_database(make_gateway):
    gw = make_gateway(db=None)
    assert owm(gw).status_code == 200
    gw.call_log.flush()
    assert gw.call_log.dropped == 1 and gw.call_log.snapshot()["openweathermap"]["calls"] == 1


def test_local_rate_limit_fails_fast(make_gateway, server):
    gw = make_gateway(provider_limits={"caiso": {"rate_per_s": 0.01, "burst": 1, "max_wait_s": 1}})
    gw.request("caiso", "GET", "/SingleZip", params={"queryname": "PRC_LMP", "market_run_id": "DAM"})
    with pytest.raises(RateLimited) as err:
        gw.request("caiso", "GET", "/SingleZip", params={"queryname": "X"}, fallback=False)
    assert "local rate limit" in str(err.value) and server.count("caiso") == 1


def test_token_bucket_paces_calls():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    bucket = TokenBucket(0.2, 1, clock=lambda: now[0], sleep=sleep)  # CAISO: one call per 5 s
    assert bucket.acquire(30) == 0
    assert bucket.acquire(30) == pytest.approx(5.0)
    assert bucket.acquire(4) is None  # would wait 5 s > 4 s
    now[0] += 5
    assert bucket.acquire(30) == 0


def test_parse_retry_after_forms():
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_unknown_provider_and_bad_overrides():
    gw = Gateway(db=None)
    try:
        with pytest.raises(ConfigurationError, match="unknown provider"):
            gw.request("nope", "GET", "/")
    finally:
        gw.close()
    with pytest.raises(ValueError, match="unknown field"):
        build_specs({"caiso": {"speed": 1}})
    with pytest.raises(ValueError, match="unknown provider"):
        build_specs(prices={"nope": 1})
    specs = build_specs({"caiso": {"rate_per_s": 1}}, {"openweathermap:onecall": 0.01}, {"caiso": "http://x/"})
    assert specs["caiso"].rate_per_s == 1 and specs["caiso"].base_url == "http://x"
    assert specs["openweathermap"].price("onecall") == 0.01 and specs["openweathermap"].price("weather") == 0
