"""POST /api/v1/webhooks/<provider>: signature-verified callbacks from Twilio, SendGrid and Slack.

A request is accepted only with a valid signature (constant-time compare), a timestamp within
``FLEETLIGHT_WEBHOOK_MAX_AGE_S`` (SendGrid, Slack) and signed content not received before: the
replay cache is keyed on what the signature covers, not on its spelling, and kept in the
database (:mod:`security.replay`), so it holds across restarts and server processes.
Accepted payloads are published on the bus topic ``webhooks.<provider>`` as
``{"v": 1, "provider", "received_at" (ISO UTC), "content_type", "data"}`` (registered schema) for the notification and
alerting workers (delivery receipts, Slack commands); no credential field is forwarded.

Secrets come from the vault (``webhook:twilio`` auth token, ``webhook:sendgrid`` verification
public key, ``webhook:slack`` signing secret; every stored version is accepted, so a secret is
rotated by adding the new version before retiring the old) or from the settings
``twilio_auth_token``, ``sendgrid_webhook_public_key``, ``slack_signing_secret`` when defined.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, jsonify, request

from api import spec
from api.errors import ApiError
from core.runtime import services
from data.models import utcnow
from security.replay import TWILIO_RECEIPT_DAYS, WebhookReceipts
from security.signatures import SignatureError, verify_sendgrid, verify_slack, verify_twilio

log = logging.getLogger(__name__)

PROVIDERS = ("twilio", "sendgrid", "slack")
SETTING_NAMES = {"twilio": "twilio_auth_token", "sendgrid": "sendgrid_webhook_public_key",
                 "slack": "slack_signing_secret"}
MAX_BODY = 1024 * 1024
DROP_FIELDS = {"token", "AccountSid", "api_app_id"}  # credentials or tenant ids never forwarded


def webhook_secrets(provider: str) -> list[str]:
    """Return every accepted secret for ``provider`` (vault versions, then the setting)."""
    from security.vault import get_vault

    values = list(get_vault().versions(f"webhook:{provider}"))
    setting = getattr(services().settings, SETTING_NAMES[provider], None)
    if setting is not None:
        value = setting.get_secret_value() if hasattr(setting, "get_secret_value") else str(setting)
        if value and value not in values:
            values.append(value)
    return values


def _clock() -> float:
    clock: Callable[[], float] | None = services().clock
    return clock() if clock else time.time()


def _receipts() -> WebhookReceipts:
    svc = services()
    receipts = svc.webhook_receipts
    if receipts is None or receipts.db is not svc.db:
        receipts = WebhookReceipts(svc.db)
        svc.webhook_receipts = receipts
    return receipts


def _receipt_ttl_s(provider: str) -> float:
    if provider == "twilio":
        return TWILIO_RECEIPT_DAYS * 86400.0
    return 2.0 * services().settings.webhook_max_age_s


def verify(provider: str, body: bytes) -> str:
    """Verify the current request for ``provider``; return the digest of its signed content (the replay key)."""
    settings = services().settings
    headers = request.headers
    content_type = request.content_type or ""
    if provider == "twilio":
        return verify_twilio(webhook_secrets(provider), request.url, headers.get("X-Twilio-Signature"), body,
                             content_type)
    if provider == "sendgrid":
        return verify_sendgrid(webhook_secrets(provider), headers.get("X-Twilio-Email-Event-Webhook-Signature"),
                               headers.get("X-Twilio-Email-Event-Webhook-Timestamp"), body, _clock(),
                               settings.webhook_max_age_s)
    return verify_slack(webhook_secrets(provider), headers.get("X-Slack-Signature"),
                        headers.get("X-Slack-Request-Timestamp"), body, _clock(), settings.webhook_max_age_s)


def parse_payload(body: bytes, content_type: str) -> Any:
    """Return the payload as data: form fields as a dict, JSON as parsed; raises ApiError if malformed."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            return {k: v for k, v in parse_qsl(body.decode("utf-8"), keep_blank_values=True) if k not in DROP_FIELDS}
        data = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "body is neither form-encoded nor JSON") from None
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in DROP_FIELDS}
    return data


def register(bp: Blueprint) -> None:
    """Add the webhook route to ``bp``."""

    @bp.post("/webhooks/<provider>")
    def webhook(provider: str):
        if provider not in PROVIDERS:
            raise ApiError(404, f"no webhook for provider {provider!r}; known: {', '.join(PROVIDERS)}")
        if (request.content_length or 0) > MAX_BODY:
            raise ApiError(413, f"webhook body larger than {MAX_BODY} bytes")
        body = request.get_data(cache=True)
        try:
            digest = verify(provider, body)
        except SignatureError as exc:
            log.warning("webhook %s rejected: %s", provider, exc)
            raise ApiError(401, f"signature check failed: {exc}") from None
        if _receipts().seen_before(provider, digest, _receipt_ttl_s(provider), _clock()):
            raise ApiError(409, "this signed request was already received (replay)")
        content_type = request.content_type or ""
        message = {"v": 1, "provider": provider, "received_at": utcnow().isoformat(), "content_type": content_type.split(";")[0],
                   "data": parse_payload(body, content_type)}
        bus = services().bus
        if bus is not None:
            bus.publish(f"webhooks.{provider}", message)
        if provider == "twilio":
            return Response('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', mimetype="text/xml")
        if provider == "slack":
            return jsonify({"response_type": "ephemeral", "text": "Received by Fleetlight."})
        return Response(status=200)

    spec.add_path("/webhooks/{provider}", "post", {
        "summary": "Signed callback from Twilio, SendGrid or Slack (signature, timestamp and replay checked)",
        "security": [],
        "parameters": [{"name": "provider", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": list(PROVIDERS)}}],
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                                    "application/json": {"schema": {}}}},
        "responses": {"200": {"description": "accepted"}, "401": {"description": "bad or stale signature"},
                      "409": {"description": "replayed request"}},
    })
