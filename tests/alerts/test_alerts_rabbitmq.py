"""alert.changed through RabbitMQ: the lifecycle publishes each change once to the broker; a
consumer group (as the notifications are) receives every message, validated by the registry."""
from __future__ import annotations

import pytest

from alerts.lifecycle import ALERT_CHANGED_TOPIC, AlertBook, Condition
from bus.rabbitmq import queue_name
from tests.bus.conftest import delete_queues, group, rabbit_bus, rabbit_url  # noqa: F401
from tests.support.fleet import SOLAR_ASSETS, make_small_fleet
from tests.support.live_services import wait_for

pytestmark = pytest.mark.services


def test_every_change_reaches_a_consumer_group_once(rabbit_bus, db, group, rabbit_url):  # noqa: F811
    make_small_fleet(db)
    bus = rabbit_bus()
    got: list[dict] = []
    bus.subscribe(ALERT_CHANGED_TOPIC, got.append, group=group)
    bus.start()
    try:
        book = AlertBook(db, bus)
        alert_id = book.raise_alert(Condition("threshold", None, "t-sol", SOLAR_ASSETS[0], "critical", "INV-01 hot",
                                              "above 75", "rq:1"))
        book.acknowledge(alert_id, "olga", "on it")
        book.resolve(alert_id, "olga", "fan replaced")
        wait_for(lambda: len(got) >= 3, 20, what="three alert.changed messages")
        assert [(m["alert_id"], m["change"], m["actor"]) for m in got] == [
            (alert_id, "raised", "system"), (alert_id, "acknowledged", "olga"), (alert_id, "resolved", "olga")]
        wait_for(lambda: bus.queue_depths()[queue_name(ALERT_CHANGED_TOPIC, group)] == 0, 10, what="queue drained")
        assert len(got) == 3
    finally:
        delete_queues(rabbit_url, [queue_name(ALERT_CHANGED_TOPIC, group)])
