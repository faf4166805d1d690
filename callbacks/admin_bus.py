"""Admin bus page callbacks: dead-letter list and replay, schema browser."""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html, no_update

from bus.registry import REGISTRY
from bus.replay import ReplayError, list_dead_letters, replay_dead_letter
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
    return [{**i, "payload": json.dumps(i["payload"])[:160], "replayed_at": i["replayed_at"] or ""} for i in items]


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

    @app.callback(Output(IDS["table"], "data"), Input(IDS["topic"], "value"), Input(IDS["state"], "value"),
                  Input(IDS["reload"], "n_clicks"), Input(IDS["result"], "children"))
    def rows(topic: str | None, state: str | None, _n: int | None, _result: object):
        return dead_letter_rows(topic, state)

    @app.callback(Output(IDS["detail"], "children"), Output(IDS["selected"], "data"),
                  Input(IDS["table"], "selected_rows"), State(IDS["table"], "data"), prevent_initial_call=True)
    def detail(selected: list[int] | None, data: list[dict] | None):
        if not selected or not data or selected[0] >= len(data):
            return html.P("Select a dead letter to see its payload.", className="text-body-secondary"), None
        row = data[selected[0]]
        _t, items = list_dead_letters(services().db, None, None, 1000)
        full = next((i for i in items if i["id"] == row["id"]), row)
        return [
            html.P([html.Strong("Reason: "), full["reason"]]),
            html.P(f"id {full['id']} · {full['source']} · {full['topic']} · attempts {full['attempts']} · "
                   f"received {full['received_at']}" + (f" · replayed {full['replayed_at']}" if full.get("replayed_at") else ""),
                   className="small text-body-secondary"),
            html.Pre(json.dumps(full.get("payload"), indent=2)[:20000], className="small border rounded p-2"),
        ], row["id"]

    @app.callback(Output(IDS["result"], "children"), Input(IDS["replay"], "n_clicks"), State(IDS["selected"], "data"),
                  State(IDS["force"], "value"), prevent_initial_call=True)
    def replay(_n: int | None, selected: int | None, force: list | None):
        if selected is None:
            return no_update
        from security.access import AccessDenied

        try:
            outcome = replay_dead_letter(services(), int(selected), _caller_name(), bool(force))
        except (ReplayError, AccessDenied) as exc:
            return dbc.Alert(f"Not replayed: {exc.message}", color="danger", className="py-2")
        return dbc.Alert(f"Dead letter {selected} {outcome['outcome']} on {outcome['topic']}.", color="success", className="py-2")

    @app.callback(Output(IDS["schema_view"], "children"), Input(IDS["schema_topic"], "value"))
    def schemas(topic: str | None):
        return schema_view(topic)
