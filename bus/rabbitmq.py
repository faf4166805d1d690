"""RabbitMQ backend of the bus (pika, blocking connections, one per thread).

Topology (declared idempotently by publishers and consumers):

* ``fleetlight`` topic exchange, durable; a message's routing key is its topic (``telemetry.v1``).
* one durable **quorum** queue per (topic, consumer group): ``fleetlight.<topic>.<group>``, with
  ``x-delivery-limit`` (the broker dead-letters a message delivered more often than that, e.g.
  one that crashes every worker that touches it) and the dead-letter exchange below.
* ``fleetlight.dlx`` fanout exchange -> ``fleetlight.dead-letters`` durable queue; a drain thread
  moves what arrives there into the ``dead_letters`` table with the broker's reason.

Publishing uses publisher confirms and ``mandatory``: ``publish`` returns only once the broker has
the message on disk in a bound queue, else raises :class:`bus.base.DeliveryFailed`.

Consuming: a thread per subscription takes up to ``batch_max`` messages (or what arrived within
``batch_wait_s``), validates each against the schema registry (bad ones are dead-lettered with
the reason and acknowledged, so a malformed message never stops the consumer), hands the good ones
to the handler (merged into one message when the topic declares a merge field, so one
transaction stores the whole batch) and acknowledges only after the handler returned, i.e. after
the durable store. A worker killed mid-batch leaves its messages unacknowledged; the broker
redelivers them and the idempotent store skips what was already written. A message whose handler
keeps failing is retried at most ``max_attempts`` times, then dead-lettered with the last error.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import pika
from pika.exceptions import AMQPChannelError, AMQPConnectionError, AMQPError, NackError, UnroutableError

from bus.base import DeliveryFailed, Handler
from bus.deadletter import dead_letter
from bus.registry import REGISTRY, Registry, SchemaError
from data.db import Database

log = logging.getLogger(__name__)

EXCHANGE = "fleetlight"
DLX = "fleetlight.dlx"
DLQ = "fleetlight.dead-letters"
ERROR_HEADER = "x-fleetlight-error"


def queue_name(topic: str, group: str) -> str:
    """Return the durable queue of consumer ``group`` on ``topic``."""
    return f"fleetlight.{topic}.{group}"


@dataclass
class _Subscription:
    topic: str
    group: str
    handler: Handler
    thread: threading.Thread | None = None
    stats: dict[str, int] = field(default_factory=lambda: {"handled": 0, "dead_lettered": 0, "retried": 0})


class RabbitMQBus:
    """The bus on RabbitMQ: durable quorum queues, dead-letter exchange, ack after durable store."""

    backend_name = "rabbitmq"

    def __init__(
        self,
        url: str,
        db: Database | None,
        *,
        prefetch: int = 500,
        batch_max: int = 200,
        batch_wait_s: float = 0.02,
        max_attempts: int = 5,
        delivery_limit: int = 20,
        registry: Registry = REGISTRY,
    ) -> None:
        self.url = url
        self._db = db
        self.prefetch = prefetch
        self.batch_max = batch_max
        self.batch_wait_s = batch_wait_s
        self.max_attempts = max_attempts
        self.delivery_limit = delivery_limit
        self.registry = registry
        self._subs: list[_Subscription] = []
        self._pub_lock = threading.Lock()
        self._pub_conn: pika.BlockingConnection | None = None
        self._pub_channel: Any = None
        self._stop = threading.Event()
        self._started = False
        self._drain_thread: threading.Thread | None = None

    # --- connections and topology ------------------------------------------------------------

    def _connect(self) -> pika.BlockingConnection:
        params = pika.URLParameters(self.url)
        params.heartbeat = 30
        params.blocked_connection_timeout = 30
        params.connection_attempts = 3
        params.retry_delay = 0.5
        return pika.BlockingConnection(params)

    def _declare(self, channel: Any, topic: str | None = None, group: str | None = None) -> None:
        channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        channel.exchange_declare(DLX, exchange_type="fanout", durable=True)
        channel.queue_declare(DLQ, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(DLQ, DLX)
        if topic is not None and group is not None:
            name = queue_name(topic, group)
            channel.queue_declare(name, durable=True, arguments={
                "x-queue-type": "quorum", "x-dead-letter-exchange": DLX, "x-delivery-limit": self.delivery_limit,
            })
            channel.queue_bind(name, EXCHANGE, routing_key=topic)

    def _publisher(self) -> Any:
        if self._pub_channel is None or not self._pub_channel.is_open:
            if self._pub_conn is not None and self._pub_conn.is_open:
                self._pub_conn.close()
            self._pub_conn = self._connect()
            channel = self._pub_conn.channel()
            channel.confirm_delivery()
            self._declare(channel)
            for sub in self._subs:
                self._declare(channel, sub.topic, sub.group)
            self._pub_channel = channel
        return self._pub_channel

    # --- bus interface -----------------------------------------------------------------------

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Validate ``message`` against ``topic``'s schema and publish it persistently.

        Raises SchemaError for a message that does not match its schema (a producer bug) and
        DeliveryFailed when the broker did not confirm it into a bound queue.
        """
        self.registry.validate(topic, message)
        body = orjson.dumps(message)
        props = pika.BasicProperties(
            content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent,
            message_id=uuid.uuid4().hex, timestamp=int(time.time()), type=topic,
            headers={"schema_version": message.get("v")},
        )
        last_error: Exception | None = None
        with self._pub_lock:
            for _attempt in range(2):
                try:
                    self._publisher().basic_publish(EXCHANGE, topic, body, props, mandatory=True)
                    return
                except UnroutableError:
                    raise DeliveryFailed(f"no queue is bound for topic {topic!r} (no consumer group subscribed)") from None
                except NackError:
                    raise DeliveryFailed(f"broker refused the message on {topic!r}") from None
                except (AMQPConnectionError, AMQPChannelError, AMQPError, OSError) as exc:
                    last_error = exc
                    self._pub_channel = None
        raise DeliveryFailed(f"RabbitMQ unavailable at publish on {topic!r}: {type(last_error).__name__}: {last_error}")

    def subscribe(self, topic: str, handler: Handler, group: str = "default") -> None:
        """Declare ``group``'s durable queue on ``topic`` and register ``handler``.

        Messages published from now on are kept for the group; they are consumed once
        :meth:`start` runs (serving processes and ``python -m bus.worker`` call it).
        """
        sub = _Subscription(topic, group, handler)
        self._subs.append(sub)
        with self._pub_lock:
            try:
                self._declare(self._publisher(), topic, group)
            except AMQPError as exc:
                self._pub_channel = None
                log.warning("could not declare %s yet (%s); will retry when publishing", queue_name(topic, group), exc)
        if self._started:
            self._start_consumer(sub)

    def start(self) -> None:
        """Start a consumer thread per subscription and the dead-letter drain (idempotent)."""
        if self._started:
            return
        self._started = True
        self._stop.clear()
        for sub in self._subs:
            self._start_consumer(sub)
        if self._db is not None:
            self._drain_thread = threading.Thread(target=self._run_forever, args=(self._drain_loop,),
                                                  name="bus-dlq-drain", daemon=True)
            self._drain_thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop consumers (unfinished batches stay unacknowledged) and close connections.

        Waits at most ``timeout`` seconds for all consumer threads together (they are daemons: one
        still connecting when a stop comes does not hold the process; 5 s per thread in turn made a
        worker stopped right after start-up miss its 10 s).
        """
        self._stop.set()
        deadline = time.monotonic() + timeout
        threads = [sub.thread for sub in self._subs if sub.thread is not None] + [self._drain_thread]
        for thread in threads:
            if thread is not None:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        with self._pub_lock:
            try:
                if self._pub_conn is not None and self._pub_conn.is_open:
                    self._pub_conn.close()
            except AMQPError:
                pass
            self._pub_conn = self._pub_channel = None
        self._started = False

    def health(self) -> dict[str, Any]:
        """Return the consumer state for the health endpoint (no broker round trip)."""
        alive = [s for s in self._subs if s.thread is not None and s.thread.is_alive()]
        return {"consumers_started": self._started, "consumers_alive": len(alive), "queues": self.stats()}

    def stats(self) -> dict[str, dict[str, int]]:
        """Return per-queue counters: handled, dead_lettered, retried."""
        return {queue_name(s.topic, s.group): dict(s.stats) for s in self._subs}

    def queue_depths(self) -> dict[str, int]:
        """Return the number of ready messages per declared queue (including the DLQ)."""
        out = {}
        with self._pub_lock:
            channel = self._publisher()
            for name in [queue_name(s.topic, s.group) for s in self._subs] + [DLQ]:
                out[name] = channel.queue_declare(name, passive=True).method.message_count
        return out

    # --- consumers ---------------------------------------------------------------------------

    def _start_consumer(self, sub: _Subscription) -> None:
        sub.thread = threading.Thread(target=self._run_forever, args=(lambda: self._consume(sub),),
                                      name=f"bus-{sub.topic}-{sub.group}", daemon=True)
        sub.thread.start()

    def _run_forever(self, loop: Any) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                loop()
                delay = 0.5
            except (AMQPError, OSError) as exc:
                log.warning("bus consumer lost its connection (%s: %s); reconnecting in %.1f s",
                            type(exc).__name__, exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _consume(self, sub: _Subscription) -> None:
        conn = self._connect()
        try:
            channel = conn.channel()
            self._declare(channel, sub.topic, sub.group)
            channel.basic_qos(prefetch_count=self.prefetch)
            pending: list[tuple[Any, Any, bytes]] = []
            first_at = 0.0
            for method, props, body in channel.consume(queue_name(sub.topic, sub.group), inactivity_timeout=self.batch_wait_s):
                if method is not None:
                    if not pending:
                        first_at = time.monotonic()
                    pending.append((method, props, body))
                full = len(pending) >= self.batch_max
                if pending and (full or method is None or time.monotonic() - first_at >= self.batch_wait_s):
                    self._handle_batch(channel, sub, pending)
                    pending = []
                if self._stop.is_set():
                    break
            channel.cancel()
        finally:
            if conn.is_open:
                conn.close()

    def _dead_letter(self, sub: _Subscription, reason: str, payload: Any, attempts: int) -> bool:
        """Keep a message in the dead-letter store; return False if the store is unavailable."""
        if self._db is None:
            return False
        try:
            dead_letter(self._db, f"bus.{sub.group}", sub.topic, reason, payload, attempts)
            sub.stats["dead_lettered"] += 1
            return True
        except Exception:
            log.exception("could not write a dead letter for %s", sub.topic)
            return False

    def _handle_batch(self, channel: Any, sub: _Subscription, batch: list[tuple[Any, Any, bytes]]) -> None:
        good: list[tuple[Any, Any, dict[str, Any]]] = []
        for method, props, body in batch:
            attempts = 1 + int((props.headers or {}).get("x-delivery-count", 0) or 0)
            try:
                message = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                payload = {"raw": body[:20000].decode("utf-8", "replace")}
                self._settle_bad(channel, sub, method, f"schema: body is not valid JSON ({exc})", payload, attempts)
                continue
            try:
                self.registry.validate(sub.topic, message)
            except SchemaError as exc:
                self._settle_bad(channel, sub, method, f"schema: {exc}", message, attempts)
                continue
            good.append((method, props, message))
        if not good:
            return
        merge = self.registry.current(sub.topic).merge_fields
        if merge and len(good) > 1 and all(m.get("v") == good[0][2].get("v") for _x, _p, m in good):
            merged = dict(good[0][2])
            for name in merge:
                merged[name] = [item for _m, _p, msg in good for item in msg[name]]
            try:
                sub.handler(merged)
            except Exception:
                log.warning("batch of %d on %s failed; handling messages one by one", len(good), sub.topic)
            else:
                for method, _p, _m in good:
                    channel.basic_ack(method.delivery_tag)
                sub.stats["handled"] += len(good)
                return
        for method, props, message in good:
            attempts = 1 + int((props.headers or {}).get("x-delivery-count", 0) or 0)
            try:
                sub.handler(message)
            except Exception as exc:
                reason = f"handler {sub.group}: {type(exc).__name__}: {exc}"
                if attempts >= self.max_attempts:
                    self._settle_bad(channel, sub, method, f"{reason} (gave up after {attempts} attempts)", message, attempts)
                else:
                    log.warning("%s attempt %d/%d failed: %s", sub.topic, attempts, self.max_attempts, reason)
                    sub.stats["retried"] += 1
                    channel.basic_nack(method.delivery_tag, requeue=True)
                continue
            channel.basic_ack(method.delivery_tag)
            sub.stats["handled"] += 1

    def _settle_bad(self, channel: Any, sub: _Subscription, method: Any, reason: str, payload: Any, attempts: int) -> None:
        if self._dead_letter(sub, reason, payload, attempts):
            channel.basic_ack(method.delivery_tag)
        else:
            # store down: reject to the broker's dead-letter queue, which keeps it durably
            channel.basic_nack(method.delivery_tag, requeue=False)

    # --- broker dead-letter queue ------------------------------------------------------------

    def _drain_loop(self) -> None:
        conn = self._connect()
        try:
            channel = conn.channel()
            self._declare(channel)
            channel.basic_qos(prefetch_count=50)
            for method, props, body in channel.consume(DLQ, inactivity_timeout=0.5):
                if self._stop.is_set():
                    break
                if method is None:
                    continue
                headers = props.headers or {}
                deaths = headers.get("x-death") or [{}]
                first = deaths[0] if isinstance(deaths, list) and deaths else {}
                queue = first.get("queue", headers.get("x-first-death-queue", "?"))
                why = first.get("reason", headers.get("x-first-death-reason", "?"))
                if isinstance(queue, bytes):
                    queue = queue.decode()
                if isinstance(why, bytes):
                    why = why.decode()
                topic = props.type or (first.get("routing-keys") or [""])[0]
                if isinstance(topic, bytes):
                    topic = topic.decode()
                count = int(headers.get("x-delivery-count", 0) or 0)
                reason = {
                    "delivery_limit": f"poison message: delivered more than {self.delivery_limit} times from {queue} "
                                      "without being acknowledged (a worker crashed or hung on it each time)",
                    "rejected": f"rejected by a consumer of {queue} while the dead-letter store was unavailable",
                    "expired": f"expired in {queue}",
                }.get(str(why), f"dead-lettered by the broker from {queue}: {why}")
                try:
                    payload: Any = orjson.loads(body)
                except orjson.JSONDecodeError:
                    payload = {"raw": body[:20000].decode("utf-8", "replace")}
                try:
                    dead_letter(self._db, "bus.broker", str(topic), reason, payload, max(count, 1))  # type: ignore[arg-type]
                except Exception:
                    log.exception("could not move a broker dead letter into the store")
                    channel.basic_nack(method.delivery_tag, requeue=True)
                    self._stop.wait(2.0)
                    continue
                channel.basic_ack(method.delivery_tag)
            channel.cancel()
        finally:
            if conn.is_open:
                conn.close()


__all__ = ["DLQ", "DLX", "EXCHANGE", "RabbitMQBus", "queue_name"]
