"""Fixtures of the bus tests: a RabbitMQ bus on unique queues, removed afterwards."""
from __future__ import annotations

import uuid

import pika
import pytest

from tests.support.live_services import require_rabbitmq


def delete_queues(url: str, names: list[str]) -> None:
    """Delete test queues from the broker (ignores ones already gone)."""
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        for name in names:
            channel = conn.channel()
            try:
                channel.queue_delete(name)
            except pika.exceptions.ChannelClosedByBroker:
                pass
    finally:
        conn.close()


@pytest.fixture()
def rabbit_url():
    """Return the broker URL (skip, or fail under CI=true, when RabbitMQ is down)."""
    return require_rabbitmq()


@pytest.fixture()
def group() -> str:
    """Return a consumer group name unique to this test (so its queue is private)."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def rabbit_bus(rabbit_url, db, group):
    """Yield a factory of RabbitMQBus instances on the test database; queues of ``group`` are deleted after."""
    from bus.rabbitmq import RabbitMQBus, queue_name

    made: list[RabbitMQBus] = []

    def make(**kwargs):
        bus = RabbitMQBus(rabbit_url, db, **kwargs)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        bus.close()
    delete_queues(rabbit_url, [queue_name(t, group) for t in ("telemetry.v1", "prices.v1", "events.v1")])
