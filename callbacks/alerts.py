"""Alerts page callbacks and the pure builders behind them.

The table, the KPIs and the site timeline are re-read from the store when an ``alert_changed``
push arrives (room ``alerts``), when a filter changes, or after an action on this page.
Acknowledge, resolve and the rules editor check the caller's permission on the server
(``alerts:ack``, ``alerts:manage``): a viewer sees no buttons, and a forged request is refused.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Dash, Input, Output, State, html, no_update

from alerts.lifecycle import AlertActionError, alert_json, book_of
from alerts.response import response_times
from components.theme import style_figure
from core.runtime import db, services
from data.alert_queries import alert_rows, rule_names, site_names
from data.models import Alert, utcnow
from security.access import AccessDenied, check, current_caller

IDS = {
    "socket": "al-socket", "conn": "al-conn", "state": "al-f-state", "severity": "al-f-severity", "site": "al-f-site",
    "rule": "al-f-rule", "table": "al-table", "kpi_active": "al-kpi-active", "kpi_critical": "al-kpi-critical",
    "kpi_mtta": "al-kpi-mtta", "kpi_mttr": "al-kpi-mttr", "comment": "al-comment", "ack": "al-ack",
    "resolve": "al-resolve", "result": "al-result", "selected": "al-selected", "bump": "al-bump",
    "tl_site": "al-tl-site", "timeline": "al-timeline", "updated": "al-updated",
    "r_kind": "al-r-kind", "r_edit": "al-r-edit", "r_body": "al-r-body", "r_preview": "al-r-preview",
    "r_save": "al-r-save", "r_toggle": "al-r-toggle", "r_result": "al-r-result", "r_table": "al-r-table",
    "w_kind": "al-w-kind", "w_site": "al-w-site", "w_hours": "al-w-hours", "w_reason": "al-w-reason",
    "w_create": "al-w-create", "w_result": "al-w-result", "w_list": "al-w-list",
}
SEVERITY_COLORS = {"critical": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}
STATE_COLORS = {"open": "#d62728", "acknowledged": "#ff7f0e", "suppressed": "#7f7f7f", "resolved": "#2ca02c"}
TIMELINE_DAYS = 7


def _when(value: str | None) -> str:
    return "" if not value else dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def can_act(permission: str = "alerts:ack") -> bool:
    """Return True if the current caller holds ``permission`` (the page shows buttons only then)."""
    caller = current_caller()
    return caller is not None and caller.may(permission)


def _visible() -> frozenset[str] | None:
    from security.scope import current_visible_site_ids

    visible = current_visible_site_ids()
    return None if visible is None else frozenset(visible)


def table_rows(alerts: list[dict[str, Any]], sites: dict[str, str], rules: dict[int, str]) -> list[dict[str, Any]]:
    """Return the table's rows for ``alerts`` (alert_json dicts)."""
    out = []
    for a in alerts:
        comments = "; ".join(c for c in (a["ack_comment"], a["resolve_comment"]) if c)
        out.append({
            "id": a["id"], "severity": a["severity"], "state": a["state"], "title": a["title"],
            "site": sites.get(a["site_id"] or "", a["site_id"] or "fleet-wide"), "asset": a["asset_id"] or "",
            "rule": rules.get(a["rule_id"], a["rule"]) if a["rule_id"] else a["rule"],
            "opened": _when(a["opened_at"]), "by": a["acknowledged_by"] or a["resolved_by"] or "",
            "reason": a["suppressed_reason"] or "", "comments": comments, "occurrences": a["occurrences"],
            "message": a["message"],
        })
    return out


def load_view(state: str | None, severity: str | None, site_id: str | None, rule_id: Any) -> dict[str, Any]:
    """Return the table rows and the KPI texts for the filters (within the caller's scope)."""
    visible = _visible()
    now = utcnow()
    with db().read_session() as session:
        sites = site_names(session, visible)
        rules = rule_names(session)
        rows = [alert_json(a) for a in alert_rows(
            session, state=state or "active", severity=severity or None, site_id=site_id or None,
            rule_id=int(rule_id) if rule_id not in (None, "") else None, visible=visible, limit=1000)]
        active = [alert_json(a) for a in alert_rows(session, state="active", visible=visible, limit=5000)]
        figures = response_times(session, now - dt.timedelta(days=30), now, visible)
    shown = [a for a in active if a["state"] != "suppressed"]
    return {
        "rows": table_rows(rows, sites, rules),
        "active": f"{len(shown):,}", "active_detail": f"{len(active) - len(shown):,} more suppressed",
        "critical": f"{sum(a['severity'] == 'critical' for a in shown):,}",
        "mtta": figures.as_dict()["mtta_text"], "mtta_detail": f"over {figures.acknowledged:,} acknowledged, 30 days",
        "mttr": figures.as_dict()["mttr_text"], "mttr_detail": f"over {figures.resolved:,} resolved, 30 days",
        "updated": f"read {now.strftime('%H:%M UTC')}",
    }


def timeline_figure(site_id: str | None, theme: str | None, now: dt.datetime | None = None) -> go.Figure:
    """Return the site's alerts of the last 7 days as segments from opened to resolved (or now), by severity."""
    now = now or utcnow().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)  # axis to the next minute
    fig = go.Figure()
    visible = _visible()
    if site_id and (visible is None or site_id in visible):  # a site out of scope answers as an unknown one
        with db().read_session() as session:
            from sqlalchemy import or_, select

            since = now - dt.timedelta(days=TIMELINE_DAYS)
            alerts = session.execute(select(Alert).where(
                Alert.site_id == site_id, or_(Alert.resolved_at.is_(None), Alert.resolved_at >= since))
                .order_by(Alert.opened_at)).scalars().all()
            for severity in ("critical", "warning", "info"):
                mine = [a for a in alerts if a.severity == severity]
                if not mine:
                    continue
                xs: list[Any] = []
                ys: list[Any] = []
                texts: list[Any] = []
                for a in mine:  # a segment from opened (marker) to resolved or now
                    label = f"#{a.id} {a.asset_id or 'site'}"
                    xs += [max(a.opened_at, since), a.resolved_at or now, None]
                    ys += [label, label, None]
                    texts += [f"{a.title} ({a.state.value})"] * 2 + [None]
                fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=severity, text=texts,
                                         line={"color": SEVERITY_COLORS[severity], "width": 8},
                                         marker={"color": SEVERITY_COLORS[severity], "size": 10},
                                         hovertemplate="%{text}<br>%{x}<extra></extra>"))
    fig.update_layout(title=f"Alerts of the last {TIMELINE_DAYS} days" if site_id else
                      "Choose a site to see its alerts", xaxis={"type": "date", "range": [
                          (now - dt.timedelta(days=TIMELINE_DAYS)).isoformat(), now.isoformat()]},
                      yaxis={"autorange": "reversed"}, legend={"orientation": "h"})
    if site_id and not fig.data:
        fig.add_annotation(text="No alert at this site in the last 7 days", showarrow=False, xref="paper",
                           yref="paper", x=0.5, y=0.5)
    return style_figure(fig, theme, height=320)


def busiest_site(sites: dict[str, str], now: dt.datetime | None = None) -> str | None:
    """Return the site (of ``sites``, the caller's) with the most alerts opened in the last 7 days, or None."""
    from sqlalchemy import func, select

    since = (now or utcnow()) - dt.timedelta(days=TIMELINE_DAYS)
    with db().read_session() as session:
        counts = session.execute(select(Alert.site_id, func.count()).where(
            Alert.opened_at >= since, Alert.site_id.is_not(None)).group_by(Alert.site_id)
            .order_by(func.count().desc())).all()
    return next((sid for sid, _n in counts if sid in sites), None)


def act(action: str, selected: list[dict[str, Any]] | None, comment: str | None) -> tuple[Any, int]:
    """Acknowledge or resolve the selected alert; return (message, bump)."""
    try:
        caller = check("alerts:ack")
    except AccessDenied as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 mb-0"), 0
    if not selected:
        return dbc.Alert("Select an alert in the table first.", color="warning", className="py-2 mb-0"), 0
    alert_id = int(selected[0]["id"])
    visible = _visible()
    with db().read_session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None or (alert.site_id is not None and visible is not None and alert.site_id not in visible):
            return dbc.Alert(f"No alert with id {alert_id}.", color="danger", className="py-2 mb-0"), 0
    book = book_of(services())
    try:
        done = (book.acknowledge if action == "ack" else book.resolve)(alert_id, caller.name, (comment or "")[:500])
    except AlertActionError as exc:
        return dbc.Alert(str(exc), color="warning", className="py-2 mb-0"), 0
    verb = "acknowledged" if action == "ack" else "resolved"
    return dbc.Alert(f"Alert #{done['id']} {verb}.", color="success", className="py-2 mb-0"), 1


def rules_table(rules: list[dict[str, Any]]) -> Any:
    """Return the rules list as a small table."""
    if not rules:
        return html.P("No rule yet.", className="text-body-secondary small mb-0")
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", "Name", "Kind", "Severity", "Site", "Enabled", "Version")]))
    body = html.Tbody([html.Tr([html.Td(r["id"]), html.Td(r["name"]), html.Td(r["kind"]), html.Td(r["severity"]),
                                html.Td(r.get("site_id") or "all"), html.Td("yes" if r["enabled"] else "no"),
                                html.Td(r["version"])]) for r in rules])
    return dbc.Table([head, body], size="sm", hover=True, className="mb-0 small")


def preview_view(result: dict[str, Any]) -> Any:
    """Return what a preview found, as a short list."""
    items = [html.Li(f"{_when(a['ts'])} · {a['subject']} · {a['title']}") for a in result["alerts"][:20]]
    more = result["raised"] - len(items)
    return html.Div([
        html.P([html.Strong(f"{result['raised']:,} alerts"), f" would have been raised over the last 7 days "
                f"({result['basis']}; {result['note']})."], className="mb-1"),
        html.Ul(items + ([html.Li(f"… and {more:,} more")] if more > 0 else []), className="small mb-0"),
    ])


def silences_view(rows: list[dict[str, Any]], sites: dict[str, str]) -> Any:
    """Return the maintenance windows and silences in force or to come, as a list."""
    if not rows:
        return html.P("No maintenance window or silence in force.", className="text-body-secondary small mb-0")
    return html.Ul([html.Li([html.Strong(r["kind"]), f" · {sites.get(r['site_id'] or '', r['site_id'] or 'any site')}"
                             f"{' · asset ' + r['asset_id'] if r['asset_id'] else ''}"
                             f"{' · rule #' + str(r['rule_id']) if r['rule_id'] else ''}"
                             f" · {_when(r['starts_at'])} to {_when(r['ends_at'])} · {r['created_by']}"
                             + (f": {r['reason']}" if r["reason"] else "")]) for r in rows], className="small mb-0")


def create_window(kind: str | None, site_id: str | None, hours: Any, reason: str | None) -> Any:
    """Create a maintenance window or silence from now for ``hours`` on ``site_id``; return the message."""
    from alerts.rules import RuleError
    from alerts.silences import create_silence

    try:
        caller = check("alerts:manage")
    except AccessDenied as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 mb-0")
    visible = _visible()
    if site_id and visible is not None and site_id not in visible:  # answers as for an unknown site
        return dbc.Alert(f"invalid window: site_id: no such site {site_id!r}", color="danger", className="py-2 mb-0")
    try:
        length = float(hours)
    except (TypeError, ValueError):
        return dbc.Alert("Hours: give a number of hours, e.g. 4.", color="danger", className="py-2 mb-0")
    now = utcnow()
    try:
        done = create_silence(db(), {"kind": kind or "maintenance", "site_id": site_id or None,
                                     "starts_at": now.isoformat(),
                                     "ends_at": (now + dt.timedelta(hours=length)).isoformat(),
                                     "reason": reason or ""}, caller.name)
    except RuleError as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 mb-0")
    book_of(services()).settle()
    return dbc.Alert(f"{done['kind'].capitalize()} #{done['id']} until {_when(done['ends_at'])}.", color="success",
                     className="py-2 mb-0")


def _parse(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise ValueError(f"the definition is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def register(app: Dash) -> None:
    """Attach the alerts page callbacks to ``app``."""
    from alerts.preview import preview_rule
    from alerts.rules import TEMPLATES, RuleError, create_rule, list_rules, set_enabled, update_rule

    @app.callback(
        Output(IDS["table"], "rowData"), Output(f"{IDS['kpi_active']}-value", "children"),
        Output(f"{IDS['kpi_active']}-detail", "children"), Output(f"{IDS['kpi_critical']}-value", "children"),
        Output(f"{IDS['kpi_mtta']}-value", "children"), Output(f"{IDS['kpi_mtta']}-detail", "children"),
        Output(f"{IDS['kpi_mttr']}-value", "children"), Output(f"{IDS['kpi_mttr']}-detail", "children"),
        Output(IDS["updated"], "children"),
        Input(IDS["socket"], "data-alert_changed"), Input(IDS["state"], "value"), Input(IDS["severity"], "value"),
        Input(IDS["site"], "value"), Input(IDS["rule"], "value"), Input(IDS["bump"], "data"),
        prevent_initial_call=True)
    def refresh(_push, state, severity, site_id, rule_id, _bump):
        v = load_view(state, severity, site_id, rule_id)
        return (v["rows"], v["active"], v["active_detail"], v["critical"], v["mtta"], v["mtta_detail"], v["mttr"],
                v["mttr_detail"], v["updated"])

    @app.callback(Output(IDS["timeline"], "figure"), Input(IDS["tl_site"], "value"), Input("shell-theme", "data"),
                  Input(IDS["socket"], "data-alert_changed"))
    def timeline(site_id, theme, _push):
        return timeline_figure(site_id, theme)

    @app.callback(Output(IDS["selected"], "children"), Input(IDS["table"], "selectedRows"))
    def selected(rows):
        if not rows:
            return "No alert selected: click a row of the table."
        r = rows[0]
        return [html.Strong(f"#{r['id']} "), r["title"], html.Span(f" ({r['state']})", className="text-body-secondary")]

    @app.callback(Output(IDS["result"], "children"), Output(IDS["bump"], "data"),
                  Input(IDS["ack"], "n_clicks"), Input(IDS["resolve"], "n_clicks"),
                  State(IDS["table"], "selectedRows"), State(IDS["comment"], "value"), State(IDS["bump"], "data"),
                  prevent_initial_call=True)
    def on_action(n_ack, n_resolve, rows, comment, bump):
        from dash import ctx

        action = "ack" if ctx.triggered_id == IDS["ack"] else "resolve"
        message, changed = act(action, rows, comment)
        return message, (bump or 0) + changed if changed else no_update

    @app.callback(Output(IDS["r_body"], "value"), Input(IDS["r_kind"], "value"), Input(IDS["r_edit"], "value"),
                  prevent_initial_call=True)
    def template(kind, edit_id):
        from dash import ctx

        if ctx.triggered_id == IDS["r_edit"] and edit_id:
            rule = next((r for r in list_rules(db()) if r["id"] == int(edit_id)), None)
            if rule is None:
                return no_update
            keep = {k: v for k, v in rule.items() if k not in ("id", "version", "created_at", "updated_at",
                                                                "updated_by")}
            return json.dumps(keep, indent=2)
        return json.dumps(TEMPLATES.get(kind or "threshold", TEMPLATES["threshold"]), indent=2)

    @app.callback(Output(IDS["r_result"], "children"), Output(IDS["r_table"], "children"),
                  Output(IDS["r_edit"], "options"), Output(IDS["rule"], "options"),
                  Input(IDS["r_preview"], "n_clicks"), Input(IDS["r_save"], "n_clicks"),
                  Input(IDS["r_toggle"], "n_clicks"), State(IDS["r_body"], "value"), State(IDS["r_edit"], "value"),
                  prevent_initial_call=True)
    def rules_action(_p, _s, _t, text, edit_id):
        from dash import ctx

        try:
            caller = check("alerts:manage")
        except AccessDenied as exc:
            return dbc.Alert(str(exc), color="danger", className="py-2 mb-0"), no_update, no_update, no_update
        try:
            if ctx.triggered_id == IDS["r_toggle"]:
                if not edit_id:
                    raise RuleError(422, "choose a rule to enable or disable")
                current = next(r for r in list_rules(db()) if r["id"] == int(edit_id))
                done = set_enabled(db(), int(edit_id), not current["enabled"], caller.name)
                message: Any = dbc.Alert(f"Rule #{done['id']} {'enabled' if done['enabled'] else 'disabled'} "
                                         f"(version {done['version']}).", color="success", className="py-2 mb-0")
            else:
                body = _parse(text)
                if ctx.triggered_id == IDS["r_preview"]:
                    with db().read_session() as session:
                        return preview_view(preview_rule(session, body, visible=_visible())), no_update, no_update, \
                            no_update
                done = update_rule(db(), int(edit_id), body, caller.name) if edit_id else \
                    create_rule(db(), body, caller.name)
                message = dbc.Alert(f"Rule #{done['id']} saved (version {done['version']}).", color="success",
                                    className="py-2 mb-0")
        except (RuleError, ValueError) as exc:
            return dbc.Alert(str(exc), color="danger", className="py-2 mb-0"), no_update, no_update, no_update
        engine = services().rule_engine
        if engine is not None:
            engine.reload_rules()
        rules = list_rules(db())
        options = [{"label": f"#{r['id']} {r['name']}", "value": r["id"]} for r in rules]
        return message, rules_table(rules), options, options

    @app.callback(Output(IDS["w_result"], "children"), Output(IDS["w_list"], "children"),
                  Input(IDS["w_create"], "n_clicks"), State(IDS["w_kind"], "value"), State(IDS["w_site"], "value"),
                  State(IDS["w_hours"], "value"), State(IDS["w_reason"], "value"), prevent_initial_call=True)
    def window(_n, kind, site_id, hours, reason):
        from data.alert_queries import active_silences

        message = create_window(kind, site_id, hours, reason)
        visible = _visible()
        with db().read_session() as session:
            rows = [r for r in active_silences(session, utcnow())
                    if visible is None or r["site_id"] is None or r["site_id"] in visible]
            sites = site_names(session, visible)
        return message, silences_view(rows, sites)

    app.clientside_callback(
        "function(c){return c ? 'live' : 'connecting';}", Output(IDS["conn"], "children"),
        Input(IDS["socket"], "connected"))
