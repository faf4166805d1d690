"""Turns operational events into alerts, once each.

* ``anomaly.detected`` (forecasting.anomaly) -> an underperformance alert per episode.
* ``integration.failed`` (gateway) -> one open alert per provider; ``integration.recovered``
  resolves it.

Events are read after a watermark (the highest event id already handled, kept in memory and
re-derived from the alerts' ``dedup_key`` after a restart is not needed: dedup keys make raising
idempotent, so re-reading events only costs a query).
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from data.db import Database
from data.models import Alert, AlertState, Event, utcnow

log = logging.getLogger(__name__)

KINDS = ("anomaly.detected", "integration.failed", "integration.recovered")


def _anomaly_alert(event: Event) -> Alert:
    p = event.payload or {}
    what = f"{event.entity_type} {event.entity_id}"
    shortfall = float(p.get("mean_shortfall_pct") or 0.0)
    return Alert(
        site_id=p.get("site_id"), asset_id=event.entity_id if event.entity_type == "asset" else None,
        rule="underperformance", severity=str(p.get("severity") or "warning"),
        title=f"{what} below expected by {shortfall:.0f} % of capacity",
        message=f"{p.get('intervals', '?')} intervals from {p.get('start')} to {p.get('end')}; "
                f"energy lost {float(p.get('energy_lost') or 0.0):,.0f}; expected from {p.get('basis', 'model')}",
        dedup_key=f"anomaly:{event.entity_type}:{event.entity_id}:{p.get('start')}",
    )


def _integration_alert(event: Event) -> Alert:
    p = event.payload or {}
    message = str(p.get("message") or p.get("error") or "provider call failed")
    return Alert(site_id=None, rule="integration", severity="warning",
                 title=f"{event.entity_id}: integration failing", message=message[:2000],
                 dedup_key=f"integration:{event.entity_id}")


class AlertRaiser:
    """Reads new events and raises or resolves alerts; call :meth:`run_once` periodically."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.watermark = 0

    def run_once(self, limit: int = 5000) -> dict[str, int]:
        """Handle events after the watermark; return counts of alerts raised and resolved."""
        raised = resolved = 0
        with self.db.session() as session:
            events = session.execute(
                select(Event).where(Event.id > self.watermark, Event.kind.in_(KINDS)).order_by(Event.id).limit(limit)
            ).scalars().all()
            for event in events:
                self.watermark = max(self.watermark, event.id)
                if event.kind == "integration.recovered":
                    resolved += self._resolve(session, f"integration:{event.entity_id}")
                    continue
                alert = _anomaly_alert(event) if event.kind == "anomaly.detected" else _integration_alert(event)
                open_same = session.execute(
                    select(Alert.id).where(Alert.dedup_key == alert.dedup_key, Alert.state != AlertState.resolved)
                ).first()
                already = event.kind == "anomaly.detected" and session.execute(
                    select(Alert.id).where(Alert.dedup_key == alert.dedup_key)).first()
                if open_same or already:
                    continue
                session.add(alert)
                session.flush()
                session.add(Event(actor="system", kind="alert.raised", entity_type="alert", entity_id=str(alert.id),
                                  payload={"rule": alert.rule, "severity": alert.severity, "title": alert.title,
                                           "from_event": event.id}))
                raised += 1
        if raised or resolved:
            log.info("alerts: %d raised, %d resolved", raised, resolved)
        return {"raised": raised, "resolved": resolved}

    @staticmethod
    def _resolve(session: Any, dedup_key: str) -> int:
        count = 0
        for alert in session.execute(
            select(Alert).where(Alert.dedup_key == dedup_key, Alert.state != AlertState.resolved)
        ).scalars():
            alert.state, alert.resolved_at = AlertState.resolved, utcnow()
            session.add(Event(actor="system", kind="alert.resolved", entity_type="alert", entity_id=str(alert.id),
                              payload={"reason": "provider recovered"}))
            count += 1
        return count
