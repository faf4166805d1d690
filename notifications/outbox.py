"""The notification outbox: alert changes in, one delivery per person and channel out, nothing lost.

Flow (every step is a database transaction; the bus carries only "row N is due"):

1. :meth:`Outbox.on_alert_changed` (bus topic ``alert.changed``). ``open``: the first enabled
   escalation policy by priority that matches the severity and site starts; its due stages run
   (:meth:`run_due`), each writing one ``notifications`` row per paged person on their first
   contact method (``pending``; during the person's quiet hours a row below their bypass
   severity waits for the window's end). ``acknowledged`` / ``resolved``: the escalation stops,
   open notifications not yet sent are cancelled, and everyone already reached is told, once.
2. :meth:`relay` publishes each due ``pending`` row as ``notification.v1`` after marking it
   ``queued``; rows ``queued`` or ``sending`` for longer than ``lease_s`` (a lost message, a
   sender that died) are published again.
3. :meth:`deliver` (``notification.v1``) claims the row (``queued`` -> ``sending``, one winner:
   a message delivered twice sends once), calls the channel (:mod:`notifications.channels`,
   through the gateway) and records the attempt. Sent: ``sent`` with the provider's id. A
   retryable failure (provider down, throttled, timed out): back to ``pending`` after
   ``notify_backoff_initial_s * 2^(attempt-1)`` (at most ``notify_backoff_max_s``, at least the
   provider's Retry-After). A permanent failure, or ``notify_max_attempts`` used up: ``failed``
   with the reason, a dead letter, and a new row for the person's next contact method.

Exactly once: a row is sent by whoever moves it from ``queued`` to ``sending``. Only a process
dying between the provider's answer and the commit that follows can send a row twice (the
lease republishes it); none of these providers takes an idempotency key for sends.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from bus.deadletter import dead_letter
from bus.eventlog import record_event
from bus.registry import validate
from data.db import Database
from data.models import (
    AlertEscalation,
    ContactMethod,
    EscalationPolicy,
    Notification,
    NotificationAttempt,
    NotificationPreference,
    OnCallOverride,
    OnCallSchedule,
    User,
    utcnow,
)
from gateway.errors import RETRYABLE, BreakerOpen, ProviderError, RateLimited
from notifications import oncall
from notifications.channels import PROVIDER_OF, Channel, Outgoing

log = logging.getLogger(__name__)

ALERT_TOPIC = "alert.changed"
NOTIFY_TOPIC = "notification.v1"
TERMINAL = ("sent", "delivered", "failed", "cancelled")


def _changed(session: Session, statement: Any) -> int:
    """Run an UPDATE and return the rows it changed (the claim of a row: 1 = ours, 0 = someone else's)."""
    return int(cast(CursorResult, session.execute(statement)).rowcount or 0)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class Outbox:
    """Escalation, relay and delivery of notifications (see the module docstring).

    ``channels``: kind -> channel (:func:`notifications.channels.build_channels`); ``clock``
    returns the current UTC time (tests move it).
    """

    def __init__(self, db: Database, bus: Any, channels: dict[str, Channel], *, max_attempts: int = 8,
                 backoff_initial_s: float = 5.0, backoff_max_s: float = 600.0, lease_s: float = 120.0,
                 public_base_url: str = "", clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.bus = bus
        self.channels = channels
        self.max_attempts = max_attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.lease_s = lease_s
        self.public_base_url = public_base_url.rstrip("/")
        self.clock = clock
        self.wake = threading.Event()  # set when rows became due: the relay thread runs at once
        self.stats = {"relayed": 0, "sent": 0, "retried": 0, "failed": 0, "cancelled": 0, "duplicates": 0}
        self.on_send: Callable[[int], None] | None = None  # bench hook: called just before a provider call

    @classmethod
    def from_settings(cls, db: Database, bus: Any, gateway: Any, settings: Any) -> Outbox:
        """Return the outbox of a process, its channels on ``gateway``."""
        from notifications.channels import build_channels

        return cls(db, bus, build_channels(gateway, settings.public_base_url),
                   max_attempts=settings.notify_max_attempts, backoff_initial_s=settings.notify_backoff_initial_s,
                   backoff_max_s=settings.notify_backoff_max_s, public_base_url=settings.public_base_url)

    def subscribe(self, group: str = "notify") -> None:
        """Subscribe the alert consumer (``group``) and the sender (``group``-send) on the bus."""
        self.bus.subscribe(ALERT_TOPIC, self.on_alert_changed, group)
        self.bus.subscribe(NOTIFY_TOPIC, self.on_notification, f"{group}-send")

    # --- 1. alert changes -------------------------------------------------------------------

    def on_alert_changed(self, message: dict[str, Any]) -> None:
        """Start, or stop, the escalation of the alert in ``message`` (an ``alert.changed`` v1)."""
        change = validate(ALERT_TOPIC, message).model_dump()
        now = self.clock()
        with self.db.session() as session:
            if change["state"] == "open":
                self._start(session, change, now)
            else:
                self._stop(session, change, now)
        self.wake.set()  # the relay thread sends what was written (and runs later stages when due)

    def _start(self, session: Session, change: dict[str, Any], now: dt.datetime) -> None:
        alert_id = change["alert_id"]
        existing = session.get(AlertEscalation, alert_id)
        if existing is not None:
            if not (change.get("change") == "unsuppressed" and existing.state == "stopped"):
                return  # the same change delivered again, or a severity raised while it runs
            session.delete(existing)  # hidden while suppressed, open again now: page from the first stage
            session.flush()
        policies = session.execute(
            select(EscalationPolicy).where(EscalationPolicy.enabled.is_(True))
            .order_by(EscalationPolicy.priority, EscalationPolicy.id)).scalars().all()
        policy = next((p for p in policies
                       if oncall.policy_matches(p.min_severity, p.site_ids or [], change["severity"], change["site_id"])),
                      None)
        if policy is None:
            session.add(AlertEscalation(alert_id=alert_id, policy_id=None, state="no_policy", updated_at=now,
                                        alert_snapshot=change))
            log.info("alert %s (%s): no escalation policy matches", alert_id, change["severity"])
            return
        stages = oncall.parse_stages(policy.stages)
        esc = AlertEscalation(alert_id=alert_id, policy_id=policy.id, stage=0, round=0, state="active",
                              next_stage_at=now + dt.timedelta(minutes=stages[0].delay_min), updated_at=now,
                              alert_snapshot=change)
        session.add(esc)
        record_event(session, "system", "escalation.started", "alert", str(alert_id),
                     {"policy": policy.name, "stages": len(stages)})
        if stages[0].delay_min == 0:  # the first stage now, in the same transaction
            session.flush()
            self._run_stage(session, esc, now)

    def _stop(self, session: Session, change: dict[str, Any], now: dt.datetime) -> None:
        alert_id, state = change["alert_id"], change["state"]
        esc = session.get(AlertEscalation, alert_id)
        if esc is not None and esc.state == "active":
            esc.state, esc.next_stage_at, esc.updated_at = "stopped", None, now
            record_event(session, change["actor"], "escalation.stopped", "alert", str(alert_id),
                         {"state": state, "stage": esc.stage, "round": esc.round})
        cancelled = _changed(session,
            update(Notification).where(Notification.alert_id == alert_id, Notification.kind == "open",
                                       Notification.status.in_(("pending", "queued")))
            .values(status="cancelled", error=f"alert {state} by {change['actor']} before it was sent")
        )
        self.stats["cancelled"] += cancelled or 0
        reached = session.execute(
            select(Notification.user_id).where(Notification.alert_id == alert_id, Notification.kind == "open",
                                               Notification.status.in_(("sent", "delivered")))
            .distinct()).scalars().all()
        verb = state if state in ("acknowledged", "suppressed") else "resolved"
        for user_id in reached:
            if user_id is None:
                continue
            methods = [m for m in self._methods(session, user_id) if m.kind != "voice"]
            if not methods:
                continue
            self._add(session, change, user_id, methods[0], kind=state, stage=0, now=now,
                      dedup=f"a{alert_id}:{state}:{change['ts']}:u{user_id}",
                      subject=f"{verb.capitalize()}: {change['title']}",
                      body=(f"Suppressed at {change['ts']}: {change.get('suppressed_reason') or 'no reason given'}."
                            if state == "suppressed" else f"{verb.capitalize()} by {change['actor']} at {change['ts']}."))

    # --- escalation stages ------------------------------------------------------------------

    def run_due(self) -> int:
        """Run every escalation stage that is due; return the notifications written."""
        now = self.clock()
        written = 0
        with self.db.session() as session:
            due = session.execute(
                select(AlertEscalation).where(AlertEscalation.state == "active",
                                              AlertEscalation.next_stage_at <= now)
                .order_by(AlertEscalation.next_stage_at).limit(500)).scalars().all()
            for esc in due:
                written += self._run_stage(session, esc, now)
        if written:
            self.wake.set()
        return written

    def _run_stage(self, session: Session, esc: AlertEscalation, now: dt.datetime) -> int:
        policy = session.get(EscalationPolicy, esc.policy_id) if esc.policy_id is not None else None
        if policy is None:
            esc.state, esc.next_stage_at = "exhausted", None
            return 0
        stages = oncall.parse_stages(policy.stages)
        index, round_ = esc.stage, esc.round
        if index >= len(stages):
            index, round_ = 0, round_ + 1
        if round_ > policy.repeat:
            esc.state, esc.next_stage_at = "exhausted", None
            return 0
        # claim this stage: another process running the same tick updates nothing and skips
        scheduled = esc.next_stage_at or now
        following = index + 1
        next_round = round_
        if following >= len(stages):
            following, next_round = 0, round_ + 1
        more = next_round <= policy.repeat
        claimed = _changed(session,
            update(AlertEscalation).where(AlertEscalation.alert_id == esc.alert_id, AlertEscalation.stage == esc.stage,
                                          AlertEscalation.round == esc.round, AlertEscalation.state == "active")
            .values(stage=following, round=next_round, updated_at=now,
                    state="active" if more else "exhausted",
                    next_stage_at=scheduled + dt.timedelta(minutes=stages[following].delay_min) if more else None)
        )
        if claimed != 1:
            return 0
        session.expire(esc)
        change = dict(esc.alert_snapshot or {})
        users = self._targets(session, stages[index], now)
        written = 0
        for user_id in users:
            methods = self._methods(session, user_id)
            # the change that started this escalation names the episode (a re-opened alert pages again)
            dedup = f"a{change['alert_id']}:open:{change.get('ts', '')}:r{round_}:s{index}:u{user_id}"
            if not methods:
                written += self._add_unreachable(session, change, user_id, index, now, dedup)
                continue
            written += self._add(session, change, user_id, methods[0], kind="open", stage=index, now=now, dedup=dedup)
        record_event(session, "system", "escalation.stage", "alert", str(change["alert_id"]),
                     {"stage": index + 1, "round": round_ + 1, "users": users})
        return written

    def _targets(self, session: Session, stage: oncall.Stage, now: dt.datetime) -> list[int]:
        users: list[int] = []
        for target in stage.targets:
            user_id: int | None = target.id
            if target.type == "schedule":
                schedule = session.get(OnCallSchedule, target.id)
                if schedule is None:
                    log.warning("escalation names schedule %s, which does not exist", target.id)
                    continue
                overrides = session.execute(
                    select(OnCallOverride.user_id, OnCallOverride.starts_at, OnCallOverride.ends_at)
                    .where(OnCallOverride.schedule_id == schedule.id).order_by(OnCallOverride.id)).all()
                user_id = oncall.on_call([int(m) for m in schedule.members or []], schedule.rotation_start,
                                         schedule.shift_hours, now, [(u, s, e) for u, s, e in overrides])
            if user_id is None or user_id in users:
                continue
            user = session.get(User, user_id)
            if user is not None and user.is_active:
                users.append(user_id)
        return users

    @staticmethod
    def _methods(session: Session, user_id: int) -> list[ContactMethod]:
        return list(session.execute(
            select(ContactMethod).where(ContactMethod.user_id == user_id, ContactMethod.enabled.is_(True))
            .order_by(ContactMethod.priority, ContactMethod.id)).scalars())

    def _link(self, alert_id: int | None) -> str:
        return f"{self.public_base_url}/alerts?alert={alert_id}" if self.public_base_url and alert_id else ""

    def _add(self, session: Session, change: dict[str, Any], user_id: int, method: ContactMethod, *, kind: str,
             stage: int, now: dt.datetime, dedup: str, subject: str | None = None, body: str | None = None,
             fallback_of: int | None = None) -> int:
        if session.execute(select(Notification.id).where(Notification.dedup_key == dedup)).first():
            return 0
        severity = change.get("severity", "warning")
        due = now
        deferred = None
        pref = session.get(NotificationPreference, user_id)
        if pref is not None and kind == "open" and \
                oncall.severity_rank(severity) < oncall.severity_rank(pref.quiet_bypass_severity):
            until = oncall.quiet_until(pref.timezone, pref.quiet_start_min, pref.quiet_end_min, now)
            if until is not None:
                due, deferred = until, f"quiet hours until {_iso(until)}"
        where = " · ".join(p for p in (change.get("site_id"), change.get("asset_id")) if p)
        session.add(Notification(
            alert_id=change["alert_id"], channel=method.kind, recipient=method.address, status="pending",
            user_id=user_id, contact_method_id=method.id, kind=kind, stage=stage, dedup_key=dedup,
            subject=(subject or f"[{severity.upper()}] {change['title']}")[:300],
            body=body if body is not None else "\n".join(p for p in (change.get("message", ""), where) if p),
            severity=severity, attempts=0, next_attempt_at=due, delivery_status=deferred, created_at=now,
            fallback_of_id=fallback_of,
        ))
        return 1

    def _add_unreachable(self, session: Session, change: dict[str, Any], user_id: int, stage: int,
                         now: dt.datetime, dedup: str) -> int:
        if session.execute(select(Notification.id).where(Notification.dedup_key == dedup)).first():
            return 0
        user = session.get(User, user_id)
        reason = f"user {user.username if user else user_id} has no enabled contact method"
        session.add(Notification(alert_id=change["alert_id"], channel="none", recipient=user.username if user else "",
                                 status="failed", user_id=user_id, kind="open", stage=stage, dedup_key=dedup,
                                 subject=change["title"][:300], severity=change.get("severity", "warning"),
                                 error=reason, created_at=now))
        log.warning("alert %s: %s", change["alert_id"], reason)
        self.stats["failed"] += 1
        return 1

    # --- 2. relay ---------------------------------------------------------------------------

    def relay(self, limit: int = 500) -> int:
        """Publish every due row as ``notification.v1``; return how many were published."""
        now = self.clock()
        stale = now - dt.timedelta(seconds=self.lease_s)
        with self.db.session() as session:
            rows = session.execute(
                select(Notification.id, Notification.status, Notification.attempts).where(
                    ((Notification.status == "pending") & (Notification.next_attempt_at <= now))
                    | (Notification.status.in_(("queued", "sending")) & (Notification.claimed_at < stale)))
                .order_by(Notification.next_attempt_at).limit(limit)).all()
        published = 0
        for notification_id, status, attempts in rows:
            with self.db.session() as session:
                claimed = _changed(session,
                    update(Notification).where(Notification.id == notification_id, Notification.status == status)
                    .values(status="queued", claimed_at=now))
            if claimed != 1:
                continue
            message = {"v": 1, "notification_id": notification_id, "attempt": attempts + 1, "published_at": _iso(now)}
            try:
                self.bus.publish(NOTIFY_TOPIC, message)
            except Exception as exc:  # the row stays queued: the lease publishes it again
                log.warning("could not publish notification %s (%s: %s)", notification_id, type(exc).__name__, exc)
                continue
            published += 1
        self.stats["relayed"] += published
        return published

    # --- 3. delivery ------------------------------------------------------------------------

    def on_notification(self, message: dict[str, Any]) -> None:
        """Deliver the row a ``notification.v1`` message names."""
        self.deliver(validate(NOTIFY_TOPIC, message).model_dump()["notification_id"])

    def deliver(self, notification_id: int) -> str:
        """Send row ``notification_id`` if this call claims it; return what happened.

        Returns ``skipped`` (someone else has it, or it is done), ``cancelled``, ``sent``,
        ``retry`` or ``failed``.
        """
        now = self.clock()
        with self.db.session() as session:
            claimed = _changed(session,
                update(Notification).where(Notification.id == notification_id, Notification.status == "queued")
                .values(status="sending", claimed_at=now, attempts=Notification.attempts + 1))
            if claimed != 1:
                self.stats["duplicates"] += 1
                return "skipped"
            row = session.get(Notification, notification_id)
            assert row is not None
            if row.kind == "open" and row.alert_id is not None:
                esc = session.get(AlertEscalation, row.alert_id)
                if esc is not None and esc.state == "stopped":
                    row.status, row.error = "cancelled", "alert acknowledged or resolved before it was sent"
                    self.stats["cancelled"] += 1
                    return "cancelled"
            outgoing = Outgoing(notification_id=row.id, alert_id=row.alert_id, kind=row.kind, severity=row.severity,
                                subject=row.subject, body=row.body, address=row.recipient, link=self._link(row.alert_id))
            attempt, kind = row.attempts, row.channel
        channel = self.channels.get(kind)
        provider = PROVIDER_OF.get(kind, kind)
        started = self.clock()
        t0 = time.perf_counter()
        error: BaseException | None = None
        sent = None
        if self.on_send is not None:
            self.on_send(notification_id)
        try:
            if channel is None:
                raise ValueError(f"no channel for kind {kind!r}")
            sent = channel.send(outgoing)
        except Exception as exc:  # every failure is recorded on the row, none is lost
            error = exc
        latency_ms = (time.perf_counter() - t0) * 1000.0
        if sent is not None:
            with self.db.session() as session:
                row = session.get(Notification, notification_id)
                assert row is not None
                row.status, row.sent_at, row.provider_message_id, row.error = "sent", self.clock(), \
                    sent.provider_message_id, None
                session.add(NotificationAttempt(notification_id=notification_id, attempt=attempt, provider=provider,
                                                started_at=started, latency_ms=latency_ms, outcome="sent",
                                                status_code=sent.status_code,
                                                provider_message_id=sent.provider_message_id))
            self.stats["sent"] += 1
            return "sent"
        assert error is not None
        return self._failed_attempt(notification_id, attempt, provider, started, latency_ms, error)

    def _backoff(self, attempt: int, error: BaseException) -> float:
        delay = min(self.backoff_initial_s * 2 ** max(attempt - 1, 0), self.backoff_max_s)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    def _failed_attempt(self, notification_id: int, attempt: int, provider: str, started: dt.datetime,
                        latency_ms: float, error: BaseException) -> str:
        text = str(error) if isinstance(error, ProviderError) else f"{type(error).__name__}: {error}"
        status_code = getattr(error, "status_code", None)
        # provider down, throttled, timed out, breaker open (and errors we cannot classify): retry later
        transient = isinstance(error, RETRYABLE) or isinstance(error, BreakerOpen) or not isinstance(error, ProviderError)
        give_up = not transient or attempt >= self.max_attempts
        with self.db.session() as session:
            row = session.get(Notification, notification_id)
            assert row is not None
            session.add(NotificationAttempt(notification_id=notification_id, attempt=attempt, provider=provider,
                                            started_at=started, latency_ms=latency_ms,
                                            outcome="failed" if give_up else "retry", status_code=status_code,
                                            error=text[:4000]))
            if not give_up:
                delay = self._backoff(attempt, error)
                row.status, row.error = "pending", text[:4000]
                row.next_attempt_at = self.clock() + dt.timedelta(seconds=delay)
                self.stats["retried"] += 1
                log.info("notification %s attempt %d failed, retry in %.1f s: %s", notification_id, attempt, delay, text)
                return "retry"
            reason = text if not transient else f"gave up after {attempt} attempts: {text}"
            self._fail(session, row, reason)
        self._dead_letter(notification_id, reason)
        self.wake.set()
        return "failed"

    def _fail(self, session: Session, row: Notification, reason: str) -> Notification | None:
        """Mark ``row`` failed for good and write the person's next contact method; return that row."""
        row.status, row.error = "failed", reason[:4000]
        self.stats["failed"] += 1
        if row.user_id is None:
            return None
        methods = self._methods(session, row.user_id)
        ids = [m.id for m in methods]
        position = ids.index(row.contact_method_id) if row.contact_method_id in ids else -1
        tried = {row.contact_method_id}
        parent = row
        while parent.fallback_of_id is not None:  # never go back to a method this chain already tried
            previous = session.get(Notification, parent.fallback_of_id)
            if previous is None:
                break
            tried.add(previous.contact_method_id)
            parent = previous
        following = [m for m in methods[position + 1:] if m.id not in tried]
        if not following:
            log.warning("notification %s failed and user %s has no further contact method: %s", row.id, row.user_id,
                        reason)
            return None
        method = following[0]
        change = {"alert_id": row.alert_id, "severity": row.severity, "title": row.subject}
        self._add(session, change, row.user_id, method, kind=row.kind, stage=row.stage, now=self.clock(),
                  dedup=f"{row.dedup_key}:fb{method.id}", subject=row.subject, body=row.body, fallback_of=row.id)
        session.flush()
        return session.execute(select(Notification).where(Notification.dedup_key == f"{row.dedup_key}:fb{method.id}")
                               ).scalar_one_or_none()

    def fail_after_receipt(self, session: Session, row: Notification, reason: str) -> None:
        """A provider reported a sent row undeliverable (bounce, undelivered): fail it and fall back."""
        if row.status == "failed":
            return
        self._fail(session, row, reason)
        self.wake.set()

    def _dead_letter(self, notification_id: int, reason: str) -> None:
        with self.db.session() as session:
            row = session.get(Notification, notification_id)
            payload = {"notification_id": notification_id, "alert_id": row.alert_id if row else None,
                       "channel": row.channel if row else None, "recipient": row.recipient if row else None,
                       "attempts": row.attempts if row else None}
        try:
            dead_letter(self.db, "notifications", NOTIFY_TOPIC, reason, payload, attempts=int(payload["attempts"] or 1))
        except Exception:
            log.exception("could not dead-letter notification %s", notification_id)

    # --- the periodic pass ------------------------------------------------------------------

    def tick(self) -> dict[str, int]:
        """Run due escalation stages, then relay due rows; return the counts."""
        written = self.run_due()
        relayed = self.relay()
        return {"written": written, "relayed": relayed}

    def pending_count(self) -> int:
        """Return the rows not yet in a terminal state."""
        from sqlalchemy import func

        with self.db.session() as session:
            return int(session.execute(select(func.count()).select_from(Notification)
                                       .where(Notification.status.not_in(TERMINAL))).scalar_one())
