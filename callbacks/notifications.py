"""Callbacks of /account/notifications: the signed-in user's contact methods, quiet hours and history.

Thin adapters over :mod:`notifications.directory`, always on the caller's own user (the id is
looked up from the session, never taken from the page), so nobody edits another's methods here.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, html, no_update
from sqlalchemy import select

from components.data_table import Column
from core.runtime import services
from data.models import User
from notifications import directory
from notifications.channels import KIND_LABELS, KINDS
from notifications.oncall import SEVERITIES

IDS = {
    "kind": "nt-kind", "address": "nt-address", "label": "nt-label", "slack_member": "nt-slack-member",
    "add": "nt-add", "method": "nt-method", "up": "nt-up", "down": "nt-down", "remove": "nt-remove",
    "methods": "nt-methods", "methods_wrap": "nt-methods-wrap", "result": "nt-result", "tz": "nt-tz",
    "start": "nt-start", "end": "nt-end", "bypass": "nt-bypass", "save_quiet": "nt-save-quiet",
    "quiet_result": "nt-quiet-result", "history": "nt-history", "oncall": "nt-oncall",
}
KIND_OPTIONS = [{"label": KIND_LABELS[k], "value": k} for k in KINDS]
SEVERITY_OPTIONS = [{"label": s, "value": s} for s in SEVERITIES]
TIMEZONES = sorted(available_timezones())
ADDRESS_HINTS = {"sms": "+15558675310", "voice": "+15558675310", "email": "you@example.com", "slack": "C0123ABCD",
                 "slack_webhook": "https://hooks.slack.com/services/T.../B.../...",
                 "teams": "https://....logic.azure.com/workflows/..."}
METHOD_COLUMNS = [Column("order", "Order", decimals=0, min_width=95, flex=0.4), Column("channel", "Channel", min_width=180),
                  Column("address", "Address", min_width=220, flex=2), Column("label", "Label"),
                  Column("slack_user_id", "Slack member")]
HISTORY_COLUMNS = [Column("created_at", "Created (UTC)", min_width=170), Column("alert_id", "Alert", decimals=0),
                   Column("kind", "About"), Column("channel", "Channel", min_width=160),
                   Column("recipient", "To", min_width=160), Column("status", "Status", status_colors=(
                       ("failed", "var(--bs-danger)"), ("delivered", "var(--bs-success)"), ("sent", "var(--bs-success)"),
                       ("pending", "var(--bs-warning)"))),
                   Column("attempts", "Attempts", decimals=0), Column("delivery", "Provider status"),
                   Column("error", "Error", min_width=220, flex=2)]


def my_user_id() -> int | None:
    """Return the signed-in user's id (None for a token or wall caller)."""
    from security.access import current_caller

    caller = current_caller()
    if caller is None or caller.kind != "session":
        return None
    if caller.user_id is not None:
        return caller.user_id
    with services().db.session() as session:
        return session.execute(select(User.id).where(User.username == caller.name)).scalar_one_or_none()


def method_rows(user_id: int | None) -> list[dict[str, Any]]:
    """Return the table rows of the user's contact methods (order from 1)."""
    if user_id is None:
        return []
    return [{**m, "order": i + 1} for i, m in enumerate(directory.contact_methods(services().db, user_id))]


def method_options(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the dropdown options naming each contact method."""
    return [{"label": f"{r['order']}. {r['channel']}: {r['address']}", "value": r["id"]} for r in rows]


def history_rows(user_id: int | None) -> list[dict[str, Any]]:
    """Return the user's newest notifications."""
    return [] if user_id is None else directory.recent_notifications(services().db, user_id, 100)


def my_schedules(user_id: int | None) -> html.Div:
    """Return what the user's on-call duty looks like: schedules they are in and who is on call."""
    if user_id is None:
        return html.P("Sign in as a person to see your on-call duty.", className="small text-body-secondary")
    mine = [s for s in directory.schedules(services().db) if user_id in [int(m) for m in s["member_ids"]]]
    if not mine:
        return html.P("You are in no on-call schedule; an administrator adds you on the On-call page.",
                      className="small text-body-secondary mb-0")
    return html.Ul([html.Li([html.Strong(s["name"]), f": on call now {s['on_call']} until {s['shift_ends'][:16]} UTC; "
                             f"rotation {', '.join(s['members'])}, {s['shift_hours']:g} h shifts"])
                    for s in mine], className="small mb-0")


def _alert(text: str, ok: bool) -> dbc.Alert:
    return dbc.Alert(text, color="success" if ok else "danger", className="py-2 small mb-0", dismissable=True)


def register(app: Dash) -> None:
    """Attach the page's callbacks."""

    @app.callback(
        Output(IDS["methods"], "rowData"), Output(IDS["method"], "options"), Output(IDS["result"], "children"),
        Output(IDS["address"], "value"),
        Input(IDS["add"], "n_clicks"), Input(IDS["up"], "n_clicks"), Input(IDS["down"], "n_clicks"),
        Input(IDS["remove"], "n_clicks"),
        State(IDS["kind"], "value"), State(IDS["address"], "value"), State(IDS["label"], "value"),
        State(IDS["slack_member"], "value"), State(IDS["method"], "value"),
        prevent_initial_call=True,
    )
    def change_methods(_add, _up, _down, _remove, kind, address, label, slack_member, method_id):
        user_id = my_user_id()
        if user_id is None:
            return no_update, no_update, _alert("Only a signed-in person has contact methods.", False), no_update
        db, actor = services().db, f"user:{user_id}"
        clear = no_update
        try:
            if ctx.triggered_id == IDS["add"]:
                directory.add_contact_method(db, actor, user_id, kind or "", address or "", label=label or "",
                                             slack_user_id=slack_member or "", gateway=services().gateway)
                message, clear = f"Added {KIND_LABELS.get(kind, kind)}.", ""
            elif method_id is None:
                raise directory.DirectoryError("choose a contact method first")
            elif ctx.triggered_id == IDS["remove"]:
                directory.remove_contact_method(db, actor, user_id, int(method_id))
                message = "Removed."
            else:
                directory.move_contact_method(db, actor, user_id, int(method_id), up=ctx.triggered_id == IDS["up"])
                message = "Order changed: the first method is tried first, the next one when it fails."
        except ValueError as exc:
            return no_update, no_update, _alert(str(exc), False), no_update
        rows = method_rows(user_id)
        return rows, method_options(rows), _alert(message, True), clear

    @app.callback(
        Output(IDS["address"], "placeholder"), Input(IDS["kind"], "value"),
    )
    def address_hint(kind):
        return ADDRESS_HINTS.get(kind or "", "")

    @app.callback(
        Output(IDS["quiet_result"], "children"),
        Input(IDS["save_quiet"], "n_clicks"),
        State(IDS["tz"], "value"), State(IDS["start"], "value"), State(IDS["end"], "value"), State(IDS["bypass"], "value"),
        prevent_initial_call=True,
    )
    def save_quiet(_n, tz, start, end, bypass):
        user_id = my_user_id()
        if user_id is None:
            return _alert("Only a signed-in person has quiet hours.", False)
        try:
            directory.set_quiet_hours(services().db, f"user:{user_id}", user_id, tz or "UTC", start or "", end or "",
                                      bypass or "critical")
        except ValueError as exc:
            return _alert(str(exc), False)
        if not (start or end):
            return _alert("Quiet hours cleared: every notification reaches you at once.", True)
        return _alert(f"Quiet hours {start}-{end} ({tz}); {bypass} and above still reach you at once, the rest waits "
                      "for the end of the window.", True)
