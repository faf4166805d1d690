"""Wall display callbacks: pushed batches feed the shared live state (assets/live_push.js) and
assets/wall.js redraws the screen once a second; the alerts panel is re-read every 30 s."""
from __future__ import annotations

import datetime as dt

from dash import ClientsideFunction, Dash, Input, Output, html
from sqlalchemy import select

from core.runtime import db
from data.models import Alert, AlertState, Event, utcnow
from security.scope import current_scope

IDS = {
    "root": "wall-root", "socket": "wall-socket", "meta": "wall-meta", "sink_sites": "wall-sink-sites",
    "sink_prices": "wall-sink-prices", "sink_meta": "wall-sink-meta", "sink_markets": "wall-sink-markets", "alerts_refresh": "wall-alerts-refresh",
    "clock": "wall-clock", "dot": "wall-dot", "conn": "wall-conn", "banner": "fl-live-banner",
    "board": "wall-board", "prices": "wall-prices", "alerts": "wall-alerts",
}
EVENT_KINDS = ("anomaly.detected", "integration.failed", "integration.recovered")
SEVERITY_CLASS = {"critical": "danger", "warning": "warning", "info": "info"}


def recent_alerts(limit: int = 8) -> list[dict[str, str]]:
    """Return open or acknowledged alerts and recent operational events (24 h), newest first.

    A caller scoped to some portfolios sees the alerts of their sites and the integration events
    (which name no site); anomaly events carry a site and are left to the alerts they raise.
    """
    since = utcnow() - dt.timedelta(hours=24)
    out: list[tuple[dt.datetime, dict[str, str]]] = []
    scope = current_scope()
    alerts = select(Alert).where(Alert.state != AlertState.resolved)
    kinds: tuple[str, ...] = EVENT_KINDS
    if scope.site_ids is not None:
        alerts = alerts.where(Alert.site_id.in_(sorted(scope.site_ids)))
        kinds = tuple(k for k in EVENT_KINDS if k.startswith("integration."))
    with db().read_session() as session:
        for a in session.execute(alerts.order_by(Alert.opened_at.desc()).limit(limit)).scalars():
            out.append((a.opened_at, {"severity": a.severity, "title": a.title, "when": a.opened_at.strftime("%H:%M"),
                                      "what": a.state.value}))
        for e in session.execute(
            select(Event).where(Event.kind.in_(kinds), Event.ts >= since).order_by(Event.ts.desc()).limit(limit)
        ).scalars():
            severity = "info" if e.kind.endswith("recovered") else "warning"
            title = (e.payload or {}).get("message") or (e.payload or {}).get("error") or f"{e.entity_type} {e.entity_id}"
            out.append((e.ts, {"severity": severity, "title": f"{e.kind}: {str(title)[:120]}",
                               "when": e.ts.strftime("%H:%M"), "what": e.entity_id}))
    out.sort(key=lambda item: item[0], reverse=True)
    return [item for _ts, item in out[:limit]]


def alerts_panel() -> html.Div:
    """Return the alerts list for the wall (or a calm 'nothing open' line)."""
    items = recent_alerts()
    if not items:
        return html.Div([html.I(className="bi bi-check-circle me-2"), "No open alerts, no integration failures in 24 h"],
                        className="wall-alert wall-alert-ok")
    return html.Div([
        html.Div([html.Span(i["when"], className="wall-alert-time"), html.Span(i["title"], className="wall-alert-title")],
                 className=f"wall-alert border-start border-4 border-{SEVERITY_CLASS.get(i['severity'], 'secondary')}")
        for i in items
    ])


def register(app: Dash) -> None:
    """Attach the wall callbacks to ``app``."""
    app.clientside_callback(ClientsideFunction("fleetlight_live", "sitesForMarkets"),
                            Output(IDS["sink_sites"], "data"), Input(IDS["socket"], "data-live_sites"))
    app.clientside_callback(ClientsideFunction("fleetlight_live", "applyPrices"),
                            Output(IDS["sink_prices"], "data"), Input(IDS["socket"], "data-markets_prices"))
    app.clientside_callback(ClientsideFunction("fleetlight_live", "applyMarketKpis"),
                            Output(IDS["sink_markets"], "data"), Input(IDS["socket"], "data-market_kpis"))
    app.clientside_callback(ClientsideFunction("fleetlight_live", "connection"),
                            Output(IDS["conn"], "children"), Input(IDS["socket"], "connected"))
    app.clientside_callback(ClientsideFunction("fleetlight_wall", "setMeta"),
                            Output(IDS["sink_meta"], "data"), Input(IDS["meta"], "data"))
    app.callback(Output(IDS["alerts"], "children"), Input(IDS["alerts_refresh"], "n_intervals"),
                 prevent_initial_call=True)(lambda _n: alerts_panel())
