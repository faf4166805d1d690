"""Provider callbacks: delivery receipts and acknowledgements coming back from a channel.

``api/webhooks.py`` verifies each callback's signature (X-Twilio-Signature, SendGrid's ECDSA
signed events, X-Slack-Signature), refuses replays through the webhook receipts table and
publishes what it accepted on ``webhooks.<provider>``; this module consumes those topics:

* Twilio status callbacks (``MessageStatus`` / ``CallStatus``): ``delivered`` (a call:
  ``completed``) marks the row delivered; ``failed``, ``undelivered``, ``busy``, ``no-answer``,
  ``canceled`` fail it with the provider's error code and fall back to the next contact method.
* Twilio ``<Gather>`` keypad answers (``Digits`` ``1`` on the call's ``CallSid``) and SMS replies
  (``ACK`` or ``ACK <alert id>`` from a number that is someone's contact method): acknowledge.
* SendGrid events (matched by our ``fleetlight_notification`` custom argument, else by the
  ``X-Message-Id`` prefix of ``sg_message_id``): ``delivered``; ``bounce``, ``dropped``,
  ``blocked`` fail and fall back; the others (``deferred``, ``open``, ``click``) are noted.
* Slack interactivity (``block_actions`` with our Acknowledge button): acknowledge as the
  Fleetlight user whose Slack contact method carries that member id.

Acknowledging goes through :meth:`alerts.lifecycle.AlertBook.acknowledge` (audit event, ``alert.changed``),
as the person the channel belongs to, who must hold ``alerts:ack`` (operator and above); every
receipt is an attempt row (outcome ``receipt``) on the notification it is about.
"""
from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bus.eventlog import record_event
from data.db import Database
from data.models import AlertEscalation, ContactMethod, Notification, NotificationAttempt, User, utcnow
from notifications.channels import ACK_ACTION_ID
from notifications.outbox import Outbox

if TYPE_CHECKING:
    from alerts.lifecycle import AlertBook

log = logging.getLogger(__name__)

TWILIO_FAILED = {"failed", "undelivered", "busy", "no-answer", "canceled"}
SENDGRID_FAILED = {"bounce", "dropped", "blocked"}
ACK_REPLY = re.compile(r"^\s*(?:ack(?:nowledge)?|1)\s*#?\s*(\d+)?\s*$", re.I)


class Receipts:
    """Consumer of ``webhooks.twilio``, ``webhooks.sendgrid`` and ``webhooks.slack``."""

    def __init__(self, db: Database, outbox: Outbox, book: AlertBook | None = None) -> None:
        from alerts.lifecycle import AlertBook

        self.db = db
        self.outbox = outbox
        # the alert lifecycle acknowledges (audit event, alert.changed); its own on this database and bus if none given
        self.book = book or AlertBook(db, outbox.bus)
        self.stats = {"receipts": 0, "acknowledged": 0, "refused": 0, "unmatched": 0}

    def subscribe(self, bus: Any, group: str = "notify") -> None:
        """Subscribe the three webhook topics under ``group``."""
        bus.subscribe("webhooks.twilio", self.on_twilio, group)
        bus.subscribe("webhooks.sendgrid", self.on_sendgrid, group)
        bus.subscribe("webhooks.slack", self.on_slack, group)

    # --- shared -----------------------------------------------------------------------------

    def _receipt(self, session: Session, row: Notification, provider: str, status: str, error: str | None) -> None:
        session.add(NotificationAttempt(notification_id=row.id, attempt=row.attempts, provider=provider,
                                        started_at=utcnow(), outcome="receipt", provider_message_id=row.provider_message_id,
                                        error=f"{status}: {error}" if error else status))
        row.delivery_status = status[:64]
        self.stats["receipts"] += 1

    def _delivered(self, row: Notification) -> None:
        if row.status == "sent":
            row.status, row.delivered_at = "delivered", utcnow()

    def acknowledge(self, alert_id: int, user: User | None, via: str) -> str:
        """Acknowledge ``alert_id`` as ``user`` (who must hold alerts:ack); return what happened."""
        from alerts.lifecycle import AlertActionError
        from security.access import role_at_least

        if user is None or not user.is_active or not role_at_least(user.role, "operator"):
            who = user.username if user is not None else "an unknown sender"
            log.warning("acknowledgement of alert %s by %s via %s refused: not an active operator", alert_id, who, via)
            record_event(self.db, f"{via}:{who}", "notification.ack_refused", "alert", str(alert_id),
                         {"via": via, "reason": "not an active operator"})
            self.stats["refused"] += 1
            return "refused"
        try:
            self.book.acknowledge(alert_id, user.username, comment=f"acknowledged via {via}")
        except AlertActionError as exc:
            log.info("acknowledgement of alert %s via %s: %s", alert_id, via, exc)
            return "not open"
        self.stats["acknowledged"] += 1
        return "acknowledged"

    # --- Twilio -----------------------------------------------------------------------------

    def on_twilio(self, message: dict[str, Any]) -> None:
        """Handle one Twilio callback (form fields in ``data``)."""
        data = message.get("data") or {}
        if not isinstance(data, dict):
            return
        if "Digits" in data and data.get("CallSid"):
            self._keypad(data)
        elif data.get("MessageStatus") or data.get("CallStatus"):
            self._twilio_status(data)
        elif data.get("Body") is not None and data.get("From"):
            self._sms_reply(data)

    def _twilio_status(self, data: dict[str, Any]) -> None:
        sid = data.get("MessageSid") or data.get("CallSid")
        status = str(data.get("MessageStatus") or data.get("CallStatus"))
        code = data.get("ErrorCode") or None
        with self.db.session() as session:
            row = session.execute(select(Notification).where(Notification.provider_message_id == sid)).scalar_one_or_none()
            if row is None:
                self.stats["unmatched"] += 1
                return
            self._receipt(session, row, "twilio", status, f"Twilio error {code}" if code else None)
            if status == "delivered" or (status == "completed" and data.get("CallSid") and not data.get("MessageSid")):
                self._delivered(row)
            elif status in TWILIO_FAILED:
                self.outbox.fail_after_receipt(session, row, f"twilio reported {status}"
                                               + (f" (error {code})" if code else ""))

    def _keypad(self, data: dict[str, Any]) -> None:
        with self.db.session() as session:
            row = session.execute(select(Notification).where(Notification.provider_message_id == data["CallSid"])
                                  ).scalar_one_or_none()
            if row is None or row.alert_id is None:
                self.stats["unmatched"] += 1
                return
            self._receipt(session, row, "twilio", f"keypad {str(data.get('Digits'))[:8]}", None)
            alert_id, user = row.alert_id, session.get(User, row.user_id) if row.user_id else None
            if user is not None:
                session.expunge(user)
        if str(data.get("Digits")).strip() == "1":
            self.acknowledge(alert_id, user, "voice keypad")

    def _sms_reply(self, data: dict[str, Any]) -> None:
        match = ACK_REPLY.match(str(data.get("Body", "")))
        if match is None:
            return
        with self.db.session() as session:
            user_id = session.execute(select(ContactMethod.user_id).where(
                ContactMethod.kind.in_(("sms", "voice")), ContactMethod.address == data["From"])).scalars().first()
            user = session.get(User, user_id) if user_id else None
            if match.group(1):
                alert_id: int | None = int(match.group(1))
            else:  # the newest alert this person was paged for that is still escalating
                alert_id = session.execute(
                    select(Notification.alert_id).join(AlertEscalation, AlertEscalation.alert_id == Notification.alert_id)
                    .where(Notification.user_id == user_id, Notification.kind == "open",
                           Notification.status.in_(("sent", "delivered")), AlertEscalation.state.in_(("active", "exhausted")))
                    .order_by(Notification.id.desc())).scalars().first() if user_id else None
            if user is not None:
                session.expunge(user)
        if alert_id is None:
            self.stats["unmatched"] += 1
            return
        self.acknowledge(alert_id, user, "SMS reply")

    # --- SendGrid ---------------------------------------------------------------------------

    def on_sendgrid(self, message: dict[str, Any]) -> None:
        """Handle a batch of SendGrid events (a JSON list in ``data``)."""
        events = message.get("data")
        if not isinstance(events, list):
            return
        with self.db.session() as session:
            for event in events:
                if isinstance(event, dict):
                    self._sendgrid_event(session, event)

    def _sendgrid_event(self, session: Session, event: dict[str, Any]) -> None:
        row = None
        ours = event.get("fleetlight_notification")
        if isinstance(ours, (str, int)) and str(ours).isdigit():
            row = session.get(Notification, int(ours))
        if row is None and isinstance(event.get("sg_message_id"), str):
            prefix = event["sg_message_id"].split(".", 1)[0]
            row = session.execute(select(Notification).where(Notification.channel == "email",
                                                             Notification.provider_message_id == prefix)
                                  ).scalar_one_or_none()
        if row is None:
            self.stats["unmatched"] += 1
            return
        kind = str(event.get("event", ""))
        reason = event.get("reason") or event.get("response")
        self._receipt(session, row, "sendgrid", kind, str(reason)[:500] if reason else None)
        if kind == "delivered":
            self._delivered(row)
        elif kind in SENDGRID_FAILED:
            self.outbox.fail_after_receipt(session, row, f"sendgrid reported {kind}" + (f": {reason}" if reason else ""))

    # --- Slack ------------------------------------------------------------------------------

    def on_slack(self, message: dict[str, Any]) -> None:
        """Handle a Slack interactivity request (``payload`` form field holding JSON)."""
        data = message.get("data") or {}
        raw = data.get("payload") if isinstance(data, dict) else None
        if not isinstance(raw, str):
            return
        try:
            payload = json.loads(raw)
        except ValueError:
            log.warning("Slack interactivity payload is not JSON")
            return
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            return
        member = (payload.get("user") or {}).get("id")
        for action in payload.get("actions") or []:
            if action.get("action_id") != ACK_ACTION_ID or not str(action.get("value", "")).isdigit():
                continue
            alert_id = int(action["value"])
            with self.db.session() as session:
                user_id = session.execute(select(ContactMethod.user_id).where(
                    ContactMethod.slack_user_id == member)).scalars().first() if member else None
                user = session.get(User, user_id) if user_id else None
                if user is not None:
                    session.expunge(user)
                rows = session.execute(select(Notification).where(
                    Notification.alert_id == alert_id, Notification.channel.in_(("slack", "slack_webhook")),
                    Notification.kind == "open")).scalars().all()
                for row in rows:
                    self._receipt(session, row, "slack", "button acknowledge", f"by Slack member {member}")
            self.acknowledge(alert_id, user, "Slack button")
