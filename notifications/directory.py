"""Reading and editing who can be reached how: contact methods, quiet hours, schedules, policies.

Every write validates its input and raises :class:`DirectoryError` (or
:class:`notifications.channels.InvalidAddress`, :class:`notifications.oncall.PolicyError`, both
ValueErrors) naming the field; each change is an audit event. The pages (``pages/notifications.py``,
``pages/oncall.py``) and their callbacks call these and nothing else.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select

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
from notifications import oncall
from notifications.channels import KIND_LABELS, KINDS, validate_address
from security import audit


class DirectoryError(ValueError):
    """A change that cannot be made (unknown row, another user's row, a name already taken)."""


# --- contact methods and quiet hours --------------------------------------------------------


def contact_methods(db: Database, user_id: int) -> list[dict[str, Any]]:
    """Return the user's contact methods in the order they are tried."""
    with db.session() as session:
        rows = session.execute(select(ContactMethod).where(ContactMethod.user_id == user_id)
                               .order_by(ContactMethod.priority, ContactMethod.id)).scalars().all()
        return [{"id": m.id, "kind": m.kind, "channel": KIND_LABELS.get(m.kind, m.kind), "address": m.address,
                 "label": m.label, "priority": m.priority, "enabled": m.enabled, "slack_user_id": m.slack_user_id or ""}
                for m in rows]


def add_contact_method(db: Database, actor: str, user_id: int, kind: str, address: str, *, label: str = "",
                       priority: int | None = None, slack_user_id: str = "", gateway: Any = None) -> int:
    """Add a contact method (validated for its kind); return its id. ``priority`` default: last."""
    clean = validate_address(kind, address, gateway)
    slack_member = (slack_user_id or "").strip() or None
    if slack_member is not None and not oncall_slack_id(slack_member):
        raise DirectoryError(f"Slack member id {slack_user_id!r} is not like U0123ABCD")
    with db.session() as session:
        if session.get(User, user_id) is None:
            raise DirectoryError(f"no user with id {user_id}")
        if priority is None:
            top = session.execute(select(func.max(ContactMethod.priority))
                                  .where(ContactMethod.user_id == user_id)).scalar_one()
            priority = 0 if top is None else int(top) + 1
        method = ContactMethod(user_id=user_id, kind=kind, address=clean, label=label.strip()[:100],
                               priority=int(priority), enabled=True, slack_user_id=slack_member)
        session.add(method)
        session.flush()
        audit.record(db, actor, "contact_method.added", "user", str(user_id), {"kind": kind, "id": method.id},
                     session=session)
        return method.id


def oncall_slack_id(value: str) -> bool:
    """Return whether ``value`` looks like a Slack member id (U... or W...)."""
    import re

    return re.fullmatch(r"[UW][A-Z0-9]{2,20}", value) is not None


def remove_contact_method(db: Database, actor: str, user_id: int, method_id: int) -> None:
    """Remove one of the user's own contact methods."""
    with db.session() as session:
        method = session.get(ContactMethod, method_id)
        if method is None or method.user_id != user_id:
            raise DirectoryError(f"contact method {method_id} is not one of this user's")
        session.delete(method)
        audit.record(db, actor, "contact_method.removed", "user", str(user_id), {"id": method_id}, session=session)


def move_contact_method(db: Database, actor: str, user_id: int, method_id: int, up: bool) -> None:
    """Swap a contact method with the one before (``up``) or after it in the order tried."""
    with db.session() as session:
        methods = list(session.execute(select(ContactMethod).where(ContactMethod.user_id == user_id)
                                       .order_by(ContactMethod.priority, ContactMethod.id)).scalars())
        ids = [m.id for m in methods]
        if method_id not in ids:
            raise DirectoryError(f"contact method {method_id} is not one of this user's")
        i = ids.index(method_id)
        j = i - 1 if up else i + 1
        if not 0 <= j < len(methods):
            return
        methods[i], methods[j] = methods[j], methods[i]
        for n, method in enumerate(methods):
            method.priority = n
        audit.record(db, actor, "contact_method.reordered", "user", str(user_id), {"order": [m.id for m in methods]},
                     session=session)


def quiet_hours(db: Database, user_id: int) -> dict[str, Any]:
    """Return the user's quiet hours as text fields (start and end '' when none are set)."""
    with db.session() as session:
        pref = session.get(NotificationPreference, user_id)
        if pref is None:
            return {"timezone": "UTC", "start": "", "end": "", "bypass": "critical"}
        return {"timezone": pref.timezone, "start": oncall.format_clock(pref.quiet_start_min),
                "end": oncall.format_clock(pref.quiet_end_min), "bypass": pref.quiet_bypass_severity}


def set_quiet_hours(db: Database, actor: str, user_id: int, timezone: str, start: str, end: str,
                    bypass: str = "critical") -> None:
    """Set (or, with start and end empty, clear) the user's quiet hours; raise naming the bad field."""
    oncall.zone(timezone)
    if bypass not in oncall.SEVERITIES:
        raise DirectoryError(f"bypass severity {bypass!r} is not one of {', '.join(oncall.SEVERITIES)}")
    if bool(start.strip()) != bool(end.strip()):
        raise DirectoryError("quiet hours need both a start and an end (or neither)")
    start_min = oncall.parse_clock(start, "quiet hours start") if start.strip() else None
    end_min = oncall.parse_clock(end, "quiet hours end") if end.strip() else None
    if start_min is not None and start_min == end_min:
        raise DirectoryError("quiet hours start and end are the same time (an empty window)")
    with db.session() as session:
        pref = session.get(NotificationPreference, user_id)
        if pref is None:
            pref = NotificationPreference(user_id=user_id)
            session.add(pref)
        pref.timezone, pref.quiet_start_min, pref.quiet_end_min = timezone, start_min, end_min
        pref.quiet_bypass_severity, pref.updated_at = bypass, utcnow()
        audit.record(db, actor, "quiet_hours.set", "user", str(user_id),
                     {"timezone": timezone, "start": start, "end": end, "bypass": bypass}, session=session)


# --- schedules and overrides ----------------------------------------------------------------


def _user_ids(session: Any, ids: list[int]) -> list[int]:
    known = set(session.execute(select(User.id).where(User.id.in_(ids))).scalars())
    missing = [i for i in ids if i not in known]
    if missing:
        raise DirectoryError(f"unknown user id(s) {missing}")
    return ids


def save_schedule(db: Database, actor: str, name: str, members: list[int], rotation_start: dt.datetime,
                  shift_hours: float, timezone: str = "UTC", schedule_id: int | None = None) -> int:
    """Create or update a rotation; return its id."""
    name = name.strip()
    if not name:
        raise DirectoryError("a schedule needs a name")
    if rotation_start.tzinfo is None:
        raise DirectoryError("rotation start must carry a time zone")
    if not 0.5 <= float(shift_hours) <= 24 * 28:
        raise DirectoryError(f"shift length {shift_hours} h must be between 0.5 h and 4 weeks (672 h)")
    if not members:
        raise DirectoryError("a schedule needs at least one member")
    oncall.zone(timezone)
    with db.session() as session:
        _user_ids(session, members)
        clash = session.execute(select(OnCallSchedule.id).where(OnCallSchedule.name == name)).scalar_one_or_none()
        if clash is not None and clash != schedule_id:
            raise DirectoryError(f"a schedule called {name!r} exists already")
        schedule = session.get(OnCallSchedule, schedule_id) if schedule_id else None
        if schedule_id and schedule is None:
            raise DirectoryError(f"no schedule with id {schedule_id}")
        if schedule is None:
            schedule = OnCallSchedule(name=name, rotation_start=rotation_start)
            session.add(schedule)
        schedule.name, schedule.members, schedule.rotation_start = name, list(members), rotation_start
        schedule.shift_hours, schedule.timezone = float(shift_hours), timezone
        session.flush()
        audit.record(db, actor, "oncall_schedule.saved", "oncall_schedule", str(schedule.id),
                     {"name": name, "members": members, "shift_hours": shift_hours}, session=session)
        return schedule.id


def add_override(db: Database, actor: str, schedule_id: int, user_id: int, starts_at: dt.datetime,
                 ends_at: dt.datetime, reason: str = "") -> int:
    """Put ``user_id`` on call for ``schedule_id`` over [starts_at, ends_at); return the override's id."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise DirectoryError("override times must carry a time zone")
    if ends_at <= starts_at:
        raise DirectoryError("an override must end after it starts")
    with db.session() as session:
        if session.get(OnCallSchedule, schedule_id) is None:
            raise DirectoryError(f"no schedule with id {schedule_id}")
        _user_ids(session, [user_id])
        row = OnCallOverride(schedule_id=schedule_id, user_id=user_id, starts_at=starts_at, ends_at=ends_at,
                             reason=reason.strip()[:200])
        session.add(row)
        session.flush()
        audit.record(db, actor, "oncall_override.added", "oncall_schedule", str(schedule_id),
                     {"user_id": user_id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
                     session=session)
        return row.id


def delete_schedule(db: Database, actor: str, schedule_id: int) -> None:
    """Delete a schedule and its overrides."""
    with db.session() as session:
        schedule = session.get(OnCallSchedule, schedule_id)
        if schedule is None:
            raise DirectoryError(f"no schedule with id {schedule_id}")
        session.execute(delete(OnCallOverride).where(OnCallOverride.schedule_id == schedule_id))
        session.delete(schedule)
        audit.record(db, actor, "oncall_schedule.deleted", "oncall_schedule", str(schedule_id), {}, session=session)


def schedules(db: Database, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return every schedule with who is on call at ``at`` (now) and until when."""
    at = at or utcnow()
    with db.session() as session:
        names = dict(session.execute(select(User.id, User.username)).all())
        out = []
        for s in session.execute(select(OnCallSchedule).order_by(OnCallSchedule.name)).scalars():
            overrides = session.execute(select(OnCallOverride).where(OnCallOverride.schedule_id == s.id)
                                        .order_by(OnCallOverride.id)).scalars().all()
            now_user = oncall.on_call([int(m) for m in s.members or []], s.rotation_start, s.shift_hours, at,
                                      [(o.user_id, o.starts_at, o.ends_at) for o in overrides])
            _start, shift_end = oncall.shift_bounds(s.rotation_start, s.shift_hours, at)
            out.append({
                "id": s.id, "name": s.name, "timezone": s.timezone, "shift_hours": s.shift_hours,
                "rotation_start": s.rotation_start.isoformat(), "members": [names.get(int(m), str(m)) for m in s.members],
                "member_ids": list(s.members), "on_call": names.get(now_user, "-") if now_user else "-",
                "shift_ends": shift_end.isoformat(),
                "overrides": [{"id": o.id, "user": names.get(o.user_id, str(o.user_id)), "starts_at": o.starts_at.isoformat(),
                               "ends_at": o.ends_at.isoformat(), "reason": o.reason}
                              for o in overrides if o.ends_at > at],
            })
        return out


# --- escalation policies --------------------------------------------------------------------


def save_policy(db: Database, actor: str, name: str, stages: Any, *, min_severity: str = "info",
                site_ids: list[str] | None = None, repeat: int = 0, priority: int = 0,
                policy_id: int | None = None) -> int:
    """Create or update an escalation policy; return its id. Stages as in :func:`oncall.parse_stages`."""
    name = name.strip()
    if not name:
        raise DirectoryError("a policy needs a name")
    if min_severity not in oncall.SEVERITIES:
        raise DirectoryError(f"minimum severity {min_severity!r} is not one of {', '.join(oncall.SEVERITIES)}")
    if not 0 <= int(repeat) <= 10:
        raise DirectoryError(f"repeat {repeat} must be between 0 and 10")
    parsed = oncall.parse_stages(stages)
    with db.session() as session:
        for stage in parsed:
            for target in stage.targets:
                model = User if target.type == "user" else OnCallSchedule
                if session.get(model, target.id) is None:
                    raise DirectoryError(f"stage target {target.type} {target.id} does not exist")
        clash = session.execute(select(EscalationPolicy.id).where(EscalationPolicy.name == name)).scalar_one_or_none()
        if clash is not None and clash != policy_id:
            raise DirectoryError(f"a policy called {name!r} exists already")
        policy = session.get(EscalationPolicy, policy_id) if policy_id else None
        if policy_id and policy is None:
            raise DirectoryError(f"no policy with id {policy_id}")
        if policy is None:
            policy = EscalationPolicy(name=name)
            session.add(policy)
        policy.name, policy.stages = name, [s.model_dump() for s in parsed]
        policy.min_severity, policy.site_ids = min_severity, list(site_ids or [])
        policy.repeat, policy.priority, policy.enabled, policy.updated_at = int(repeat), int(priority), True, utcnow()
        session.flush()
        audit.record(db, actor, "escalation_policy.saved", "escalation_policy", str(policy.id),
                     {"name": name, "stages": policy.stages, "min_severity": min_severity, "repeat": repeat},
                     session=session)
        return policy.id


def delete_policy(db: Database, actor: str, policy_id: int) -> None:
    """Delete an escalation policy (running escalations of it end)."""
    with db.session() as session:
        policy = session.get(EscalationPolicy, policy_id)
        if policy is None:
            raise DirectoryError(f"no policy with id {policy_id}")
        session.delete(policy)
        audit.record(db, actor, "escalation_policy.deleted", "escalation_policy", str(policy_id), {}, session=session)


def policies(db: Database) -> list[dict[str, Any]]:
    """Return every policy with its stages written out (user and schedule names)."""
    with db.session() as session:
        users = dict(session.execute(select(User.id, User.username)).all())
        scheds = dict(session.execute(select(OnCallSchedule.id, OnCallSchedule.name)).all())
        out = []
        for p in session.execute(select(EscalationPolicy).order_by(EscalationPolicy.priority, EscalationPolicy.id)).scalars():
            parts = []
            for i, stage in enumerate(p.stages or []):
                who = ", ".join((users.get(t["id"], f"user {t['id']}") if t["type"] == "user"
                                 else f"on call: {scheds.get(t['id'], t['id'])}") for t in stage.get("targets", []))
                parts.append(f"{i + 1}. +{stage.get('delay_min', 0):g} min: {who}")
            out.append({"id": p.id, "name": p.name, "priority": p.priority, "min_severity": p.min_severity,
                        "sites": ", ".join(p.site_ids or []) or "all", "repeat": p.repeat,
                        "stages": " → ".join(parts), "stages_json": p.stages})
        return out


# --- history --------------------------------------------------------------------------------


def recent_notifications(db: Database, user_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Return the newest notifications (a user's own, or everyone's) with their attempt counts."""
    with db.session() as session:
        query = select(Notification).order_by(Notification.id.desc()).limit(limit)
        if user_id is not None:
            query = query.where(Notification.user_id == user_id)
        rows = session.execute(query).scalars().all()
        names = dict(session.execute(select(User.id, User.username)).all())
        attempts = dict(session.execute(
            select(NotificationAttempt.notification_id, func.count()).where(
                NotificationAttempt.notification_id.in_([r.id for r in rows]))
            .group_by(NotificationAttempt.notification_id)).all()) if rows else {}
        return [{"id": r.id, "created_at": r.created_at.isoformat(timespec="seconds"), "alert_id": r.alert_id,
                 "kind": r.kind, "user": names.get(r.user_id, "") if r.user_id else "",
                 "channel": KIND_LABELS.get(r.channel, r.channel), "recipient": r.recipient, "status": r.status,
                 "attempts": int(attempts.get(r.id, 0)), "provider_id": r.provider_message_id or "",
                 "delivery": r.delivery_status or "", "error": (r.error or "")[:300]} for r in rows]


def escalations(db: Database, limit: int = 100) -> list[dict[str, Any]]:
    """Return the newest escalations with their state and stage."""
    with db.session() as session:
        names = dict(session.execute(select(EscalationPolicy.id, EscalationPolicy.name)).all())
        rows = session.execute(select(AlertEscalation).order_by(AlertEscalation.updated_at.desc()).limit(limit)).scalars()
        return [{"alert_id": e.alert_id, "title": (e.alert_snapshot or {}).get("title", ""),
                 "policy": names.get(e.policy_id, "-") if e.policy_id else "-", "state": e.state,
                 "next_stage": e.stage + 1, "round": e.round + 1,
                 "next_stage_at": e.next_stage_at.isoformat(timespec="seconds") if e.next_stage_at else ""}
                for e in rows]


__all__ = ["KINDS", "DirectoryError"]


def parse_stage_lines(db: Database, text: str) -> list[dict[str, Any]]:
    """Return stages from lines ``<minutes> <target>[, <target>...]``, a target being
    ``schedule:<name>`` or ``user:<username>`` (``+10 user:carol, schedule:ops``); raise naming the line."""
    stages: list[dict[str, Any]] = []
    with db.session() as session:
        users = dict(session.execute(select(User.username, User.id)).all())
        scheds = dict(session.execute(select(OnCallSchedule.name, OnCallSchedule.id)).all())
    for n, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _, rest = line.partition(" ")
        try:
            delay = float(head.lstrip("+"))
        except ValueError:
            raise DirectoryError(f"stage line {n}: {head!r} is not a number of minutes (e.g. '+10 user:carol')") from None
        targets = []
        for item in (p.strip() for p in rest.split(",") if p.strip()):
            kind, _, name = item.partition(":")
            table = users if kind == "user" else scheds if kind == "schedule" else None
            if table is None:
                raise DirectoryError(f"stage line {n}: {item!r} is neither user:<name> nor schedule:<name>")
            if name not in table:
                raise DirectoryError(f"stage line {n}: no {kind} called {name!r}")
            targets.append({"type": kind, "id": table[name]})
        if not targets:
            raise DirectoryError(f"stage line {n}: name who is paged (user:<name> or schedule:<name>)")
        stages.append({"delay_min": delay, "targets": targets})
    return stages


def stage_lines(db: Database, stages: list[dict[str, Any]]) -> str:
    """Return ``stages`` written as the lines :func:`parse_stage_lines` reads."""
    with db.session() as session:
        users = dict(session.execute(select(User.id, User.username)).all())
        scheds = dict(session.execute(select(OnCallSchedule.id, OnCallSchedule.name)).all())
    lines = []
    for stage in stages:
        names = [f"user:{users.get(t['id'], t['id'])}" if t["type"] == "user" else f"schedule:{scheds.get(t['id'], t['id'])}"
                 for t in stage.get("targets", [])]
        lines.append(f"+{stage.get('delay_min', 0):g} " + ", ".join(names))
    return "\n".join(lines)
