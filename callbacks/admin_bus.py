"""Admin bus page callbacks: dead-letter list and replay, schema browser.

The selected dead letter is held by id (the ``selected`` store), never by table position: after a
reload (a replay, a filter change) the table's selection is put back on the row with that id, or
cleared if the row is no longer listed, and the detail pane and the replay button read the same
id. So the selection, the detail and the action always name the same dead letter.
"""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html, no_update

from bus.registry import REGISTRY
from bus.replay import ReplayError, get_dead_letter, list_dead_letters, replay_dead_letter
from core.runtime import services

IDS = {
    "topic": "dl-topic", "state": "dl-state", "table": "dl-table", "detail": "dl-detail", "selected": "dl-selected",
    "replay": "dl-replay", "result": "dl-result", "reload": "dl-reload", "schema_topic": "dl-schema-topic",
    "schema_view": "dl-schema-view", "force": "dl-force",
}


def dead_letter_rows(topic: str | None, state: str | None, limit: int = 200) -> list[dict]:
    """Return table rows of the newest dead letters for the filters (payload shortened)."""
    replayed = {"open": False, "replayed": True}.get(state or "")
    _total, items = list_dead_letters(services().db, topic or None, replayed, limit)
    return [{**i, "payload": json.dumps(i["payload"])[:160], "replayed_at": i["replayed_at"] or "",
             "last_error": i["last_error"] or "", "last_attempt_at": i["last_attempt_at"] or ""} for i in items]


def selection_for(data: list[dict], selected_id: int | None) -> list[int]:
    """Return the table's ``selected_rows`` that keep dead letter ``selected_id`` selected ([] if not listed)."""
    if selected_id is None:
        return []
    return [i for i, row in enumerate(data) if row.get("id") == selected_id][:1]


def selected_id_of(selected_rows: list[int] | None, data: list[dict] | None) -> int | None:
    """Return the id of the dead letter at the table selection, or None."""
    if not selected_rows or not data or not 0 <= selected_rows[0] < len(data):
        return None
    return data[selected_rows[0]].get("id")


def detail_view(dead_letter_id: int | None) -> list | html.P:
    """Return the detail pane of one dead letter, read afresh from the store (or a hint without one)."""
    full = get_dead_letter(services().db, dead_letter_id) if dead_letter_id is not None else None
    if full is None:
        return html.P("Select a dead letter to see its payload.", className="text-body-secondary")
    attempts = f"attempts {full['attempts']}" + (f" · last attempt {full['last_attempt_at']}" if full["last_attempt_at"] else "")
    out = [
        html.P([html.Strong("Reason: "), full["reason"]]),
        html.P(f"id {full['id']} · {full['source']} · {full['topic']} · {attempts} · received {full['received_at']}"
               + (f" · replayed {full['replayed_at']}" if full.get("replayed_at") else ""),
               className="small text-body-secondary", id="dl-detail-meta"),
    ]
    if full["last_error"]:
        out.append(html.P([html.Strong("Last error: "), full["last_error"]], className="text-danger-emphasis small"))
    out.append(html.Pre(json.dumps(full.get("payload"), indent=2)[:20000], className="small border rounded p-2"))
    return out


def schema_view(topic: str | None) -> list:
    """Return the versions of ``topic`` with their JSON Schemas as page components."""
    if not topic:
        return []
    out = []
    for entry in REGISTRY.versions(topic):
        out.append(html.H6(f"{topic} · version {entry.version}" + (" (current)" if entry is REGISTRY.current(topic) else "")))
        if entry.model.__doc__:
            out.append(html.P(entry.model.__doc__.strip().splitlines()[0], className="small text-body-secondary"))
        out.append(html.Pre(json.dumps(entry.json_schema(), indent=2), className="small border rounded p-2 bg-body-tertiary"))
    return out


def _caller_name() -> str:
    from security.access import check

    return check("admin").name


def register(app: Dash) -> None:
    """Attach the admin bus callbacks to ``app``."""

    @app.callback(Output(IDS["table"], "data"), Output(IDS["table"], "selected_rows"),
                  Input(IDS["topic"], "value"), Input(IDS["state"], "value"), Input(IDS["reload"], "n_clicks"),
                  Input(IDS["result"], "children"), State(IDS["selected"], "data"))
    def rows(topic: str | None, state: str | None, _n: int | None, _result: object, selected: int | None):
        data = dead_letter_rows(topic, state)
        return data, selection_for(data, selected)

    @app.callback(Output(IDS["detail"], "children"), Output(IDS["selected"], "data"),
                  Input(IDS["table"], "selected_rows"), State(IDS["table"], "data"), prevent_initial_call=True)
    def detail(selected_rows: list[int] | None, data: list[dict] | None):
        dead_letter_id = selected_id_of(selected_rows, data)
        return detail_view(dead_letter_id), dead_letter_id

    @app.callback(Output(IDS["result"], "children"), Input(IDS["replay"], "n_clicks"), State(IDS["selected"], "data"),
                  State(IDS["force"], "value"), prevent_initial_call=True)
    def replay(_n: int | None, selected: int | None, force: list | None):
        if selected is None:
            return no_update
        from security.access import AccessDenied

        try:
            outcome = replay_dead_letter(services(), int(selected), _caller_name(), bool(force))
        except (ReplayError, AccessDenied) as exc:
            return dbc.Alert(f"Dead letter {selected} not replayed: {exc.message}", color="danger", className="py-2",
                             id="dl-result-alert")
        return dbc.Alert(f"Dead letter {selected} {outcome['outcome']} on {outcome['topic']}.", color="success",
                         className="py-2", id="dl-result-alert")

    @app.callback(Output(IDS["schema_view"], "children"), Input(IDS["schema_topic"], "value"))
    def schemas(topic: str | None):
        return schema_view(topic)
