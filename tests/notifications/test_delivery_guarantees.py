"""A provider down for a while, then back: every notification is delivered exactly once or recorded as
failed with its reason, on the in-process bus and on RabbitMQ (the outbox's relay thread running)."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from data.models import DeadLetter, Notification, NotificationAttempt
from notifications import directory
from notifications.channels import build_channels
from notifications.component import NotificationsComponent
from notifications.outbox import Outbox
from tests.notifications.conftest import make_user, open_alert
from tests.support.live_services import require_rabbitmq, wait_for
from tests.support.notify_server import INVALID_NUMBER

ALERTS = 25
DOWN_S = 2.0


@pytest.fixture(params=["inprocess", pytest.param("rabbitmq", marks=pytest.mark.services)])
def bus(request, db):
    if request.param == "inprocess":
        from bus.inprocess import InProcessBus

        bus = InProcessBus(db)
        yield bus, "notify"
        bus.close()
        return
    from bus.rabbitmq import RabbitMQBus, queue_name
    from tests.bus.conftest import delete_queues

    url = require_rabbitmq()
    group = f"test-{uuid.uuid4().hex[:10]}"
    bus = RabbitMQBus(url, db, batch_wait_s=0.01)
    yield bus, group
    bus.close()
    delete_queues(url, [queue_name("alert.changed", group), queue_name("notification.v1", f"{group}-send")])


def test_outage_then_recovery_delivers_each_once_or_records_the_failure(db, bus, gateway, notify_server):
    the_bus, group = bus
    alice, dave = make_user(db, "alice"), make_user(db, "dave")
    directory.add_contact_method(db, "test", alice, "sms", "+15558675310", gateway=gateway)
    directory.add_contact_method(db, "test", alice, "email", "alice@example.com", gateway=gateway)
    directory.add_contact_method(db, "test", dave, "sms", INVALID_NUMBER, gateway=gateway)  # refused for good
    directory.save_policy(db, "test", "both", [{"targets": [{"type": "user", "id": alice}, {"type": "user", "id": dave}]}])
    outbox = Outbox(db, the_bus, build_channels(gateway), max_attempts=10, backoff_initial_s=0.2, backoff_max_s=1.0)
    outbox.subscribe(group)
    component = NotificationsComponent(outbox, poll_s=0.1)
    if hasattr(the_bus, "start"):
        the_bus.start()
    component.start()
    try:
        notify_server.down("twilio")
        threading.Timer(DOWN_S, notify_server.up, args=("twilio",)).start()
        started = time.monotonic()
        alert_ids = [open_alert(db, the_bus, title=f"alert {i}") for i in range(ALERTS)]
        wait_for(lambda: _settled(db, 2 * ALERTS), 60, 0.1, "every notification sent or failed")
        elapsed = time.monotonic() - started
    finally:
        component.stop(5)
    with db.session() as s:
        rows = s.execute(select(Notification).order_by(Notification.id)).scalars().all()
        attempts = s.execute(select(NotificationAttempt)).scalars().all()
        letters = s.execute(select(DeadLetter).where(DeadLetter.source == "notifications")).scalars().all()
    alice_rows = [r for r in rows if r.user_id == alice]
    dave_rows = [r for r in rows if r.user_id == dave]
    # alice: each alert's SMS sent exactly once, after the outage, with retries recorded
    assert sorted(r.alert_id for r in alice_rows) == sorted(alert_ids)
    assert all(r.status == "sent" and r.channel == "sms" for r in alice_rows)
    bodies = Counter(dict(parse_qsl(req[3].decode()))["Body"].split("\n")[0] for req in notify_server.sent("twilio"))
    assert bodies == Counter({f"[CRITICAL] alert {i}": 1 for i in range(ALERTS)})
    assert len({r.provider_message_id for r in alice_rows}) == ALERTS
    retried = [a for a in attempts if a.outcome == "retry"]
    assert {a.notification_id for a in retried} >= {r.id for r in alice_rows[:1]}  # the first waited out the outage
    final = {a.notification_id: a.outcome for a in sorted(attempts, key=lambda a: a.id)}
    assert all(final[r.id] == "sent" for r in alice_rows) and all(final[r.id] == "failed" for r in dave_rows)
    assert elapsed >= DOWN_S
    # dave: each refused for good with Twilio's reason, dead-lettered, no further channel to try
    assert len(dave_rows) == ALERTS and all(r.status == "failed" for r in dave_rows)
    assert all("not a valid phone number" in (r.error or "") for r in dave_rows)
    assert sorted(letter.payload["notification_id"] for letter in letters) == sorted(r.id for r in dave_rows)
    assert not notify_server.sent("sendgrid")  # alice's SMS got through: her e-mail was never needed
    print(json.dumps({"backend": group, "alerts": ALERTS, "down_s": DOWN_S, "settled_s": round(elapsed, 2),
                      "retries": len(retried), "duplicates_skipped": outbox.stats["duplicates"]}))


def _settled(db, expected: int) -> bool:
    with db.session() as s:
        rows = s.execute(select(Notification.status)).scalars().all()
    return len(rows) >= expected and all(status in ("sent", "failed") for status in rows)
