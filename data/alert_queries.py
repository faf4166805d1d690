"""Read queries of alerts and their rules (the /alerts page and ``/api/v1/alerts`` share them)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Alert, AlertRule, AlertSilence, AlertState, Site

ACTIVE_STATES = (AlertState.open, AlertState.acknowledged, AlertState.suppressed)


def alert_rows(session: Session, *, state: str = "active", severity: str | None = None, site_id: str | None = None,
               rule_id: int | None = None, visible: frozenset[str] | set[str] | None = None, limit: int = 500,
               since: dt.datetime | None = None) -> list[Alert]:
    """Return alerts newest first: ``state`` one of active (open, acknowledged, suppressed), open,
    acknowledged, suppressed, resolved, all; alerts of sites outside ``visible`` are left out
    (alerts without a site, such as a failing integration, are fleet-wide and always shown)."""
    stmt = select(Alert).order_by(Alert.opened_at.desc(), Alert.id.desc())
    if state == "active":
        stmt = stmt.where(Alert.state.in_(ACTIVE_STATES))
    elif state != "all":
        stmt = stmt.where(Alert.state == AlertState(state))
    if severity:
        stmt = stmt.where(Alert.severity == severity)
    if site_id:
        stmt = stmt.where(Alert.site_id == site_id)
    if rule_id is not None:
        stmt = stmt.where(Alert.rule_id == rule_id)
    if since is not None:
        stmt = stmt.where(Alert.opened_at >= since)
    out: list[Alert] = []
    for alert in session.execute(stmt.limit(limit * 4 if visible is not None else limit)).scalars():
        if visible is None or alert.site_id is None or alert.site_id in visible:
            out.append(alert)
            if len(out) >= limit:
                break
    return out


def site_names(session: Session, visible: frozenset[str] | set[str] | None = None) -> dict[str, str]:
    """Return {site id: name} of the sites the caller sees."""
    rows = session.execute(select(Site.id, Site.name).order_by(Site.name)).all()
    return {sid: name for sid, name in rows if visible is None or sid in visible}


def rule_names(session: Session) -> dict[int, str]:
    """Return {rule id: name} of every rule."""
    return dict(session.execute(select(AlertRule.id, AlertRule.name).order_by(AlertRule.id)).all())


def active_silences(session: Session, now: dt.datetime) -> list[dict[str, Any]]:
    """Return the maintenance windows and silences not yet ended, soonest end first."""
    rows = session.execute(select(AlertSilence).where(AlertSilence.ends_at > now)
                           .order_by(AlertSilence.ends_at)).scalars().all()
    return [silence_json(s) for s in rows]


def silence_json(s: AlertSilence) -> dict[str, Any]:
    """Return a silence as a JSON-ready dict."""
    return {"id": s.id, "kind": s.kind, "site_id": s.site_id, "asset_id": s.asset_id, "rule_id": s.rule_id,
            "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(), "reason": s.reason,
            "created_by": s.created_by}
