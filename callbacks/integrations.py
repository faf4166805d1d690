"""Integrations page callbacks and the pure builders behind them (table, charts, event list)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Dash, Input, Output, html

from components.theme import style_figure
from data.integration_queries import Timeline, failure_log, hourly_timeline

IDS = {
    "refresh": "int-refresh", "updated": "int-updated", "table": "int-table", "calls": "int-calls-chart",
    "latency": "int-latency-chart", "failures": "int-failures-chart", "events": "int-events",
    "summary": "int-summary", "components": "int-components",
}
COMPONENT_COLORS = {"ok": "success", "degraded": "warning", "stopped": "secondary", "disabled": "secondary",
                    "down": "danger"}
STATE_COLORS = {"live": "success", "offline replay": "info", "degraded": "warning", "breaker open": "danger",
                "not configured": "secondary"}
STATE_HELP = {
    "live": "calling the provider with your credentials",
    "offline replay": "no credentials set: serving recorded payloads",
    "degraded": "recent failures or breaker half-open; last good data is served",
    "breaker open": "calls suspended after repeated failures; last good data is served",
    "not configured": "credentials missing and nothing recorded to replay",
}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _when(value: str | None) -> str:
    if not value:
        return ""
    return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def quota_cell(burn: float | None, calls: int, quota: int | None) -> Any:
    """Return a progress bar of quota use (calls / quota), or a dash when the plan has no quota."""
    if quota is None or burn is None:
        return html.Span("no quota", className="text-body-secondary small")
    color = "success" if burn < 0.7 else "warning" if burn < 0.9 else "danger"
    return html.Div([dbc.Progress(value=min(burn * 100, 100), color=color, style={"height": "6px"}),
                     html.Small(f"{calls:,} / {quota:,}", className="text-body-secondary")])


def status_table(rows: list[dict[str, Any]], polling: dict[str, str] | None = None) -> dbc.Table:
    """Return the provider status table for the rows of gateway.status.integration_status;
    ``polling`` maps provider -> how this process calls it (connectors.polling.polling_note)."""
    polling = polling or {}
    header = html.Thead(html.Tr([html.Th(h) for h in (
        "Provider", "State", "Success today", "p50 / p95 ms", "Calls today / month", "Est. cost today / month",
        "Quota today", "Last error")]))
    body = []
    for r in rows:
        missing = ", ".join(r["missing_settings"])
        state = dbc.Badge(r["state"], color=STATE_COLORS.get(r["state"], "secondary"), className="text-uppercase",
                          title=STATE_HELP.get(r["state"], ""))
        error = html.Div([html.Small(_when(r["last_error_at"]), className="text-body-secondary d-block"),
                          html.Small(r["last_error"][:160])], title=r["last_error"]) if r["last_error"] else \
            html.Small("none", className="text-body-secondary")
        body.append(html.Tr([
            html.Td([html.Div(r["label"], className="fw-semibold"),
                     html.Small(f"{r['family']} · {r['plan']}", className="text-body-secondary d-block"),
                     html.Small(f"to go live set {missing}", className="text-body-secondary d-block")
                     if missing and r["mode"] != "live" else None]),
            html.Td([state, html.Small(f"breaker {r['breaker']}", className="d-block text-body-secondary"),
                     html.Small(polling.get(r["provider"], ""), className="d-block text-body-secondary"),
                     html.Small(f"last call {_when(r['last_call_at'])}" if r.get("last_call_at") else "no call yet",
                                className="d-block text-body-secondary")]),
            html.Td(_pct(r["success_rate_today"])),
            html.Td(f"{_ms(r['p50_ms'])} / {_ms(r['p95_ms'])}"),
            html.Td(f"{r['calls_today']:,} / {r['calls_month']:,}"),
            html.Td(f"{r['cost_today']:.2f} / {r['cost_month']:.2f} {r['cost_currency']}"),
            html.Td(quota_cell(r["quota_burn_today"], r["calls_today"], r["daily_quota"])),
            html.Td(error, style={"maxWidth": "28rem"}),
        ], id={"type": "int-row", "provider": r["provider"]}))
    return dbc.Table([header, html.Tbody(body)], id=IDS["table"], hover=True, responsive=True, size="sm",
                     className="align-middle mb-0")


def summary_text(rows: list[dict[str, Any]]) -> str:
    """Return a one-line count of providers per state, e.g. '3 live · 4 offline replay'."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    return " · ".join(f"{n} {state}" for state, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def calls_figure(timeline: Timeline, theme: str | None = "light") -> go.Figure:
    """Return stacked bars of calls per hour and provider."""
    fig = go.Figure([go.Bar(x=timeline.buckets, y=v, name=p) for p, v in sorted(timeline.calls.items())])
    fig.update_layout(barmode="stack", title="Calls per hour (UTC)", yaxis_title="calls")
    return style_figure(fig, theme, height=300)


def failures_figure(timeline: Timeline, theme: str | None = "light") -> go.Figure:
    """Return stacked bars of failed, fallback and rejected calls per hour and provider."""
    fig = go.Figure([go.Bar(x=timeline.buckets, y=v, name=p) for p, v in sorted(timeline.failures.items())
                     if any(v)])
    fig.update_layout(barmode="stack", title="Failures per hour (errors, fallbacks, breaker rejections)",
                      yaxis_title="calls")
    return style_figure(fig, theme, height=300)


def latency_figure(timeline: Timeline, theme: str | None = "light") -> go.Figure:
    """Return p95 latency (ms) per hour and provider, log scale."""
    fig = go.Figure([go.Scatter(x=timeline.buckets, y=v, name=p, mode="lines+markers", connectgaps=False)
                     for p, v in sorted(timeline.p95_ms.items())])
    fig.update_layout(title="p95 latency per hour (successful calls)", yaxis_title="ms", yaxis_type="log")
    return style_figure(fig, theme, height=300)


_FAILURE_BADGES = {
    "integration.failed": ("incident", "danger"), "integration.recovered": ("recovered", "success"),
    "call.error": ("error", "danger"), "call.fallback": ("fallback", "warning"), "call.rejected": ("breaker", "warning"),
}


def events_list(events: list[dict[str, Any]], hours: int = 48) -> Any:
    """Return the failed calls and integration incidents of the last ``hours`` hours (the failures
    chart's window) as a list group, or a note saying there were none."""
    if not events:
        return html.P(f"No failed calls and no integration incidents in the last {hours} hours.",
                      className="text-body-secondary mb-0")
    items = []
    for e in events:
        label, color = _FAILURE_BADGES.get(e["kind"], (e["kind"], "secondary"))
        items.append(dbc.ListGroupItem([
            html.Small(e["ts"].strftime("%Y-%m-%d %H:%M:%S UTC"), className="text-body-secondary me-2"),
            dbc.Badge(label, color=color, className="me-2"),
            html.Span(e["message"][:300]),
        ]))
    return dbc.ListGroup(items, flush=True)


def component_states() -> dict[str, dict[str, Any]]:
    """Return ``{component name: its health()}`` for the components of the process's services."""
    from core.runtime import services

    states: dict[str, dict[str, Any]] = {}
    for component in services().components:
        try:
            states[component.name] = component.health()
        except Exception as exc:
            states[component.name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:200]}
    return states


def _with_parts(states: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Return (name, health) per component, each followed by its parts (a SCADA adapter per broker or device)."""
    out = []
    for name, health in states.items():
        out.append((name, health))
        for part, part_health in (health.get("adapters") or {}).items():
            out.append((f"{name} · {part}", part_health))
    return out


def components_table(states: dict[str, dict[str, Any]]) -> Any:
    """Return a table of the process's components and their health status (or a note when there are none)."""
    if not states:
        return html.Span("no long-lived components run in this process", className="text-body-secondary small")
    rows = []
    for name, health in _with_parts(states):
        status = str(health.get("status", "unknown"))
        detail = health.get("last_error") or health.get("error") or health.get("state") or ""
        if health.get("stale_devices"):
            detail = f"stale: {', '.join(health['stale_devices'])}" + (f"; {detail}" if detail else "")
        rows.append(html.Tr([html.Td(name), html.Td(dbc.Badge(status, color=COMPONENT_COLORS.get(status, "light"))),
                             html.Td(str(detail)[:200], className="small text-body-secondary")]))
    return dbc.Table([html.Thead(html.Tr([html.Th("Component"), html.Th("Status"), html.Th("Detail")])),
                      html.Tbody(rows)], size="sm", className="mb-0", id=IDS["components"] + "-table")


def integrations_view(theme: str | None = "light") -> dict[str, Any]:
    """Return every piece of the integrations page for the current state of the gateway and call log."""
    from connectors.polling import polling_note
    from core.runtime import db, services
    from gateway import get_gateway
    from gateway.status import integration_status

    gateway = get_gateway()
    gateway.call_log.flush()
    enabled = services().settings.provider_polling_enabled
    with db().read_session() as session:
        rows = integration_status(gateway, session)
        timeline = hourly_timeline(session, hours=48)
        events = failure_log(session, hours=48, limit=15)
    return {
        "table": status_table(rows, {r["provider"]: polling_note(gateway, r["provider"], enabled) for r in rows}),
        "summary": summary_text(rows),
        "calls": calls_figure(timeline, theme),
        "failures": failures_figure(timeline, theme),
        "latency": latency_figure(timeline, theme),
        "events": events_list(events),
        "components": components_table(component_states()),
        "updated": "updated " + dt.datetime.now(dt.UTC).strftime("%H:%M:%S UTC"),
    }


def register(app: Dash) -> None:
    """Attach the integrations refresh callback to ``app``."""

    @app.callback(
        Output(IDS["summary"], "children"), Output(IDS["table"] + "-wrap", "children"),
        Output(IDS["calls"], "figure"), Output(IDS["failures"], "figure"), Output(IDS["latency"], "figure"),
        Output(IDS["events"], "children"), Output(IDS["components"], "children"), Output(IDS["updated"], "children"),
        Input(IDS["refresh"], "n_intervals"), Input("shell-theme", "data"),
        prevent_initial_call=True,
    )
    def refresh(_n: int | None, theme: str | None):
        view = integrations_view(theme)
        return (view["summary"], view["table"], view["calls"], view["failures"], view["latency"], view["events"],
                view["components"], view["updated"])
