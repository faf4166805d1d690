"""Signed provider callbacks through POST /api/v1/webhooks/<provider>: receipts and acknowledgements."""
from __future__ import annotations

import base64
import copy
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from data.models import Alert, AlertState, Event, Notification, NotificationAttempt
from notifications import directory
from notifications.channels import ACK_ACTION_ID, build_channels
from notifications.outbox import Outbox
from notifications.receipts import Receipts
from security.signatures import slack_signature, twilio_signature
from tests.notifications.conftest import make_user, open_alert

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CALLBACKS = json.loads((FIXTURES / "twilio" / "callbacks_documented_params.json").read_text())
SENDGRID_EVENTS = json.loads((FIXTURES / "sendgrid" / "event_webhook_delivered_bounce_anymail_tests.json").read_text())
SLACK_CLICK = json.loads((FIXTURES / "slack" / "interactivity_block_actions_payload_bolt_test.json").read_text())
TWILIO_TOKEN = "test-twilio-auth-token"
SLACK_SECRET = "test-slack-signing-secret"
FORM = "application/x-www-form-urlencoded"
URL = "http://localhost/api/v1/webhooks/twilio"


@pytest.fixture()
def sendgrid_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture()
def wired(services, gateway, sendgrid_key):
    """The outbox and receipts on the app's bus; webhook secrets in the vault."""
    from security.vault import get_vault

    vault = get_vault()
    vault.put("webhook:twilio", TWILIO_TOKEN)
    vault.put("webhook:slack", SLACK_SECRET)
    public = sendgrid_key.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    vault.put("webhook:sendgrid", base64.b64encode(public).decode())
    outbox = Outbox(services.db, services.bus, build_channels(gateway, "https://fleet.example.com"), max_attempts=3)
    outbox.subscribe()
    receipts = Receipts(services.db, outbox)
    receipts.subscribe(services.bus)
    return outbox, receipts


@pytest.fixture()
def frank(services, gateway):
    """An operator paged by voice, then e-mail, with a linked Slack member id; policy: frank."""
    db = services.db
    user = make_user(db, "frank")
    directory.add_contact_method(db, "test", user, "voice", "+15558675310", gateway=gateway)
    directory.add_contact_method(db, "test", user, "email", "frank@example.com", gateway=gateway)
    directory.add_contact_method(db, "test", user, "slack", "C1H9RESGL", slack_user_id="W111", gateway=gateway)
    directory.save_policy(db, "test", "frank", [{"targets": [{"type": "user", "id": user}]}])
    return user


def _twilio_post(client, params, url=URL):
    path = url.replace("http://localhost", "")
    return client.post(path, data=params, headers={"X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, params)})


def _sent(db, alert_id, channel):
    with db.session() as s:
        return s.execute(select(Notification).where(Notification.alert_id == alert_id,
                                                    Notification.channel == channel)).scalar_one()


def _alert_state(db, alert_id):
    with db.session() as s:
        return s.get(Alert, alert_id).state, s.get(Alert, alert_id).acknowledged_by


def test_keypad_1_on_the_call_acknowledges_as_the_person_called(client, services, wired, frank):
    outbox, _ = wired
    alert_id = open_alert(services.db, services.bus)
    outbox.tick()
    call = _sent(services.db, alert_id, "voice")
    params = {**CALLBACKS["gather_keypad"], "CallSid": call.provider_message_id}
    response = _twilio_post(client, params, URL + "?gather=1")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert _alert_state(services.db, alert_id) == (AlertState.acknowledged, "frank")
    with services.db.session() as s:
        audit = s.execute(select(Event).where(Event.kind == "alert.acknowledged")).scalar_one()
    assert audit.actor == "frank" and audit.payload["note"] == "acknowledged via voice keypad"


def test_sms_reply_ack_with_the_alert_number(client, services, wired, gateway):
    outbox, receipts = wired
    gina = make_user(services.db, "gina")
    directory.add_contact_method(services.db, "test", gina, "sms", "+14155552345", gateway=gateway)
    directory.save_policy(services.db, "test", "gina", [{"targets": [{"type": "user", "id": gina}]}])
    first = open_alert(services.db, services.bus, title="first")
    second = open_alert(services.db, services.bus, title="second")
    outbox.tick()
    reply = {**CALLBACKS["inbound_sms_reply"], "Body": f"ack {first}"}
    assert _twilio_post(client, reply).status_code == 200
    assert _alert_state(services.db, first)[0] == AlertState.acknowledged
    assert _alert_state(services.db, second)[0] == AlertState.open
    bare = {**CALLBACKS["inbound_sms_reply"], "MessageSid": "SMcccccccccccccccccccccccccccccccc", "Body": "ACK"}
    assert _twilio_post(client, bare).status_code == 200  # the newest alert paged for
    assert _alert_state(services.db, second)[0] == AlertState.acknowledged
    assert receipts.stats["acknowledged"] == 2


def test_a_stranger_replying_ack_is_refused(client, services, wired, frank):
    _, receipts = wired
    alert_id = open_alert(services.db, services.bus)
    reply = {**CALLBACKS["inbound_sms_reply"], "From": "+19995550000", "Body": f"ACK {alert_id}"}
    assert _twilio_post(client, reply).status_code == 200
    assert _alert_state(services.db, alert_id)[0] == AlertState.open and receipts.stats["refused"] == 1


def test_twilio_status_callbacks_mark_delivered_or_fall_back(client, services, wired, frank):
    outbox, _ = wired
    alert_id = open_alert(services.db, services.bus)
    outbox.tick()
    call = _sent(services.db, alert_id, "voice")
    failed = {**CALLBACKS["message_status_undelivered"], "MessageSid": "", "SmsSid": "", "CallSid": call.provider_message_id}
    failed.pop("MessageStatus"), failed.pop("SmsStatus")
    failed["CallStatus"] = "no-answer"
    assert _twilio_post(client, failed).status_code == 200
    outbox.tick()
    call = _sent(services.db, alert_id, "voice")
    mail = _sent(services.db, alert_id, "email")
    assert call.status == "failed" and call.error == "twilio reported no-answer (error 30003)"
    assert mail.status == "sent" and mail.fallback_of_id == call.id


def test_sendgrid_signed_events_deliver_and_bounce(client, services, wired, gateway, sendgrid_key):
    outbox, _ = wired
    hana = make_user(services.db, "hana")
    directory.add_contact_method(services.db, "test", hana, "email", "hana@example.com", gateway=gateway)
    directory.add_contact_method(services.db, "test", hana, "sms", "+15558675312", gateway=gateway)
    directory.save_policy(services.db, "test", "hana", [{"targets": [{"type": "user", "id": hana}]}])
    first = open_alert(services.db, services.bus, title="first")
    second = open_alert(services.db, services.bus, title="second")
    outbox.tick()
    one, two = _sent(services.db, first, "email"), _sent(services.db, second, "email")
    delivered, bounce = copy.deepcopy(SENDGRID_EVENTS)
    delivered["sg_message_id"] = f"{one.provider_message_id}.filter0425p1mdw1.13037.57168B4A1D.0"
    bounce["fleetlight_notification"] = str(two.id)
    body = json.dumps([delivered, bounce]).encode() + b"\r\n"
    ts = str(int(time.time()))
    signature = sendgrid_key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
    response = client.post("/api/v1/webhooks/sendgrid", data=body, headers={
        "Content-Type": "application/json", "X-Twilio-Email-Event-Webhook-Timestamp": ts,
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode()})
    assert response.status_code == 200
    outbox.tick()
    assert _sent(services.db, first, "email").status == "delivered"
    bounced = _sent(services.db, second, "email")
    assert bounced.status == "failed" and "550 5.1.1" in bounced.error
    assert _sent(services.db, second, "sms").status == "sent"
    with services.db.session() as s:
        outcomes = s.execute(select(NotificationAttempt.outcome, NotificationAttempt.error)
                             .where(NotificationAttempt.notification_id == one.id)).all()
    assert outcomes[-1][0] == "receipt" and outcomes[-1][1].startswith("delivered: 250 2.0.0 OK")


def test_slack_acknowledge_button(client, services, wired, gateway):
    outbox, _ = wired
    ivy = make_user(services.db, "ivy")
    directory.add_contact_method(services.db, "test", ivy, "slack", "C1H9RESGL", slack_user_id="W111", gateway=gateway)
    directory.save_policy(services.db, "test", "ivy", [{"targets": [{"type": "user", "id": ivy}]}])
    alert_id = open_alert(services.db, services.bus)
    outbox.tick()
    click = copy.deepcopy(SLACK_CLICK)
    click["actions"][0].update(action_id=ACK_ACTION_ID, value=str(alert_id))
    body = urlencode({"payload": json.dumps(click)}).encode()
    ts = str(int(time.time()))
    response = client.post("/api/v1/webhooks/slack", data=body, headers={
        "Content-Type": FORM, "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(SLACK_SECRET, ts, body)})
    assert response.status_code == 200
    assert _alert_state(services.db, alert_id) == (AlertState.acknowledged, "ivy")
    unlinked = copy.deepcopy(click)
    unlinked["user"]["id"] = "W999"
    other = open_alert(services.db, services.bus, title="other")
    unlinked["actions"][0]["value"] = str(other)
    body = urlencode({"payload": json.dumps(unlinked)}).encode()
    client.post("/api/v1/webhooks/slack", data=body, headers={
        "Content-Type": FORM, "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(SLACK_SECRET, ts, body)})
    assert _alert_state(services.db, other)[0] == AlertState.open


def test_a_viewer_cannot_acknowledge_through_a_channel(client, services, wired, gateway):
    outbox, receipts = wired
    vic = make_user(services.db, "vic", role="viewer")
    directory.add_contact_method(services.db, "test", vic, "voice", "+15558675313", gateway=gateway)
    directory.save_policy(services.db, "test", "vic", [{"targets": [{"type": "user", "id": vic}]}])
    alert_id = open_alert(services.db, services.bus)
    outbox.tick()
    params = {**CALLBACKS["gather_keypad"], "CallSid": _sent(services.db, alert_id, "voice").provider_message_id}
    _twilio_post(client, params, URL + "?gather=1")
    assert _alert_state(services.db, alert_id)[0] == AlertState.open and receipts.stats["refused"] == 1
