"""Fixtures of the notification tests: the local provider server and settings pointing at it."""
from __future__ import annotations

import datetime as dt

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


class Clock:
    """A UTC clock the test moves."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture()
def gateway(db, notify_server, tmp_path):
    """Return a gateway on the test database whose notification providers are the local server."""
    from core.settings import load_settings
    from gateway.core import Gateway

    settings = load_settings(instance_dir=tmp_path, **provider_settings(notify_server))
    gw = Gateway(settings, db=db, flush_interval_s=0.05)
    yield gw
    gw.close()


def make_user(db, name: str, role: str = "operator") -> int:
    """Create a user and return its id."""
    from data.models import Role
    from security.users import create_user

    return create_user(db, name, "correct-horse-battery-9", Role(role)).id


def open_alert(db, bus, *, severity: str = "critical", site_id: str | None = None, title: str = "Inverter 3 offline",
               when: dt.datetime | None = None) -> int:
    """Insert an open alert and publish its alert.changed as the alerts half does; return its id."""
    from data.models import Alert

    with db.session() as s:
        alert = Alert(site_id=site_id, rule="test", severity=severity, title=title, message="No power for 20 min",
                      dedup_key=f"test:{title}", opened_at=when or dt.datetime.now(dt.UTC))
        s.add(alert)
        s.flush()
        alert_id = alert.id
    bus.publish("alert.changed", change(alert_id, "open", severity=severity, site_id=site_id, title=title, when=when))
    return alert_id


def change(alert_id: int, state: str, *, severity: str = "critical", site_id: str | None = None,
           title: str = "Inverter 3 offline", actor: str = "system", when: dt.datetime | None = None) -> dict:
    """Return an alert.changed v1 message, as :func:`alerts.lifecycle.changed_message` writes it."""
    ts = (when or dt.datetime.now(dt.UTC)).isoformat()
    return {"v": 1, "alert_id": alert_id, "rule_id": None, "site_id": site_id, "asset_id": None, "severity": severity,
            "state": state, "change": {"open": "raised"}.get(state, state), "title": title,
            "message": "No power for 20 min", "dedup_key": f"test:{title}", "suppressed_reason": None, "comment": "",
            "ts": ts, "actor": actor}
