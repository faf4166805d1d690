"""Operator actions on alerts: acknowledge and resolve, each an audit event in the same transaction."""
from __future__ import annotations

from typing import Any

from data.db import Database
from data.models import Alert, AlertState, utcnow
from security import audit


class AlertActionError(ValueError):
    """The action does not apply (unknown alert, or already in that state); ``status`` is the HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def alert_json(alert: Alert) -> dict[str, Any]:
    """Return the alert as a JSON-ready dict."""
    return {
        "id": alert.id, "site_id": alert.site_id, "asset_id": alert.asset_id, "rule": alert.rule,
        "severity": alert.severity, "state": alert.state.value, "title": alert.title, "message": alert.message,
        "opened_at": alert.opened_at.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


def acknowledge(db: Database, alert_id: int, actor: str, note: str = "") -> dict[str, Any]:
    """Acknowledge an open alert; return it. Raises AlertActionError (404 unknown, 409 not open)."""
    with db.session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise AlertActionError(404, f"no alert with id {alert_id}")
        if alert.state != AlertState.open:
            raise AlertActionError(409, f"alert {alert_id} is {alert.state.value}, not open")
        alert.state, alert.acknowledged_at, alert.acknowledged_by = AlertState.acknowledged, utcnow(), actor[:100]
        audit.record(db, actor, "alert.acknowledged", "alert", str(alert_id), {"note": note[:500]}, session=session)
        session.flush()
        return alert_json(alert)


def resolve(db: Database, alert_id: int, actor: str, note: str = "") -> dict[str, Any]:
    """Resolve an open or acknowledged alert; return it. Raises AlertActionError (404, 409)."""
    with db.session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise AlertActionError(404, f"no alert with id {alert_id}")
        if alert.state == AlertState.resolved:
            raise AlertActionError(409, f"alert {alert_id} is already resolved")
        alert.state, alert.resolved_at = AlertState.resolved, utcnow()
        audit.record(db, actor, "alert.resolved", "alert", str(alert_id), {"note": note[:500]}, session=session)
        session.flush()
        return alert_json(alert)
