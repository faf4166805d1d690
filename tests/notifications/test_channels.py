"""Each channel through its provider's SDK and the gateway, against the local provider server."""
from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from core.settings import load_settings
from data.models import IntegrationCall
from gateway.core import Gateway
from gateway.errors import ConfigurationError, ProviderUnavailable, RequestRejected
from notifications.channels import (
    ACK_ACTION_ID,
    InvalidAddress,
    Outgoing,
    build_channels,
    render_twiml,
    validate_address,
)


def _message(address: str, **kw) -> Outgoing:
    base = dict(notification_id=7, alert_id=42, kind="open", severity="critical",
                subject="Site LHB: inverter 3 offline", body="No power for 20 minutes.", address=address,
                link="https://fleet.example.com/alerts?id=42")
    base.update(kw)
    return Outgoing(**base)


def test_twilio_sms_through_the_sdk_and_gateway(gateway, notify_server, db):
    sent = build_channels(gateway, "https://fleet.example.com")["sms"].send(_message("+15558675310"))
    assert sent.provider == "twilio" and sent.provider_message_id.startswith("SM")
    (_p, path, headers, body, _t), = notify_server.sent("twilio")
    assert path == "/twilio/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json"
    form = dict(parse_qsl(body.decode()))
    assert form["To"] == "+15558675310" and form["From"] == "+14155552345"
    assert form["Body"].startswith("Site LHB: inverter 3 offline") and "ACK 42" in form["Body"]
    assert form["StatusCallback"] == "https://fleet.example.com/api/v1/webhooks/twilio"
    assert "twilio-python" in headers["User-Agent"]  # the official SDK built the request
    gateway.call_log.flush()
    with db.session() as s:
        call = s.execute(select(IntegrationCall).where(IntegrationCall.provider == "twilio")).scalar_one()
    assert call.endpoint == "messages" and call.outcome == "ok" and call.cost_estimate == pytest.approx(0.0083)


def test_twilio_voice_speaks_and_gathers_a_keypad_ack(gateway, notify_server):
    sent = build_channels(gateway, "https://fleet.example.com")["voice"].send(_message("+15558675310"))
    assert sent.provider_message_id.startswith("CA")
    form = dict(parse_qsl(notify_server.sent("twilio")[0][3].decode()))
    twiml = form["Twiml"]
    assert '<Gather numDigits="1"' in twiml and 'action="https://fleet.example.com/api/v1/webhooks/twilio?gather=1"' in twiml
    assert "<Say>Fleetlight alert. Site LHB: inverter 3 offline." in twiml and "Press 1" in twiml
    assert form["StatusCallbackEvent"] == "completed"


def test_twiml_without_a_public_url_only_speaks():
    twiml = render_twiml(_message("+15558675310", subject="A & B <C>"), None)
    assert "<Gather" not in twiml and "A &amp; B &lt;C&gt;" in twiml


def test_sendgrid_email_html_and_text(gateway, notify_server):
    sent = build_channels(gateway)["email"].send(_message("oncall@example.com"))
    assert sent.status_code == 202 and sent.provider_message_id.startswith("fl")
    (_p, path, headers, body, _t), = notify_server.sent("sendgrid")
    assert path == "/sendgrid/v3/mail/send" and headers["Authorization"] == "Bearer SG.test-sendgrid-key"
    mail = json.loads(body)
    assert mail["from"]["email"] == "alerts@fleetlight.example"
    assert mail["personalizations"][0]["to"] == [{"email": "oncall@example.com"}]
    assert [c["type"] for c in mail["content"]] == ["text/plain", "text/html"]
    assert "<h2" in mail["content"][1]["value"] and mail["custom_args"] == {"fleetlight_notification": "7"}


def test_slack_bot_posts_an_acknowledge_button(gateway, notify_server):
    sent = build_channels(gateway)["slack"].send(_message("C1H9RESGL"))
    assert sent.provider_message_id.startswith("C1H9RESGL:")
    (_p, path, headers, body, _t), = notify_server.sent("slack")
    assert path == "/slack/api/chat.postMessage" and headers["Authorization"] == "Bearer xoxb-test-slack-token"
    args = json.loads(body)
    button = args["blocks"][1]["elements"][0]
    assert button["action_id"] == ACK_ACTION_ID and button["value"] == "42" and button["style"] == "primary"


def test_slack_ok_false_is_a_permanent_rejection(gateway):
    with pytest.raises(RequestRejected, match="channel_not_found"):
        build_channels(gateway)["slack"].send(_message("#general"))


def test_slack_incoming_webhook(gateway, notify_server):
    url = f"{notify_server.url}/hooks/services/T000/B000/XXXX"
    sent = build_channels(gateway)["slack_webhook"].send(_message(url))
    assert sent.status_code == 200
    assert json.loads(notify_server.sent("hooks")[0][3])["blocks"][1]["type"] == "actions"


def test_teams_workflow_adaptive_card(gateway, notify_server):
    url = f"{notify_server.url}/teams/workflows/abc/triggers/manual/paths/invoke"
    sent = build_channels(gateway)["teams"].send(_message(url))
    assert sent.status_code == 202
    card = json.loads(notify_server.sent("teams")[0][3])["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["version"] == "1.4" and card["content"]["actions"][0]["type"] == "Action.OpenUrl"


def test_provider_down_is_retryable_and_bad_number_is_permanent(gateway, notify_server):
    channels = build_channels(gateway)
    notify_server.down("twilio")
    with pytest.raises(ProviderUnavailable):
        channels["sms"].send(_message("+15558675310"))
    notify_server.up("twilio")
    notify_server.inject("twilio", 400)
    with pytest.raises(RequestRejected, match="not a valid phone number"):
        channels["sms"].send(_message("+15558675310"))


def test_missing_credentials_name_the_setting(db, tmp_path):
    gw = Gateway(load_settings(instance_dir=tmp_path), db=None)
    try:
        with pytest.raises(ConfigurationError, match="FLEETLIGHT_SENDGRID_API_KEY"):
            build_channels(gw)["email"].send(_message("oncall@example.com"))
    finally:
        gw.close()


@pytest.mark.parametrize(("kind", "address", "problem"), [
    ("sms", "0155 1234", "E.164"), ("email", "not-an-address", "e-mail"), ("slack", "#ops", "Slack channel"),
    ("slack_webhook", "https://evil.example.com/services/x", "incoming webhook"),
    ("teams", "https://example.com/workflows/1", "Workflows"), ("pager", "x", "unknown channel"),
])
def test_bad_addresses_are_named(kind, address, problem):
    with pytest.raises(InvalidAddress, match=problem):
        validate_address(kind, address)


def test_good_addresses_are_cleaned():
    assert validate_address("sms", "+1 (555) 867-5310") == "+15558675310"
    assert validate_address("teams", "https://prod-12.westus.logic.azure.com:443/workflows/a/triggers") \
        .startswith("https://prod-12")
