"""Time from an ``alert.changed`` message published to the provider request leaving (p50/p95).

Run: .venv/bin/python bench/notify_latency.py [--alerts 200] [--backend inprocess rabbitmq]
     [--database-url postgresql://...]

For each backend: a migrated database (a SQLite file in a temporary folder unless
``--database-url`` names one), one operator paged by SMS through an escalation policy with a
single immediate stage, the outbox and its relay thread as the web process runs them, and the
local Twilio server of the tests (tests/support/notify_server.py). Each alert row is written first,
then the clock starts, ``alert.changed`` is published, and the clock stops when the server
receives the Messages.json POST naming that alert (same process, one monotonic clock; loopback
adds well under a millisecond). Alerts go one at a time, each after the previous send finished
(its commit; back to back on SQLite the next alert's writes would queue behind it). The path measured: the alert consumer
(policy, on-call, quiet hours, the row, one commit), the relay's wake-up, claim and publish of
``notification.v1``, the sender's claim, the Twilio SDK building the request, and the gateway
(rate limit, breaker). Twilio's rate limit is lifted for the bench (1/s with a burst of 5 by
default, as a long-code number sends) so the figure is the pipeline's, not the limit's.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from core.settings import load_settings  # noqa: E402
from data.db import Database  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.models import Alert, Role  # noqa: E402
from gateway.core import Gateway  # noqa: E402
from notifications import directory  # noqa: E402
from notifications.component import NotificationsComponent  # noqa: E402
from notifications.outbox import Outbox  # noqa: E402
from security.users import create_user  # noqa: E402
from tests.support.notify_server import SENDGRID_KEY, SLACK_TOKEN, TWILIO_SID, TWILIO_TOKEN, NotifyServer  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def make_bus(backend: str, db: Database):
    if backend == "inprocess":
        from bus.inprocess import InProcessBus

        return InProcessBus(db), "notify"
    from bus.rabbitmq import RabbitMQBus

    return RabbitMQBus("amqp://guest:guest@127.0.0.1:5672/%2F", db, batch_wait_s=0.005), f"bench-{uuid.uuid4().hex[:8]}"


def drop_queues(group: str) -> None:
    import pika

    from bus.rabbitmq import queue_name

    conn = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F"))
    try:
        for name in (queue_name("alert.changed", group), queue_name("notification.v1", f"{group}-send")):
            conn.channel().queue_delete(name)
    finally:
        conn.close()


def run(backend: str, alerts: int, database_url: str | None, folder: Path) -> list[float]:
    url = database_url or f"sqlite:///{folder / f'{backend}.db'}"
    db = Database(url)
    upgrade_to_head(db)
    with NotifyServer() as server:
        settings = load_settings(
            instance_dir=folder, provider_base_urls=server.base_urls(), twilio_account_sid=TWILIO_SID,
            twilio_auth_token=TWILIO_TOKEN, twilio_from_number="+14155552345", sendgrid_api_key=SENDGRID_KEY,
            slack_bot_token=SLACK_TOKEN, provider_limits={"twilio": {"rate_per_s": 1e6, "burst": 1e6}})
        gateway = Gateway(settings, db=db)
        bus, group = make_bus(backend, db)
        name = f"bench-{uuid.uuid4().hex[:6]}"
        user = create_user(db, name, "correct-horse-battery-9", Role.operator).id
        directory.add_contact_method(db, "bench", user, "sms", "+15558675310", gateway=gateway)
        directory.save_policy(db, "bench", name, [{"targets": [{"type": "user", "id": user}]}], priority=-1)
        outbox = Outbox.from_settings(db, bus, gateway, settings)
        outbox.subscribe(group)
        component = NotificationsComponent(outbox)
        if hasattr(bus, "start"):
            bus.start()
        component.start()
        latencies: list[float] = []
        arrivals: dict[str, float] = {}
        arrived = threading.Event()

        def on_request(outcome: str, _path: str, body: bytes, at: float) -> None:
            if outcome == "twilio:ok":
                text = dict(parse_qsl(body.decode())).get("Body", "")
                arrivals[text.split("\n", 1)[0].removeprefix("[CRITICAL] ")] = at
                arrived.set()

        server.on_request = on_request
        try:
            for i in range(alerts + 10):  # the first 10 warm up connections and caches
                title = f"bench {uuid.uuid4().hex[:10]}"
                with db.session() as session:
                    alert = Alert(rule="bench", severity="critical", title=title, message="", dedup_key=title)
                    session.add(alert)
                    session.flush()
                    alert_id = alert.id
                message = {"v": 1, "alert_id": alert_id, "rule_id": None, "site_id": None, "asset_id": None,
                           "severity": "critical", "state": "open", "change": "raised", "title": title, "message": "",
                           "dedup_key": title, "suppressed_reason": None, "comment": "",
                           "ts": dt.datetime.now(dt.UTC).isoformat(), "actor": "bench"}
                arrived.clear()
                t0 = time.monotonic()
                bus.publish("alert.changed", message)
                deadline = t0 + 30
                while title not in arrivals and time.monotonic() < deadline:
                    arrived.wait(0.5)  # blocks: no polling loop competing with the pipeline's threads
                    arrived.clear()
                if title not in arrivals:
                    raise RuntimeError(f"alert {alert_id}: no provider request within 30 s")
                if i >= 10:
                    latencies.append((arrivals[title] - t0) * 1000.0)
                settle = time.monotonic() + 10  # let the send finish (its commit) before the next alert
                while outbox.stats["sent"] < i + 1 and time.monotonic() < settle:
                    time.sleep(0.002)
                time.sleep(0.02)
        finally:
            component.stop(5)
            bus.close()
            gateway.close()
            if backend == "rabbitmq":
                drop_queues(group)
            db.dispose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--backend", nargs="+", default=["inprocess", "rabbitmq"], choices=["inprocess", "rabbitmq"])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"alert.changed published -> Twilio Messages.json request received, {args.alerts} alerts one at a time, "
              f"database {'given' if args.database_url else 'SQLite file'}")
        for backend in args.backend:
            values = run(backend, args.alerts, args.database_url, Path(tmp))
            print(f"  {backend:<10} p50 {statistics.median(values):7.1f} ms   p95 {pct(values, 0.95):7.1f} ms   "
                  f"max {max(values):7.1f} ms   n={len(values)}")


if __name__ == "__main__":
    main()
