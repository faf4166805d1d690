"""The typed services of one Fleetlight process, built by :func:`bootstrap.build.build`."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bus.base import MessageBus
from core.component import Component
from core.settings import Settings
from data.db import Database

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from flask_socketio import SocketIO

    from alerts.evaluator import RuleEngine
    from alerts.lifecycle import AlertBook
    from gateway.core import Gateway
    from ingest.retention import RetentionWorker
    from ingest.service import IngestService
    from live.hub import LiveHub
    from live.price_feed import PriceFeed
    from live.prices import PriceStore
    from notifications.outbox import Outbox
    from security.replay import WebhookReceipts
    from security.vault import Vault
    from simulator.runner import Simulator

Role = Literal["web", "worker", "cli", "test"]


@dataclass
class Services:
    """Everything with the lifetime of the process; ``components`` start in order, stop in reverse."""

    settings: Settings
    db: Database
    bus: MessageBus  # bus.inprocess.InProcessBus or bus.rabbitmq.RabbitMQBus
    ingest: IngestService
    scheduler: BackgroundScheduler
    role: Role = "web"
    consumer_group: str = "store"  # the bus consumer group of this process's subscriptions
    live_push: bool = True  # a worker pushes to browsers (through Redis) unless told not to
    gateway: Gateway | None = None
    hub: LiveHub | None = None
    socketio: SocketIO | None = None
    price_store: PriceStore | None = None
    price_feed: PriceFeed | None = None
    simulator: Simulator | None = None
    alert_book: AlertBook | None = None  # the lifecycle: raise, suppress, ack, resolve, publish
    rule_engine: RuleEngine | None = None
    outbox: Outbox | None = None  # notifications (web): escalation, relay, delivery
    retention: RetentionWorker | None = None
    vault: Vault | None = None
    webhook_receipts: WebhookReceipts | None = None  # persisted webhook replay protection
    clock: Callable[[], float] | None = None  # webhook timestamp checks; None = time.time
    fresh_fleet: bool = False  # the store was empty and the demo fleet was seeded at start
    components: list[Component] = field(default_factory=list)
    started: bool = False

    def component(self, name: str) -> Component | None:
        """Return the component called ``name``, or None."""
        return next((c for c in self.components if c.name == name), None)
