"""Callbacks of /admin/on-call: rotations, overrides, escalation policies, and what was sent.

Thin adapters over :mod:`notifications.directory` (which validates and audits every change); the
page is admin-only, so are its callbacks (security.guard).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, no_update
from sqlalchemy import select

from components.data_table import Column
from core.runtime import services
from data.models import Site, User
from notifications import directory

IDS = {
    "schedules": "oc-schedules", "s_name": "oc-s-name", "s_members": "oc-s-members", "s_start_date": "oc-s-start-date",
    "s_start_time": "oc-s-start-time", "s_hours": "oc-s-hours", "s_tz": "oc-s-tz", "s_save": "oc-s-save",
    "s_result": "oc-s-result", "o_schedule": "oc-o-schedule", "o_user": "oc-o-user", "o_start": "oc-o-start",
    "o_end": "oc-o-end", "o_reason": "oc-o-reason", "o_add": "oc-o-add", "o_result": "oc-o-result",
    "policies": "oc-policies", "p_name": "oc-p-name", "p_priority": "oc-p-priority", "p_severity": "oc-p-severity",
    "p_sites": "oc-p-sites", "p_repeat": "oc-p-repeat", "p_stages": "oc-p-stages", "p_save": "oc-p-save",
    "p_result": "oc-p-result", "p_pick": "oc-p-pick", "escalations": "oc-escalations", "sent": "oc-sent",
    "refresh": "oc-refresh",
}
SCHEDULE_COLUMNS = [Column("name", "Schedule", min_width=120), Column("on_call", "On call now"),
                    Column("shift_ends", "Shift ends (UTC)", min_width=170), Column("members_text", "Rotation", flex=2),
                    Column("shift_hours", "Shift", unit="h", decimals=0), Column("timezone", "Time zone"),
                    Column("overrides_text", "Overrides (current and future)", min_width=220, flex=2)]
POLICY_COLUMNS = [Column("priority", "Priority", decimals=0, min_width=105, flex=0.5), Column("name", "Policy"),
                  Column("min_severity", "From severity"), Column("sites", "Sites"),
                  Column("stages", "Stages (delay after the previous one)", min_width=320, flex=3),
                  Column("repeat", "Repeats", decimals=0)]
ESCALATION_COLUMNS = [Column("alert_id", "Alert", decimals=0, flex=0.5), Column("title", "Title", flex=2),
                      Column("policy", "Policy"), Column("state", "State", status_colors=(
                          ("active", "var(--bs-warning)"), ("stopped", "var(--bs-success)"),
                          ("exhausted", "var(--bs-danger)"), ("no_policy", "var(--bs-secondary)"))),
                      Column("next_stage", "Next stage", decimals=0), Column("round", "Round", decimals=0),
                      Column("next_stage_at", "Next stage at (UTC)", min_width=170)]
SENT_COLUMNS = [Column("created_at", "Created (UTC)", min_width=170), Column("alert_id", "Alert", decimals=0),
                Column("kind", "About"), Column("user", "Person"), Column("channel", "Channel", min_width=160),
                Column("recipient", "To", min_width=160), Column("status", "Status", status_colors=(
                    ("failed", "var(--bs-danger)"), ("delivered", "var(--bs-success)"), ("sent", "var(--bs-success)"),
                    ("pending", "var(--bs-warning)"))),
                Column("attempts", "Attempts", decimals=0), Column("provider_id", "Provider id", min_width=160),
                Column("delivery", "Provider status"), Column("error", "Error", min_width=240, flex=2)]
STAGES_HELP = ("One stage per line: minutes after the previous stage (the first: after the alert opened), then who "
               "is paged, comma-separated: schedule:<name> (whoever is on call) or user:<username>. "
               "Example: '+0 schedule:ops' then '+15 user:carol'.")


def user_options() -> list[dict[str, Any]]:
    """Return every active user as a dropdown option."""
    with services().db.session() as session:
        users = session.execute(select(User.id, User.username, User.role).where(User.is_active.is_(True))
                                .order_by(User.username)).all()
    return [{"label": f"{name} ({role.value})", "value": uid} for uid, name, role in users]


def site_options() -> list[dict[str, Any]]:
    """Return every site as a dropdown option."""
    with services().db.session() as session:
        return [{"label": f"{name} ({sid})", "value": sid}
                for sid, name in session.execute(select(Site.id, Site.name).order_by(Site.name)).all()]


def schedule_rows() -> list[dict[str, Any]]:
    """Return the schedules with who is on call now."""
    rows = []
    for s in directory.schedules(services().db):
        overrides = "; ".join(f"{o['user']} {o['starts_at'][:16]} to {o['ends_at'][:16]}" for o in s["overrides"])
        rows.append({**s, "members_text": " → ".join(s["members"]), "overrides_text": overrides or "—",
                     "shift_ends": s["shift_ends"][:16].replace("T", " ")})
    return rows


def schedule_options(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the schedules as dropdown options."""
    return [{"label": r["name"], "value": r["id"]} for r in rows]


def policy_rows() -> list[dict[str, Any]]:
    """Return the escalation policies written out."""
    return directory.policies(services().db)


def _alert(text: str, ok: bool) -> dbc.Alert:
    return dbc.Alert(text, color="success" if ok else "danger", className="py-2 small mb-0", dismissable=True)


def _actor() -> str:
    from security.access import check

    return check("admin").name


def _local(value: str | None, what: str) -> dt.datetime:
    """Return a ``YYYY-MM-DDTHH:MM`` input (UTC) as an aware datetime; raise naming ``what``."""
    try:
        return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
    except ValueError:
        raise directory.DirectoryError(f"{what}: {value!r} is not a date and time") from None


def register(app: Dash) -> None:
    """Attach the page's callbacks."""

    @app.callback(
        Output(IDS["schedules"], "rowData", allow_duplicate=True), Output(IDS["o_schedule"], "options"),
        Output(IDS["s_result"], "children"),
        Input(IDS["s_save"], "n_clicks"),
        State(IDS["s_name"], "value"), State(IDS["s_members"], "value"), State(IDS["s_start_date"], "value"),
        State(IDS["s_start_time"], "value"), State(IDS["s_hours"], "value"), State(IDS["s_tz"], "value"),
        prevent_initial_call=True,
    )
    def save_schedule(_n, name, members, start_date, start_time, hours, tz):
        try:
            start = _local(f"{start_date}T{start_time or '00:00'}", "rotation start")
            existing = next((r["id"] for r in directory.schedules(services().db) if r["name"] == (name or "").strip()), None)
            directory.save_schedule(services().db, _actor(), name or "", [int(m) for m in members or []], start,
                                    float(hours or 0), tz or "UTC", schedule_id=existing)
        except ValueError as exc:
            return no_update, no_update, _alert(str(exc), False)
        rows = schedule_rows()
        return rows, schedule_options(rows), _alert(f"Schedule {name!r} saved.", True)

    @app.callback(
        Output(IDS["schedules"], "rowData", allow_duplicate=True), Output(IDS["o_result"], "children"),
        Input(IDS["o_add"], "n_clicks"),
        State(IDS["o_schedule"], "value"), State(IDS["o_user"], "value"), State(IDS["o_start"], "value"),
        State(IDS["o_end"], "value"), State(IDS["o_reason"], "value"),
        prevent_initial_call=True,
    )
    def add_override(_n, schedule_id, user_id, start, end, reason):
        try:
            if schedule_id is None or user_id is None:
                raise directory.DirectoryError("choose a schedule and who covers it")
            directory.add_override(services().db, _actor(), int(schedule_id), int(user_id),
                                   _local(start, "override start"), _local(end, "override end"), reason or "")
        except ValueError as exc:
            return no_update, _alert(str(exc), False)
        return schedule_rows(), _alert("Override added.", True)

    @app.callback(
        Output(IDS["p_name"], "value"), Output(IDS["p_priority"], "value"), Output(IDS["p_severity"], "value"),
        Output(IDS["p_sites"], "value"), Output(IDS["p_repeat"], "value"), Output(IDS["p_stages"], "value"),
        Input(IDS["p_pick"], "value"), prevent_initial_call=True,
    )
    def pick_policy(policy_id):
        policy = next((p for p in policy_rows() if p["id"] == policy_id), None)
        if policy is None:
            return "", 0, "warning", [], 0, ""
        sites = [] if policy["sites"] == "all" else [s.strip() for s in policy["sites"].split(",")]
        return (policy["name"], policy["priority"], policy["min_severity"], sites, policy["repeat"],
                directory.stage_lines(services().db, policy["stages_json"]))

    @app.callback(
        Output(IDS["policies"], "rowData"), Output(IDS["p_pick"], "options"), Output(IDS["p_result"], "children"),
        Input(IDS["p_save"], "n_clicks"),
        State(IDS["p_pick"], "value"), State(IDS["p_name"], "value"), State(IDS["p_priority"], "value"),
        State(IDS["p_severity"], "value"), State(IDS["p_sites"], "value"), State(IDS["p_repeat"], "value"),
        State(IDS["p_stages"], "value"),
        prevent_initial_call=True,
    )
    def save_policy(_n, policy_id, name, priority, severity, sites, repeat, stages_text):
        db = services().db
        try:
            stages = directory.parse_stage_lines(db, stages_text or "")
            same_name = next((p["id"] for p in policy_rows() if p["name"] == (name or "").strip()), None)
            directory.save_policy(db, _actor(), name or "", stages, min_severity=severity or "info",
                                  site_ids=list(sites or []), repeat=int(repeat or 0), priority=int(priority or 0),
                                  policy_id=same_name or policy_id)
        except ValueError as exc:
            return no_update, no_update, _alert(str(exc), False)
        rows = policy_rows()
        return rows, [{"label": p["name"], "value": p["id"]} for p in rows], _alert(f"Policy {name!r} saved.", True)

    @app.callback(
        Output(IDS["escalations"], "rowData"), Output(IDS["sent"], "rowData"),
        Output(IDS["schedules"], "rowData", allow_duplicate=True),
        Input(IDS["refresh"], "n_clicks"), prevent_initial_call=True,
    )
    def refresh(_n):
        db = services().db
        return directory.escalations(db), directory.recent_notifications(db, None, 300), schedule_rows()

