"""Alerts end to end on the real store and the in-process bus: rules versioned in the event log,
the evaluator on stored telemetry, prices and events, the lifecycle (dedup, flapping, parent
suppression, maintenance windows), one registry-valid alert.changed message per change."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from alerts.conditions import FlapDetector, ThresholdMachine, run_machine
from alerts.evaluator import RuleEngine
from alerts.lifecycle import ALERT_CHANGED_TOPIC, AlertBook, Condition
from alerts.rules import RuleError, create_rule, rule_history, set_enabled, update_rule
from alerts.silences import create_silence
from bus.eventlog import EVENTS_TOPIC
from bus.registry import REGISTRY
from data.models import Alert, AlertState, Event, Site, SiteKind
from ingest.service import TELEMETRY_TOPIC
from ingest.validation import ValidPoint
from live.price_feed import PRICES_TOPIC
from tests.support.fleet import SOLAR_ASSETS, WIND_ASSETS

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture()
def wired(small_fleet):
    """The lifecycle and evaluator wired on this test's bus as the composition root wires them."""
    svc = small_fleet
    messages: list[dict] = []

    def keep(message: dict) -> None:
        REGISTRY.validate(ALERT_CHANGED_TOPIC, message)  # every message matches the registered schema
        messages.append(message)

    svc.bus.subscribe(ALERT_CHANGED_TOPIC, keep, group="test")
    book = AlertBook(svc.db, svc.bus)
    engine = RuleEngine(svc.db, book)
    svc.alert_book, svc.rule_engine = book, engine
    svc.bus.subscribe(TELEMETRY_TOPIC, engine.on_telemetry, group="alerts")
    svc.bus.subscribe(PRICES_TOPIC, engine.on_prices, group="alerts")
    svc.bus.subscribe(EVENTS_TOPIC, engine.on_event, group="alerts")
    return svc, book, engine, messages


def _submit(svc, asset: str, metric: str, ts: dt.datetime, value: float) -> None:
    svc.ingest.submit_points([ValidPoint(asset, metric, ts, value)], "test")


def _alerts(db) -> list[Alert]:
    with db.read_session() as s:
        return list(s.execute(select(Alert).order_by(Alert.id)).scalars())


THRESHOLD = {"kind": "threshold", "name": "Inverter hot", "severity": "warning", "metric": "temperature_c",
             "direction": "above", "raise_level": 70, "clear_level": 65, "raise_after_min": 10, "clear_after_min": 15}


def test_rules_are_versioned_in_the_event_log_and_invalid_ones_named(small_fleet):
    db = small_fleet.db
    rule = create_rule(db, THRESHOLD, "alice")
    update_rule(db, rule["id"], {**THRESHOLD, "raise_level": 75}, "bob")
    set_enabled(db, rule["id"], False, "bob")
    versions = rule_history(db, rule["id"])
    assert [(v["version"], v["kind"], v["actor"]) for v in versions] == [
        (1, "alert_rule.created", "alice"), (2, "alert_rule.updated", "bob"), (3, "alert_rule.disabled", "bob")]
    assert versions[0]["definition"]["raise_level"] == 70 and versions[1]["definition"]["raise_level"] == 75
    assert versions[2]["definition"]["enabled"] is False and versions[2]["definition"]["metric"] == "temperature_c"
    with pytest.raises(RuleError, match="clear_level 80.0 must not be above raise_level 70.0"):
        create_rule(db, {**THRESHOLD, "clear_level": 80}, "alice")
    with pytest.raises(RuleError, match="raise_after_min"):
        create_rule(db, {**THRESHOLD, "raise_after_min": -1}, "alice")
    with pytest.raises(RuleError, match="no site 'nowhere'"):
        create_rule(db, {**THRESHOLD, "site_id": "nowhere"}, "alice")
    with pytest.raises(RuleError, match="cannot become comm_loss"):
        update_rule(db, rule["id"], {"kind": "comm_loss", "name": "x"}, "bob")


def test_threshold_machine_hysteresis_and_durations():
    m = ThresholdMachine("above", 70, 65, dt.timedelta(minutes=10), dt.timedelta(minutes=15))
    minute = dt.timedelta(minutes=1)
    samples = [(T0 + i * minute, v) for i, v in enumerate(
        [71, 72, 69, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71,  # 69 at 2 min cancels; raise at 3 + 10 = 13
         66, 64, 64, 66, 64] + [64] * 16)]  # 66 keeps it raised; 64 from 18 min on: clears at 18 + 15 = 33
    changes = run_machine(m, samples)
    assert changes == [(T0 + 13 * minute, "raise"), (T0 + 33 * minute, "clear")]


def test_threshold_rule_on_stored_telemetry_raises_once_and_clears(wired):
    svc, _book, engine, messages = wired
    rule = create_rule(svc.db, THRESHOLD, "alice")
    engine.load()
    minute = dt.timedelta(minutes=1)
    inv = SOLAR_ASSETS[0]
    for i in range(12):
        _submit(svc, inv, "temperature_c", T0 + i * minute, 72.0)
    assert [(m["change"], m["state"]) for m in messages] == [("raised", "open")]
    m = messages[0]
    assert (m["rule_id"], m["site_id"], m["asset_id"], m["severity"], m["actor"]) == (
        rule["id"], "t-sol", inv, "warning", "system")
    assert m["dedup_key"] == f"threshold:{rule['id']}:{inv}" and m["ts"] == (T0 + 10 * minute).isoformat()
    for i in range(12, 30):
        _submit(svc, inv, "temperature_c", T0 + i * minute, 60.0)
    assert [m["change"] for m in messages] == ["raised", "resolved"]
    assert messages[1]["ts"] == (T0 + 27 * minute).isoformat()  # 12 + 15 quiet minutes
    (alert,) = _alerts(svc.db)
    assert alert.state == AlertState.resolved and alert.resolved_by == "system"
    with svc.db.read_session() as s:
        kinds = [e.kind for e in s.execute(select(Event).where(Event.entity_type == "alert")).scalars()]
    assert kinds == ["alert.raised", "alert.resolved"]


def test_flapping_key_is_held_as_one_suppressed_alert(wired):
    svc, book, _engine, messages = wired
    book.flaps = FlapDetector(window=dt.timedelta(minutes=30), max_changes=4)
    cond = Condition("threshold", None, "t-sol", SOLAR_ASSETS[0], "warning", "hot", "hot", "k1")
    minute = dt.timedelta(minutes=1)
    for i in range(10):  # raise, clear, raise, clear ... every 2 minutes
        (book.raise_alert if i % 2 == 0 else book.clear)(cond if i % 2 == 0 else "k1", T0 + 2 * i * minute)  # type: ignore[operator]
    changes = [(m["change"], m["state"]) for m in messages]
    # raised, resolved, raised (3 changes), then the 4th change (a clear) makes it flapping: held, hidden
    assert changes == [("raised", "open"), ("resolved", "resolved"), ("raised", "open"), ("suppressed", "suppressed")]
    assert messages[-1]["suppressed_reason"].startswith("flapping: 4 changes in 30 min")
    assert len(_alerts(svc.db)) == 2  # one alert for all of the last 7 changes
    # quiet for a whole window after the last clear: resolved
    assert book.settle(T0 + 18 * minute + dt.timedelta(minutes=29))["resolved"] == 0
    assert book.settle(T0 + 18 * minute + dt.timedelta(minutes=30))["resolved"] == 1
    assert messages[-1]["change"] == "resolved"


def test_site_comms_loss_hides_its_assets_alerts_with_the_reason(wired):
    svc, book, engine, messages = wired
    rule = create_rule(svc.db, {"kind": "comm_loss", "name": "Site comms", "severity": "critical",
                                "stale_after_min": 30, "scope": "site"}, "alice")
    engine.load()
    asset_alert = book.raise_alert(Condition("threshold", None, "t-wind", WIND_ASSETS[0], "warning",
                                             "WTG-01 vibration", "", "vib-1"), T0)
    for aid in WIND_ASSETS:
        _submit(svc, aid, "power_kw", T0, 500.0)
    engine.sweep(T0 + dt.timedelta(minutes=45))  # wind: no daylight excuse
    site = next(a for a in _alerts(svc.db) if a.rule == "comm_loss")
    assert site.asset_id is None and site.rule_id == rule["id"] and site.state == AlertState.open
    with svc.db.read_session() as s:
        child = s.get(Alert, asset_alert)
    assert child.state == AlertState.suppressed
    assert child.suppressed_reason == f"parent: communications of site t-wind lost (alert #{site.id})"
    # an asset alert raised while the site is silent is suppressed from the start
    later = book.raise_alert(Condition("threshold", None, "t-wind", WIND_ASSETS[1], "warning", "WTG-02 hot", "",
                                       "hot-2"), T0 + dt.timedelta(minutes=50))
    assert messages[-1] | {} and messages[-1]["alert_id"] == later and messages[-1]["state"] == "suppressed"
    # data again: the site alert resolves, its children come back
    _submit(svc, WIND_ASSETS[0], "power_kw", T0 + dt.timedelta(minutes=55), 400.0)
    states = {a.id: a.state for a in _alerts(svc.db)}
    assert states[site.id] == AlertState.resolved
    assert states[asset_alert] == AlertState.open and states[later] == AlertState.open
    assert [m["change"] for m in messages[-3:]] == ["resolved", "unsuppressed", "unsuppressed"]


def test_substation_outage_hides_the_sites_behind_it(wired):
    svc, book, _engine, messages = wired
    with svc.db.session() as s:
        s.add(Site(id="t-sub", portfolio_id="test", name="Test Substation", kind=SiteKind.substation,
                   capacity_mw=10.0, market="ERCOT", attributes={"anchor": "Austin"}))
        s.get(Site, "t-sol").attributes = {"anchor": "Austin"}
    book.topology.refresh()
    child = book.raise_alert(Condition("threshold", None, "t-sol", SOLAR_ASSETS[0], "warning", "INV hot", "", "c1"), T0)
    parent = book.raise_alert(Condition("threshold", None, "t-sub", None, "critical", "breaker trip", "", "p1"), T0)
    with svc.db.read_session() as s:
        assert s.get(Alert, child).suppressed_reason == f"parent: substation t-sub: breaker trip (alert #{parent})"
    book.resolve(parent, "olga", "breaker closed")
    with svc.db.read_session() as s:
        assert s.get(Alert, child).state == AlertState.open
    assert [m["change"] for m in messages] == ["raised", "raised", "suppressed", "resolved", "unsuppressed"]
    assert messages[3]["actor"] == "olga" and messages[3]["comment"] == "breaker closed"


def test_maintenance_window_suppresses_until_it_ends(wired):
    svc, book, _engine, messages = wired
    now = dt.datetime.now(dt.UTC)
    window = create_silence(svc.db, {"kind": "maintenance", "site_id": "t-sol", "starts_at": now.isoformat(),
                                     "ends_at": (now + dt.timedelta(hours=2)).isoformat(),
                                     "reason": "inverter swap"}, "olga")
    alert = book.raise_alert(Condition("threshold", None, "t-sol", SOLAR_ASSETS[1], "warning", "INV-02 low", "", "m1"),
                             now + dt.timedelta(minutes=1))
    assert messages[-1]["state"] == "suppressed"
    assert messages[-1]["suppressed_reason"].startswith("maintenance window until ") and \
        messages[-1]["suppressed_reason"].endswith(": inverter swap")
    assert book.settle(now + dt.timedelta(minutes=30))["unsuppressed"] == 0
    assert book.settle(now + dt.timedelta(hours=2, minutes=1))["unsuppressed"] == 1
    with svc.db.read_session() as s:
        assert s.get(Alert, alert).state == AlertState.open
    with pytest.raises(RuleError, match="name a site_id, asset_id or rule_id"):
        create_silence(svc.db, {"kind": "silence", "starts_at": now.isoformat(),
                                "ends_at": (now + dt.timedelta(hours=1)).isoformat()}, "olga")
    assert window["created_by"] == "olga"


def test_integration_failure_from_the_events_topic_raises_and_recovery_resolves(wired):
    from bus.eventlog import event_message

    svc, _book, engine, messages = wired
    create_rule(svc.db, {"kind": "integration", "name": "Integrations", "severity": "warning"}, "system")
    engine.load()
    failed = {"ts": T0, "actor": "system", "kind": "integration.failed", "entity_type": "integration",
              "entity_id": "caiso", "payload": {"message": "caiso: replay error: 500"}}
    svc.bus.publish(EVENTS_TOPIC, event_message(failed))
    svc.bus.publish(EVENTS_TOPIC, event_message(failed))  # the same failure again: deduplicated
    svc.bus.publish(EVENTS_TOPIC, event_message({**failed, "kind": "integration.recovered", "payload": {}}))
    assert [(m["change"], m["title"]) for m in messages] == [("raised", "caiso: integration failing"),
                                                             ("resolved", "caiso: integration failing")]
    (alert,) = _alerts(svc.db)
    assert alert.occurrences == 2 and alert.message == "caiso: replay error: 500"


def test_price_spike_and_negative_price_per_node(wired):
    svc, _book, engine, messages = wired
    create_rule(svc.db, {"kind": "price_spike", "name": "Spike", "market": "ERCOT", "above_per_mwh": 500}, "a")
    create_rule(svc.db, {"kind": "negative_price", "name": "Negative", "market": "ERCOT", "node": "HB_WEST",
                         "severity": "info"}, "a")
    engine.load()

    def tick(node: str, price: float) -> dict:
        return {"market": "ERCOT", "node": node, "market_type": "RT", "interval_start": T0.isoformat(),
                "interval_end": (T0 + dt.timedelta(minutes=15)).isoformat(), "price": price, "currency": "USD"}

    svc.bus.publish(PRICES_TOPIC, {"v": 1, "source": "test", "prices": [tick("HB_WEST", -12.5), tick("HB_SOUTH", 900.0)]})
    titles = sorted(m["title"] for m in messages)
    assert titles == ["ERCOT HB_SOUTH RT: price spike 900.00 USD/MWh", "ERCOT HB_WEST RT: negative price -12.50 USD/MWh"]
    svc.bus.publish(PRICES_TOPIC, {"v": 1, "source": "test", "prices": [tick("HB_WEST", 20.0), tick("HB_SOUTH", 40.0)]})
    assert sorted(m["change"] for m in messages) == ["raised", "raised", "resolved", "resolved"]


def test_pv_comm_loss_is_judged_in_daylight_only(wired):
    svc, _book, engine, _messages = wired
    create_rule(svc.db, {"kind": "comm_loss", "name": "Comms", "stale_after_min": 30}, "a")
    engine.load()
    night = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # 04:00 in Texas: before sunrise
    for aid in SOLAR_ASSETS:
        _submit(svc, aid, "power_kw", night - dt.timedelta(hours=3), 0.0)
    engine.sweep(night)
    assert _alerts(svc.db) == []
    noon = dt.datetime(2026, 6, 1, 18, 0, tzinfo=dt.UTC)  # 13:00 in Texas
    engine.sweep(noon)
    assert sorted(a.asset_id for a in _alerts(svc.db)) == sorted(SOLAR_ASSETS)
    engine.sweep(noon + dt.timedelta(minutes=1))  # still silent: nothing new, no occurrence counted
    assert [a.occurrences for a in _alerts(svc.db)] == [1, 1, 1]
    _submit(svc, SOLAR_ASSETS[0], "power_kw", noon, 800.0)
    assert {a.asset_id: a.state for a in _alerts(svc.db)}[SOLAR_ASSETS[0]] == AlertState.resolved


def test_site_grouped_threshold_is_one_alert_while_any_asset_meets_it(wired):
    svc, _book, engine, messages = wired
    create_rule(svc.db, {**THRESHOLD, "raise_after_min": 0, "clear_after_min": 0, "group": "site"}, "a")
    engine.load()
    minute = dt.timedelta(minutes=1)
    _submit(svc, SOLAR_ASSETS[0], "temperature_c", T0, 72.0)
    _submit(svc, SOLAR_ASSETS[1], "temperature_c", T0 + minute, 73.0)  # same site: no second alert
    _submit(svc, SOLAR_ASSETS[0], "temperature_c", T0 + 2 * minute, 60.0)  # one asset still hot
    assert [m["change"] for m in messages] == ["raised"]
    assert messages[0]["asset_id"] is None and messages[0]["title"].startswith("Test Solar: temperature_c 72.00")
    _submit(svc, SOLAR_ASSETS[1], "temperature_c", T0 + 3 * minute, 60.0)  # none: cleared
    assert [m["change"] for m in messages] == ["raised", "resolved"]


def test_gateway_events_reach_the_evaluator_on_the_bus(wired):
    """The gateway's call log publishes the failure events it stores on events.v1 (as the web
    process wires it), so a failing provider raises without anyone reading the events table."""
    from bus.eventlog import event_message
    from gateway.calllog import CallLog

    svc, _book, engine, messages = wired
    create_rule(svc.db, {"kind": "integration", "name": "Integrations"}, "system")
    engine.load()
    log = CallLog(lambda: svc.db, flush_interval_s=60)
    log.on_events = lambda rows: [svc.bus.publish(EVENTS_TOPIC, event_message(r)) for r in rows]
    log.event("integration.failed", "caiso", {"error": "server", "message": "caiso: 503 from OASIS"})
    log.flush()
    assert [(m["change"], m["message"]) for m in messages] == [("raised", "caiso: 503 from OASIS")]
    with svc.db.read_session() as s:
        assert s.execute(select(Event.kind).where(Event.entity_id == "caiso")).scalars().all() == ["integration.failed"]
    log.close()


def test_severe_weather_alert_stored_for_a_site_raises_and_clears_when_it_ends(wired):
    from data.models import WeatherAlert

    svc, _book, engine, messages = wired
    create_rule(svc.db, {"kind": "severe_weather", "name": "Weather", "min_severity": "Severe"}, "system")
    engine.load()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with svc.db.session() as s:  # as the NOAA connector stores them (connectors/store.py)
        s.add(WeatherAlert(site_id="t-sol", source="noaa", external_id="urn:oid:2.49.0.1.840.0.abc",
                           event="Severe Thunderstorm Warning", severity="Severe",
                           headline="Severe Thunderstorm Warning until 7:45 PM CDT", onset=now - dt.timedelta(minutes=5),
                           ends=now + dt.timedelta(hours=1)))
        s.add(WeatherAlert(site_id="t-sol", source="noaa", external_id="urn:oid:minor", event="Wind Advisory",
                           severity="Minor", onset=now - dt.timedelta(minutes=5), ends=now + dt.timedelta(hours=1)))
        s.add(WeatherAlert(site_id="t-wind", source="openweathermap", external_id="owm:1", event="Orange wind warning",
                           severity="", onset=now - dt.timedelta(minutes=5), ends=now + dt.timedelta(hours=1)))
    engine.sweep(now)
    assert sorted((m["change"], m["title"]) for m in messages) == [
        ("raised", "Test Solar: Severe Thunderstorm Warning (Severe)"), ("raised", "Test Wind: Orange wind warning (openweathermap)")]
    engine.sweep(now + dt.timedelta(hours=2))  # the warnings have ended
    assert [m["change"] for m in messages] == ["raised", "raised", "resolved", "resolved"]
