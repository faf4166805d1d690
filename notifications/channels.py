"""Notification channels: one class per way of reaching a person, each through its provider's SDK.

==============  =========================  ====================================================
kind            provider (gateway name)    address
==============  =========================  ====================================================
``sms``         Twilio (``twilio``)        E.164 number, ``+15558675310``
``voice``       Twilio (``twilio``)        E.164 number; TwiML ``<Say>`` text to speech and a
                                           ``<Gather>`` "press 1 to acknowledge"
``email``       SendGrid (``sendgrid``)    e-mail address; HTML and plain text parts
``slack``       Slack Web API (``slack``)  channel or member id (``C0123ABCD``), bot token,
                                           ``chat.postMessage`` with an Acknowledge button
``slack_webhook`` Slack (``slack_webhook``) incoming webhook URL ``https://hooks.slack.com/...``
``teams``       Teams (``msteams``)        Workflows webhook URL; an Adaptive Card
==============  =========================  ====================================================

:meth:`Channel.send` returns a :class:`Sent` (the provider's id of the message) or raises a
:class:`gateway.errors.ProviderError`: ``RETRYABLE`` ones (provider down, throttled, timed out)
are retried later by the outbox, every other one is permanent for this address and makes the
outbox fall back to the person's next contact method. :func:`validate_address` names what is
wrong with an address before it is saved.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from gateway.errors import ConfigurationError, RequestRejected

KINDS = ("sms", "voice", "email", "slack", "slack_webhook", "teams")
KIND_LABELS = {"sms": "SMS (Twilio)", "voice": "Voice call (Twilio)", "email": "E-mail (SendGrid)",
               "slack": "Slack channel or user (bot)", "slack_webhook": "Slack incoming webhook",
               "teams": "Microsoft Teams (Workflows webhook)"}
PROVIDER_OF = {"sms": "twilio", "voice": "twilio", "email": "sendgrid", "slack": "slack",
               "slack_webhook": "slack_webhook", "teams": "msteams"}
ACK_ACTION_ID = "fleetlight_ack"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
SLACK_ID = re.compile(r"^[CDGUW][A-Z0-9]{6,20}$")
SMS_MAX = 1600  # Twilio concatenates up to 1,600 characters


class InvalidAddress(ValueError):
    """A contact address that the channel cannot use; the text says what is expected."""


@dataclass(frozen=True)
class Outgoing:
    """What to send: the rendered notification for one address."""

    notification_id: int
    alert_id: int | None
    kind: str  # open | acknowledged | resolved: the alert state this tells
    severity: str
    subject: str
    body: str
    address: str
    link: str = ""  # the alert in the app, when public_base_url is set


@dataclass(frozen=True)
class Sent:
    """The provider took the message: its id (Twilio SID, SendGrid X-Message-Id, Slack channel:ts)."""

    provider: str
    provider_message_id: str | None
    status_code: int | None


class Channel(Protocol):
    kind: str
    provider: str

    def send(self, message: Outgoing) -> Sent:
        """Hand ``message`` to the provider; raise a ProviderError when it was not taken."""


def _allowed_hosts(gateway: Any, provider: str, defaults: tuple[str, ...]) -> tuple[str, ...]:
    host = urlsplit(gateway.base_url(provider)).hostname or ""
    return (*defaults, host) if host else defaults


def validate_address(kind: str, address: str, gateway: Any = None) -> str:
    """Return ``address`` cleaned for ``kind``; raise InvalidAddress naming what is expected.

    Webhook URLs must be https on the provider's own hosts (or the host the gateway's base URL
    override names), so a contact method cannot make the server call arbitrary addresses.
    """
    value = (address or "").strip()
    if kind not in KINDS:
        raise InvalidAddress(f"unknown channel {kind!r}; expected one of {', '.join(KINDS)}")
    if kind in ("sms", "voice"):
        value = re.sub(r"[\s().-]", "", value)
        if not E164.match(value):
            raise InvalidAddress(f"{address!r} is not an E.164 phone number like +15558675310")
        return value
    if kind == "email":
        if not EMAIL.match(value) or len(value) > 254:
            raise InvalidAddress(f"{address!r} is not an e-mail address like ops@example.com")
        return value
    if kind == "slack":
        if not SLACK_ID.match(value):
            raise InvalidAddress(f"{address!r} is not a Slack channel or member id like C0123ABCD")
        return value
    parts = urlsplit(value)
    if kind == "slack_webhook":
        hosts = ("hooks.slack.com",) if gateway is None else _allowed_hosts(gateway, "slack_webhook",
                                                                             ("hooks.slack.com",))
        if parts.hostname not in hosts or not parts.path.startswith("/services/"):
            raise InvalidAddress(f"{address!r} is not a Slack incoming webhook URL "
                                 "(https://hooks.slack.com/services/T.../B.../...)")
    else:  # teams
        suffixes = (".logic.azure.com", ".api.powerplatform.com")
        host = parts.hostname or ""
        override = "" if gateway is None else (urlsplit(gateway.base_url("msteams")).hostname or "")
        if not (host.endswith(suffixes) or (override and host == override)):
            raise InvalidAddress(f"{address!r} is not a Teams Workflows webhook URL (https://...logic.azure.com/"
                                 "workflows/... or ...api.powerplatform.com/...)")
    local = parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme != "https" and not (local and parts.scheme == "http"):
        raise InvalidAddress(f"{address!r}: webhook URLs must use https")
    return value


def _secret(gateway: Any, name: str) -> str:
    value = gateway.secret(name)
    if not value:
        raise ConfigurationError(name.split("_")[0], f"not configured: set FLEETLIGHT_{name.upper()}")
    return str(value)


def render_text(message: Outgoing) -> str:
    """Return the plain text of ``message`` (SMS, Slack fallback text, e-mail text part)."""
    lines = [message.subject, message.body]
    if message.kind == "open" and message.alert_id is not None:
        lines.append(f"Reply ACK {message.alert_id} to acknowledge.")
    if message.link:
        lines.append(message.link)
    return "\n".join(line for line in lines if line)


def render_html(message: Outgoing) -> str:
    """Return the HTML part of the e-mail (escaped; the link as a button when known)."""
    colour = {"critical": "#b02a37", "warning": "#997404"}.get(message.severity, "#0a58ca")
    link = (f'<p><a href="{html.escape(message.link)}" style="background:{colour};color:#fff;padding:8px 14px;'
            f'border-radius:4px;text-decoration:none">Open and acknowledge</a></p>') if message.link else ""
    return (f'<div style="font-family:system-ui,sans-serif"><h2 style="color:{colour}">{html.escape(message.subject)}'
            f'</h2><p>{html.escape(message.body).replace(chr(10), "<br>")}</p>{link}'
            f'<p style="color:#6c757d;font-size:12px">Fleetlight notification {message.notification_id}</p></div>')


def render_twiml(message: Outgoing, gather_url: str | None) -> str:
    """Return the TwiML of a voice call: the text spoken, and a keypad acknowledgement when possible."""
    say = html.escape(f"Fleetlight alert. {message.subject}. {message.body}", quote=False)
    if gather_url and message.kind == "open":
        prompt = "Press 1 to acknowledge this alert."
        return ('<?xml version="1.0" encoding="UTF-8"?><Response>'
                f'<Gather numDigits="1" timeout="10" action={quoteattr(gather_url)} method="POST">'
                f'<Say>{say}</Say><Say>{prompt}</Say></Gather><Say>No answer received. Goodbye.</Say></Response>')
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{say}</Say></Response>'


def slack_blocks(message: Outgoing) -> list[dict[str, Any]]:
    """Return the Block Kit blocks (slack_sdk models): the text and, for an open alert, Acknowledge."""
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock
    from slack_sdk.models.blocks.basic_components import MarkdownTextObject

    emoji = {"critical": ":red_circle:", "warning": ":large_orange_circle:"}.get(message.severity, ":large_blue_circle:")
    text = f"{emoji} *{message.subject}*\n{message.body}"
    if message.link:
        text += f"\n<{message.link}|Open in Fleetlight>"
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=text[:2900]))]
    if message.kind == "open" and message.alert_id is not None:
        blocks.append(ActionsBlock(block_id=f"fleetlight_alert_{message.alert_id}", elements=[
            ButtonElement(text="Acknowledge", action_id=ACK_ACTION_ID, value=str(message.alert_id), style="primary"),
        ]))
    return [b.to_dict() for b in blocks]


def teams_card(message: Outgoing) -> dict[str, Any]:
    """Return the Workflows webhook message: an Adaptive Card 1.4 in the documented envelope."""
    colour = {"critical": "Attention", "warning": "Warning"}.get(message.severity, "Accent")
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "color": colour, "wrap": True,
         "text": message.subject},
        {"type": "TextBlock", "wrap": True, "text": message.body},
        {"type": "FactSet", "facts": [{"title": "Severity", "value": message.severity},
                                      {"title": "State", "value": message.kind},
                                      {"title": "Alert", "value": str(message.alert_id or "-")}]},
    ]
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                            "version": "1.4", "body": body}
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open and acknowledge", "url": message.link}]
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


class TwilioSms:
    """SMS through the Twilio SDK (``client.messages.create``)."""

    kind = "sms"
    provider = "twilio"

    def __init__(self, gateway: Any, status_callback: str | None = None) -> None:
        self.gateway = gateway
        self.status_callback = status_callback

    def _client(self) -> Any:
        from twilio.rest import Client

        from notifications.transports import GatewayTwilioHttpClient

        return Client(_secret(self.gateway, "twilio_account_sid"), _secret(self.gateway, "twilio_auth_token"),
                      http_client=GatewayTwilioHttpClient(self.gateway))

    def send(self, message: Outgoing) -> Sent:
        """Create the message; return its SID."""
        kwargs: dict[str, Any] = {"to": message.address, "from_": _secret(self.gateway, "twilio_from_number"),
                                  "body": render_text(message)[:SMS_MAX]}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        created = self._client().messages.create(**kwargs)
        return Sent(self.provider, created.sid, 201)


class TwilioVoice(TwilioSms):
    """A phone call through the Twilio SDK (``client.calls.create`` with inline TwiML)."""

    kind = "voice"

    def __init__(self, gateway: Any, status_callback: str | None = None, gather_url: str | None = None) -> None:
        super().__init__(gateway, status_callback)
        self.gather_url = gather_url

    def send(self, message: Outgoing) -> Sent:
        """Place the call; return its SID."""
        kwargs: dict[str, Any] = {"to": message.address, "from_": _secret(self.gateway, "twilio_from_number"),
                                  "twiml": render_twiml(message, self.gather_url)}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
            kwargs["status_callback_event"] = ["completed"]
        created = self._client().calls.create(**kwargs)
        return Sent(self.provider, created.sid, 201)


class SendGridEmail:
    """E-mail through the SendGrid SDK (``Mail`` helper, ``SendGridAPIClient.send``)."""

    kind = "email"
    provider = "sendgrid"

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def send(self, message: Outgoing) -> Sent:
        """Send the mail; return SendGrid's X-Message-Id (the prefix of the events' sg_message_id)."""
        from sendgrid.helpers.mail import CustomArg, Mail

        from notifications.transports import sendgrid_client

        sender = str(getattr(self.gateway.settings, "sendgrid_from_email", "") or "")
        mail = Mail(from_email=sender, to_emails=message.address, subject=message.subject[:200],
                    plain_text_content=render_text(message), html_content=render_html(message))
        mail.custom_arg = CustomArg("fleetlight_notification", str(message.notification_id))
        response = sendgrid_client(self.gateway, _secret(self.gateway, "sendgrid_api_key")).send(mail)
        headers = response.headers
        message_id = headers.get("X-Message-Id") if headers is not None else None
        return Sent(self.provider, message_id, response.status_code)


class SlackBot:
    """A Slack message through the bot token (``slack_sdk.WebClient.chat_postMessage``)."""

    kind = "slack"
    provider = "slack"

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def send(self, message: Outgoing) -> Sent:
        """Post the message; return ``channel:ts``. A Slack ``ok: false`` is a permanent rejection."""
        from slack_sdk.errors import SlackApiError

        from notifications.transports import GatewaySlackWebClient

        client = GatewaySlackWebClient(self.gateway, _secret(self.gateway, "slack_bot_token"))
        try:
            answer = client.chat_postMessage(channel=message.address, text=render_text(message)[:3000],
                                             blocks=slack_blocks(message))
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else str(exc)
            raise RequestRejected("slack", f"chat.postMessage refused: {error}", endpoint="chat.postMessage",
                                  status_code=exc.response.status_code if exc.response is not None else None) from None
        return Sent(self.provider, f"{answer.get('channel')}:{answer.get('ts')}", answer.status_code)


class SlackWebhook:
    """A Slack message through an incoming webhook URL (``slack_sdk.webhook.WebhookClient``)."""

    kind = "slack_webhook"
    provider = "slack_webhook"

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def send(self, message: Outgoing) -> Sent:
        """Post the message; Slack answers 200 ``ok`` (no message id)."""
        from notifications.transports import GatewaySlackWebhookClient

        answer = GatewaySlackWebhookClient(self.gateway, message.address).send(
            text=render_text(message)[:3000], blocks=slack_blocks(message))
        return Sent(self.provider, None, answer.status_code)


class TeamsWorkflow:
    """An Adaptive Card posted to a Teams Workflows webhook."""

    kind = "teams"
    provider = "msteams"

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def send(self, message: Outgoing) -> Sent:
        """POST the card; Workflows answers 202 Accepted (the legacy connectors 200 ``1``)."""
        from notifications.transports import teams_post

        answer = teams_post(self.gateway, message.address, teams_card(message))
        return Sent(self.provider, answer.headers.get("x-ms-workflow-run-id"), answer.status_code)


def build_channels(gateway: Any, public_base_url: str = "") -> dict[str, Channel]:
    """Return one channel per kind; Twilio callbacks point at ``public_base_url`` when it is set."""
    base = public_base_url.rstrip("/")
    callback = f"{base}/api/v1/webhooks/twilio" if base else None
    gather = f"{base}/api/v1/webhooks/twilio?gather=1" if base else None
    return {
        "sms": TwilioSms(gateway, callback),
        "voice": TwilioVoice(gateway, callback, gather),
        "email": SendGridEmail(gateway),
        "slack": SlackBot(gateway),
        "slack_webhook": SlackWebhook(gateway),
        "teams": TeamsWorkflow(gateway),
    }
