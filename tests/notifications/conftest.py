"""Fixtures of the notification tests: the local provider server and settings pointing at it."""
from __future__ import annotations

import pytest

from tests.support.notify_server import SENDGRID_KEY, SLACK_TOKEN, TWILIO_SID, TWILIO_TOKEN, NotifyServer


@pytest.fixture()
def notify_server():
    """Yield a running local Twilio/SendGrid/Slack/Teams server."""
    with NotifyServer() as server:
        yield server


def provider_settings(server: NotifyServer) -> dict:
    """Return the settings that point every notification provider at ``server`` with test credentials."""
    return {
        "provider_base_urls": server.base_urls(), "twilio_account_sid": TWILIO_SID, "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from_number": "+14155552345", "sendgrid_api_key": SENDGRID_KEY, "slack_bot_token": SLACK_TOKEN,
        "sendgrid_from_email": "alerts@fleetlight.example",
        # quick back-off so a test sees several retries; the gateway's own retries stay at one extra try
        "notify_backoff_initial_s": 0.2, "notify_backoff_max_s": 1.0,
        "provider_limits": {p: {"backoff_initial_s": 0.01, "backoff_max_s": 0.02, "rate_per_s": 200, "burst": 200,
                                "reset_timeout_s": 0.5}
                            for p in ("twilio", "sendgrid", "slack", "slack_webhook", "msteams")},
    }
