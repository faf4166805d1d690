"""The alert lifecycle: raise (deduplicated), suppress, acknowledge, resolve; one ``alert.changed``
message on the bus per state change.

States: ``open`` -> ``acknowledged`` -> ``resolved``; ``suppressed`` is an alert raised but hidden,
with its reason (``alerts.suppressed_reason``):

* **flapping**: its dedup key changed (raised or cleared) ``FlapDetector.max_changes`` times
  within the flap window; it stays raised (one alert, no new pages) and resolves only once its
  condition stayed clear for a whole window;
* **parent outage**: an asset's site lost its communications (an active site-scope ``comm_loss``
  alert) or a site's substation has an active alert (:mod:`alerts.topology`): the children's
  alerts are suppressed while the parent's is active and re-opened when it resolves;
* **maintenance window / silence** (``alert_silences``) covering the site, asset or rule.

Dedup: at most one active (not resolved) alert per ``dedup_key``; raising it again counts an
occurrence (and escalates the severity if higher). Every change is an event in the log
(``alert.raised``, ``alert.suppressed``, ``alert.unsuppressed``, ``alert.acknowledged``,
``alert.resolved``, ``alert.escalated``) in the same transaction, then published after commit.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from alerts.conditions import FlapDetector
from alerts.topology import Topology
from bus.eventlog import record_event
from data.db import Database
from data.models import Alert, AlertSilence, AlertState, utcnow

log = logging.getLogger(__name__)

ALERT_CHANGED_TOPIC = "alert.changed"
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
ACTIVE = (AlertState.open, AlertState.acknowledged, AlertState.suppressed)


class AlertActionError(ValueError):
    """The action does not apply (unknown alert, or not in a state allowing it); ``status`` is the HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Condition:
    """A rule's condition found true: what to raise."""

    rule: str  # the rule kind (alerts.rule), e.g. threshold, comm_loss
    rule_id: int | None
    site_id: str | None
    asset_id: str | None
    severity: str
    title: str
    message: str
    dedup_key: str
    parent: bool = False  # a parent condition (site communications lost): hides its children's alerts


def alert_json(alert: Alert) -> dict[str, Any]:
    """Return the alert as a JSON-ready dict."""
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": alert.id, "site_id": alert.site_id, "asset_id": alert.asset_id, "rule": alert.rule,
        "rule_id": alert.rule_id, "severity": alert.severity, "state": alert.state.value, "title": alert.title,
        "message": alert.message, "dedup_key": alert.dedup_key, "opened_at": iso(alert.opened_at),
        "acknowledged_at": iso(alert.acknowledged_at), "acknowledged_by": alert.acknowledged_by,
        "ack_comment": alert.ack_comment or "", "resolved_at": iso(alert.resolved_at),
        "resolved_by": alert.resolved_by, "resolve_comment": alert.resolve_comment or "",
        "suppressed_reason": alert.suppressed_reason, "occurrences": alert.occurrences,
        "updated_at": iso(alert.updated_at),
    }


def changed_message(alert: Alert, change: str, actor: str, ts: dt.datetime, comment: str = "") -> dict[str, Any]:
    """Return the ``alert.changed`` message (bus/registry/topics.py AlertChangedV1) of one change."""
    return {
        "v": 1, "alert_id": alert.id, "rule_id": alert.rule_id, "site_id": alert.site_id, "asset_id": alert.asset_id,
        "severity": alert.severity if alert.severity in SEVERITY_RANK else "warning", "state": alert.state.value,
        "change": change, "title": alert.title[:300], "message": (alert.message or "")[:4000],
        "dedup_key": alert.dedup_key[:200], "suppressed_reason": (alert.suppressed_reason or None) and
        alert.suppressed_reason[:500], "comment": comment[:500], "ts": ts.astimezone(dt.UTC).isoformat(),
        "actor": actor[:100],
    }


class AlertBook:
    """Raises, suppresses and resolves alerts in the store and publishes each change on the bus.

    ``bus`` may be None (nothing published; tests of the store alone). ``listeners`` are called
    with each published message after the bus (the live hub's alerts room).
    """

    def __init__(self, db: Database, bus: Any, *, flaps: FlapDetector | None = None,
                 topology: Topology | None = None) -> None:
        self.db = db
        self.bus = bus
        self.flaps = flaps or FlapDetector()
        self.topology = topology or Topology(db)
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self._lock = threading.RLock()
        # dedup keys kept raised although their condition cleared (flapping): key -> cleared at
        self.held: dict[str, dt.datetime] = {}
        self.published = 0

    # --- publishing ------------------------------------------------------------------------

    def _publish(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            if self.bus is not None:
                try:
                    self.bus.publish(ALERT_CHANGED_TOPIC, message)
                except Exception:  # the bus dead-lettered it for the failing consumer
                    log.exception("alert.changed for alert %s not delivered to every consumer", message["alert_id"])
            self.published += 1
            for listener in list(self.listeners):
                try:
                    listener(message)
                except Exception:
                    log.exception("alert listener failed")

    @staticmethod
    def _log(session: Session, alert: Alert, change: str, actor: str, ts: dt.datetime, comment: str = "",
             **extra: Any) -> dict[str, Any]:
        message = changed_message(alert, change, actor, ts, comment)
        record_event(session, actor, f"alert.{change}", "alert", str(alert.id),
                     {"rule": alert.rule, "rule_id": alert.rule_id, "severity": alert.severity,
                      "state": alert.state.value, "title": alert.title, "dedup_key": alert.dedup_key,
                      "suppressed_reason": alert.suppressed_reason, "comment": comment, **extra})
        return message

    # --- suppression -----------------------------------------------------------------------

    def suppression_reason(self, session: Session, *, site_id: str | None, asset_id: str | None,
                           rule_id: int | None, dedup_key: str, now: dt.datetime, parent: bool = False) -> str | None:
        """Return why an alert of this site/asset/rule would be suppressed now, or None."""
        if self.flaps.flapping(dedup_key, now):
            n = len([t for t in self.flaps.changes.get(dedup_key, []) if now - t < self.flaps.window])
            return f"flapping: {n} changes in {int(self.flaps.window.total_seconds() // 60)} min"
        silence = session.execute(
            select(AlertSilence).where(
                AlertSilence.starts_at <= now, AlertSilence.ends_at > now,
                or_(AlertSilence.site_id.is_(None), AlertSilence.site_id == site_id),
                or_(AlertSilence.asset_id.is_(None), AlertSilence.asset_id == asset_id),
                or_(AlertSilence.rule_id.is_(None), AlertSilence.rule_id == rule_id),
            ).order_by(AlertSilence.ends_at.desc()).limit(1)
        ).scalars().first()
        if silence is not None:
            what = "maintenance window" if silence.kind == "maintenance" else f"silenced by {silence.created_by}"
            until = silence.ends_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            return f"{what} until {until}" + (f": {silence.reason}" if silence.reason else "")
        if site_id is None:
            return None
        if asset_id is not None:
            comms = session.execute(select(Alert).where(
                Alert.site_id == site_id, Alert.asset_id.is_(None), Alert.rule == "comm_loss",
                Alert.state.in_(ACTIVE), Alert.dedup_key != dedup_key).limit(1)).scalars().first()
            if comms is not None:
                return f"parent: communications of site {site_id} lost (alert #{comms.id})"
        substation = self.topology.parent_of(site_id)
        if substation is not None:
            outage = session.execute(select(Alert).where(
                Alert.site_id == substation, Alert.state.in_((AlertState.open, AlertState.acknowledged)),
                Alert.dedup_key != dedup_key).order_by(Alert.id).limit(1)).scalars().first()
            if outage is not None:
                return f"parent: substation {substation}: {outage.title} (alert #{outage.id})"
        return None

    # --- raising and clearing --------------------------------------------------------------

    def raise_alert(self, cond: Condition, now: dt.datetime | None = None, *, still: bool = False) -> int:
        """Raise ``cond`` (or count an occurrence of its active alert); return the alert id.

        ``still``: a periodic re-evaluation found the condition still true: an active alert gets the
        new message (and a higher severity) but no occurrence is counted.
        """
        now = now or utcnow()
        with self._lock:
            messages: list[dict[str, Any]] = []
            with self.db.session() as session:
                alert = session.execute(select(Alert).where(
                    Alert.dedup_key == cond.dedup_key, Alert.state.in_(ACTIVE)).order_by(Alert.id.desc()).limit(1)
                ).scalars().first()
                if alert is not None:
                    held = self.held.pop(cond.dedup_key, None)
                    if held is not None:
                        self.flaps.record(cond.dedup_key, now)
                    if not still:
                        alert.occurrences += 1
                    alert.updated_at = now
                    alert.message = cond.message[:4000]
                    if SEVERITY_RANK.get(cond.severity, 1) > SEVERITY_RANK.get(alert.severity, 1):
                        alert.severity = cond.severity
                        messages.append(self._log(session, alert, "escalated", "system", now))
                    session.flush()
                    alert_id = alert.id
                else:
                    self.flaps.record(cond.dedup_key, now)
                    reason = self.suppression_reason(session, site_id=cond.site_id, asset_id=cond.asset_id,
                                                     rule_id=cond.rule_id, dedup_key=cond.dedup_key, now=now,
                                                     parent=cond.parent)
                    alert = Alert(site_id=cond.site_id, asset_id=cond.asset_id, rule=cond.rule[:64],
                                  rule_id=cond.rule_id, severity=cond.severity, title=cond.title[:300],
                                  message=cond.message[:4000], dedup_key=cond.dedup_key[:200], opened_at=now,
                                  updated_at=now, occurrences=1,
                                  state=AlertState.suppressed if reason else AlertState.open,
                                  suppressed_reason=reason[:500] if reason else None)
                    session.add(alert)
                    session.flush()
                    messages.append(self._log(session, alert, "suppressed" if reason else "raised", "system", now))
                    alert_id = alert.id
                    if cond.parent or self.topology.is_substation(cond.site_id):
                        messages += self._suppress_children(session, alert, now)
            self._publish(messages)
            return alert_id

    def clear(self, dedup_key: str, now: dt.datetime | None = None, reason: str = "condition cleared") -> int | None:
        """The condition of ``dedup_key`` is no longer true: resolve its active alert (return its id).

        A flapping key is held raised instead (resolved by :meth:`settle` once quiet for the flap window).
        """
        now = now or utcnow()
        with self._lock:
            with self.db.session() as session:
                alert = session.execute(select(Alert).where(
                    Alert.dedup_key == dedup_key, Alert.state.in_(ACTIVE)).order_by(Alert.id.desc()).limit(1)
                ).scalars().first()
                if alert is None:
                    return None
                self.flaps.record(dedup_key, now)
                if self.flaps.flapping(dedup_key, now):
                    self.held[dedup_key] = now
                    messages = []
                    if alert.state == AlertState.open:
                        n = len([t for t in self.flaps.changes.get(dedup_key, []) if now - t < self.flaps.window])
                        alert.state = AlertState.suppressed
                        alert.suppressed_reason = f"flapping: {n} changes in " \
                                                  f"{int(self.flaps.window.total_seconds() // 60)} min"
                        alert.updated_at = now
                        messages.append(self._log(session, alert, "suppressed", "system", now))
                    alert_id = alert.id
                else:
                    messages = self._resolve(session, alert, "system", now, reason)
                    alert_id = alert.id
            self._publish(messages)
            return alert_id

    def settle(self, now: dt.datetime | None = None) -> dict[str, int]:
        """Housekeeping (every minute): resolve held flapping alerts quiet for a whole flap window,
        re-check suppressed alerts (a silence ended, a parent recovered) and hide the alerts newly
        behind a parent outage. Return counts."""
        now = now or utcnow()
        resolved = unsuppressed = 0
        with self._lock:
            messages: list[dict[str, Any]] = []
            with self.db.session() as session:
                for key, cleared_at in list(self.held.items()):
                    if now - cleared_at >= self.flaps.window:
                        alert = session.execute(select(Alert).where(
                            Alert.dedup_key == key, Alert.state.in_(ACTIVE))).scalars().first()
                        self.held.pop(key, None)
                        if alert is not None:
                            messages += self._resolve(session, alert, "system", now,
                                                      "condition clear for the whole flap window")
                            resolved += 1
                for alert in session.execute(select(Alert).where(Alert.state == AlertState.suppressed)).scalars():
                    if alert.dedup_key in self.held:
                        continue
                    reason = self.suppression_reason(session, site_id=alert.site_id, asset_id=alert.asset_id,
                                                     rule_id=alert.rule_id, dedup_key=alert.dedup_key, now=now)
                    if reason is None:
                        alert.state, alert.suppressed_reason, alert.updated_at = AlertState.open, None, now
                        messages.append(self._log(session, alert, "unsuppressed", "system", now))
                        unsuppressed += 1
                    elif reason != alert.suppressed_reason:
                        alert.suppressed_reason = reason[:500]
            self._publish(messages)
        return {"resolved": resolved, "unsuppressed": unsuppressed}

    def _suppress_children(self, session: Session, parent: Alert, now: dt.datetime) -> list[dict[str, Any]]:
        """Hide the open alerts behind ``parent`` (its site's assets, or the sites behind a substation)."""
        if parent.state == AlertState.suppressed or parent.site_id is None:
            return []
        sites = self.topology.children_of(parent.site_id)
        child_filter = [and_(Alert.site_id == parent.site_id, Alert.asset_id.is_not(None))]
        if sites:
            child_filter.append(Alert.site_id.in_(sorted(sites)))
        out = []
        for child in session.execute(select(Alert).where(
                or_(*child_filter), Alert.state == AlertState.open, Alert.id != parent.id)).scalars():
            if parent.site_id == child.site_id and parent.rule != "comm_loss":
                continue  # only a communications loss hides the site's own asset alerts
            child.state, child.updated_at = AlertState.suppressed, now
            child.suppressed_reason = (f"parent: communications of site {parent.site_id} lost (alert #{parent.id})"
                                       if child.site_id == parent.site_id else
                                       f"parent: substation {parent.site_id}: {parent.title} (alert #{parent.id})")
            out.append(self._log(session, child, "suppressed", "system", now))
        return out

    def _resolve(self, session: Session, alert: Alert, actor: str, now: dt.datetime, comment: str
                 ) -> list[dict[str, Any]]:
        was_parent = alert.state != AlertState.suppressed and (
            (alert.rule == "comm_loss" and alert.asset_id is None) or self.topology.is_substation(alert.site_id))
        alert.state, alert.resolved_at, alert.resolved_by = AlertState.resolved, now, actor[:100]
        alert.resolve_comment, alert.updated_at = comment[:500], now
        session.flush()
        messages = [self._log(session, alert, "resolved", actor, now, comment)]
        if was_parent:
            # its children come back now unless something else still hides them
            for child in session.execute(select(Alert).where(
                    Alert.state == AlertState.suppressed,
                    Alert.suppressed_reason.like(f"parent:%(alert #{alert.id})"))).scalars():
                reason = self.suppression_reason(session, site_id=child.site_id, asset_id=child.asset_id,
                                                 rule_id=child.rule_id, dedup_key=child.dedup_key, now=now)
                child.state = AlertState.suppressed if reason else AlertState.open
                child.suppressed_reason, child.updated_at = reason, now
                if reason is None:
                    messages.append(self._log(session, child, "unsuppressed", "system", now))
        return messages

    # --- operator actions ------------------------------------------------------------------

    def acknowledge(self, alert_id: int, actor: str, comment: str = "", now: dt.datetime | None = None
                    ) -> dict[str, Any]:
        """Acknowledge an open (or suppressed) alert; return it. Raises AlertActionError (404, 409)."""
        now = now or utcnow()
        with self._lock:
            with self.db.session() as session:
                alert = session.get(Alert, alert_id, with_for_update=True)
                if alert is None:
                    raise AlertActionError(404, f"no alert with id {alert_id}")
                if alert.state not in (AlertState.open, AlertState.suppressed):
                    raise AlertActionError(409, f"alert {alert_id} is {alert.state.value}, not open")
                alert.state, alert.acknowledged_at, alert.acknowledged_by = AlertState.acknowledged, now, actor[:100]
                alert.ack_comment, alert.updated_at = comment[:500], now
                session.flush()
                messages = [self._log(session, alert, "acknowledged", actor, now, comment, note=comment[:500])]
                out = alert_json(alert)
            self._publish(messages)
            return out

    def resolve(self, alert_id: int, actor: str, comment: str = "", now: dt.datetime | None = None
                ) -> dict[str, Any]:
        """Resolve an active alert by hand; return it. Raises AlertActionError (404, 409)."""
        now = now or utcnow()
        with self._lock:
            with self.db.session() as session:
                alert = session.get(Alert, alert_id, with_for_update=True)
                if alert is None:
                    raise AlertActionError(404, f"no alert with id {alert_id}")
                if alert.state == AlertState.resolved:
                    raise AlertActionError(409, f"alert {alert_id} is already resolved")
                self.held.pop(alert.dedup_key, None)
                messages = self._resolve(session, alert, actor, now, comment)
                out = alert_json(alert)
            self._publish(messages)
            return out


def book_of(services: Any) -> AlertBook:
    """Return the process's AlertBook (built by the composition root; a test or CLI process gets one
    on its database and bus the first time it is asked)."""
    book = getattr(services, "alert_book", None)
    if book is None:
        book = AlertBook(services.db, services.bus)
        services.alert_book = book
    return book
