"""The outbox on the in-process bus: escalation stage after stage, retries, fallback, quiet hours."""
from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from bus.inprocess import InProcessBus
from data.models import AlertEscalation, DeadLetter, Event, Notification, NotificationAttempt
from notifications import directory
from notifications.channels import build_channels
from notifications.outbox import Outbox
from tests.notifications.conftest import Clock, change, make_user, open_alert
from tests.support.notify_server import INVALID_NUMBER


@pytest.fixture()
def clock():
    return Clock()


@pytest.fixture()
def bus(db):
    bus = InProcessBus(db)
    yield bus
    bus.close()


@pytest.fixture()
def outbox(db, bus, gateway, clock):
    box = Outbox(db, bus, build_channels(gateway, "https://fleet.example.com"), max_attempts=3,
                 backoff_initial_s=30, backoff_max_s=120, public_base_url="https://fleet.example.com", clock=clock)
    box.subscribe()
    return box


@pytest.fixture()
def team(db, gateway, clock):
    """alice and bob rotate daily on 'ops'; carol is the manager; policy: ops now, carol after 10 min."""
    alice, bob, carol = (make_user(db, n) for n in ("alice", "bob", "carol"))
    directory.add_contact_method(db, "test", alice, "sms", "+15558675310", gateway=gateway)
    directory.add_contact_method(db, "test", alice, "email", "alice@example.com", gateway=gateway)
    directory.add_contact_method(db, "test", bob, "slack", "C1H9RESGL", gateway=gateway)
    directory.add_contact_method(db, "test", carol, "voice", "+15558675311", gateway=gateway)
    directory.add_contact_method(db, "test", carol, "email", "carol@example.com", gateway=gateway)
    ops = directory.save_schedule(db, "test", "ops", [alice, bob], clock.now - dt.timedelta(hours=1), 24)
    directory.save_policy(db, "test", "default", [
        {"delay_min": 0, "targets": [{"type": "schedule", "id": ops}]},
        {"delay_min": 10, "targets": [{"type": "user", "id": carol}]},
    ], min_severity="warning")
    return {"alice": alice, "bob": bob, "carol": carol, "ops": ops}


def _rows(db, alert_id=None):
    with db.session() as s:
        q = select(Notification).order_by(Notification.id)
        if alert_id is not None:
            q = q.where(Notification.alert_id == alert_id)
        return [(n.user_id, n.channel, n.status, n.kind, n.stage) for n in s.execute(q).scalars()]


def test_stage_one_pages_who_is_on_call_then_stage_two_after_its_delay(db, bus, outbox, team, clock, notify_server):
    alert_id = open_alert(db, bus)
    outbox.tick()
    assert _rows(db) == [(team["alice"], "sms", "sent", "open", 0)]
    body = dict(parse_qsl(notify_server.sent("twilio")[0][3].decode()))["Body"]
    assert body.startswith("[CRITICAL] Inverter 3 offline") and f"ACK {alert_id}" in body
    assert "https://fleet.example.com/alerts?alert=" in body
    clock.advance(minutes=9)
    assert outbox.tick()["written"] == 0
    clock.advance(minutes=1)
    outbox.tick()
    assert _rows(db)[1] == (team["carol"], "voice", "sent", "open", 1)
    clock.advance(minutes=60)
    assert outbox.tick() == {"written": 0, "relayed": 0}  # no repeat: exhausted
    with db.session() as s:
        assert s.get(AlertEscalation, alert_id).state == "exhausted"
        kinds = [e.kind for e in s.execute(select(Event).where(Event.entity_type == "alert", Event.entity_id == str(alert_id))).scalars()]
    assert kinds == ["escalation.started", "escalation.stage", "escalation.stage"]


def test_acknowledgement_stops_escalation_and_tells_who_was_paged(db, bus, outbox, team, clock, notify_server):
    alert_id = open_alert(db, bus)
    outbox.tick()
    acknowledged = change(alert_id, "acknowledged", actor="alice")
    bus.publish("alert.changed", acknowledged)
    outbox.tick()
    clock.advance(minutes=30)
    outbox.tick()
    rows = _rows(db)
    assert rows == [(team["alice"], "sms", "sent", "open", 0), (team["alice"], "sms", "sent", "acknowledged", 0)]
    last = dict(parse_qsl(notify_server.sent("twilio")[-1][3].decode()))["Body"]
    assert last.startswith("Acknowledged: Inverter 3 offline") and "by alice" in last and "ACK" not in last.split("\n")[-1]
    bus.publish("alert.changed", acknowledged)  # the same message delivered twice: told once
    outbox.tick()
    assert len(_rows(db)) == 2


def test_the_rotation_and_an_override_choose_who_is_paged(db, bus, outbox, team, clock):
    clock.advance(hours=24)  # bob's day
    first = open_alert(db, bus, title="first")
    outbox.tick()
    directory.add_override(db, "test", team["ops"], team["carol"], clock.now, clock.now + dt.timedelta(hours=2))
    second = open_alert(db, bus, title="second")
    outbox.tick()
    assert _rows(db, first)[0][:2] == (team["bob"], "slack")
    assert _rows(db, second)[0][:2] == (team["carol"], "voice")


def test_outage_retries_with_backoff_then_delivers_once(db, bus, outbox, team, clock, notify_server):
    notify_server.down("twilio")
    alert_id = open_alert(db, bus)
    outbox.tick()
    assert _rows(db)[0][2] == "pending"
    outbox.tick()  # not due yet: no new attempt
    assert len(notify_server.requests) == 2  # one call, the gateway's own retry
    clock.advance(seconds=30)
    outbox.tick()
    assert len([r for r in notify_server.requests if r[0] == "twilio:fault"]) == 4
    notify_server.up("twilio")
    clock.advance(seconds=59)
    outbox.tick()
    assert len(notify_server.sent("twilio")) == 0  # the second back-off is 60 s
    clock.advance(seconds=1)
    outbox.tick()
    outbox.tick()
    assert len(notify_server.sent("twilio")) == 1 and _rows(db, alert_id)[0][2] == "sent"
    with db.session() as s:
        attempts = [(a.attempt, a.outcome) for a in s.execute(select(NotificationAttempt)).scalars()]
    assert attempts == [(1, "retry"), (2, "retry"), (3, "sent")]


def test_permanent_failure_falls_back_to_the_next_channel_and_is_dead_lettered(db, bus, outbox, clock, gateway,
                                                                               notify_server):
    dave = make_user(db, "dave")
    directory.add_contact_method(db, "test", dave, "sms", INVALID_NUMBER, gateway=gateway)
    directory.add_contact_method(db, "test", dave, "email", "dave@example.com", gateway=gateway)
    directory.save_policy(db, "test", "dave", [{"targets": [{"type": "user", "id": dave}]}])
    alert_id = open_alert(db, bus)
    outbox.tick()
    outbox.tick()
    assert _rows(db, alert_id) == [(dave, "sms", "failed", "open", 0), (dave, "email", "sent", "open", 0)]
    with db.session() as s:
        failed = s.execute(select(Notification).where(Notification.channel == "sms")).scalar_one()
        letter = s.execute(select(DeadLetter).where(DeadLetter.source == "notifications")).scalar_one()
    assert "not a valid phone number" in failed.error and "HTTP 400" in failed.error
    assert letter.payload["notification_id"] == failed.id and letter.topic == "notification.v1"
    assert json.loads(notify_server.sent("sendgrid")[0][3])["personalizations"][0]["to"][0]["email"] == "dave@example.com"


def test_retries_used_up_fall_back_too(db, bus, outbox, team, clock, notify_server):
    notify_server.down("twilio")
    open_alert(db, bus)
    for _ in range(4):
        outbox.tick()
        clock.advance(seconds=121)
    rows = _rows(db)
    assert rows[0] == (team["alice"], "sms", "failed", "open", 0)
    assert rows[1] == (team["alice"], "email", "sent", "open", 0)
    with db.session() as s:
        error = s.execute(select(Notification.error).where(Notification.channel == "sms")).scalar_one()
    assert error.startswith("gave up after 3 attempts: twilio")


def test_quiet_hours_hold_a_warning_but_not_a_critical(db, bus, outbox, team, clock):
    directory.set_quiet_hours(db, "alice", team["alice"], "UTC", "11:00", "13:00", "critical")
    warning = open_alert(db, bus, severity="warning", title="warn")
    critical = open_alert(db, bus, severity="critical", title="crit")
    outbox.tick()
    assert _rows(db, warning)[0][2] == "pending" and _rows(db, critical)[0][2] == "sent"
    clock.advance(hours=1)
    outbox.tick()
    outbox.tick()
    assert _rows(db, warning)[0][2] == "sent"


def test_no_policy_and_no_contact_method_are_recorded(db, bus, outbox, clock):
    info = open_alert(db, bus, severity="info")
    with db.session() as s:
        assert s.get(AlertEscalation, info).state == "no_policy"
    erin = make_user(db, "erin")
    directory.save_policy(db, "test", "erin", [{"targets": [{"type": "user", "id": erin}]}])
    alert_id = open_alert(db, bus, title="erin's")
    outbox.tick()
    with db.session() as s:
        row = s.execute(select(Notification).where(Notification.alert_id == alert_id)).scalar_one()
    assert row.status == "failed" and row.error == "user erin has no enabled contact method"


def test_a_message_delivered_twice_sends_once(db, bus, outbox, team, notify_server):
    open_alert(db, bus)
    outbox.run_due()
    with db.session() as s:
        row_id = s.execute(select(Notification.id)).scalar_one()
    outbox.relay()
    assert outbox.deliver(row_id) == "skipped"  # the relay's message already sent it
    assert len(notify_server.sent("twilio")) == 1


def test_suppression_stops_paging_says_why_and_reopening_pages_again(db, bus, outbox, team, clock, notify_server):
    """alert.changed with state suppressed (flapping, parent outage, maintenance) reaches no new
    person and tells who was paged why; the same alert open again ('unsuppressed') pages anew."""
    alert_id = open_alert(db, bus)
    outbox.tick()
    hidden = {**change(alert_id, "suppressed"), "change": "suppressed",
              "suppressed_reason": "parent substation SUB-1 is down"}
    bus.publish("alert.changed", hidden)
    outbox.tick()
    clock.advance(minutes=30)
    outbox.tick()  # stage two would be due: suppressed, it is not run
    assert _rows(db, alert_id) == [(team["alice"], "sms", "sent", "open", 0), (team["alice"], "sms", "sent", "suppressed", 0)]
    body = dict(parse_qsl(notify_server.sent("twilio")[-1][3].decode()))["Body"]
    assert body.startswith("Suppressed: Inverter 3 offline") and "parent substation SUB-1 is down" in body
    clock.advance(minutes=1)
    bus.publish("alert.changed", {**change(alert_id, "open", when=clock()), "change": "unsuppressed"})
    outbox.tick()
    rows = _rows(db, alert_id)
    assert rows[-1] == (team["alice"], "sms", "sent", "open", 0) and len(rows) == 3
