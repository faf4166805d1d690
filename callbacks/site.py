"""Site page: view assembly; live by push from the room ``site:<id>``.

The KPI tiles take the ``text`` of the pushed site <kpi payload> clientside (assets/live_push.js);
each push also asks the server to redraw the chart, the asset table, the weather and the status.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update

from callbacks.kpi_texts import first_paint_texts
from components.figures import site_output_figure
from components.kpi import kpi_text, scope_key
from components.performance_view import kpi_tiles
from components.time_range import RESOLUTION_LABELS, parse_range
from core.runtime import db
from data.fleet import asset_latest, get_site, site_status
from data.models import Alert, WeatherAlert, utcnow
from data.performance_queries import performance_for
from data.telemetry_queries import site_power_series
from domain.kinds import counts_as_site_power
from security.scope import current_site_visible

IDS = {"site_id": "site-id", "socket": "site-socket", "push": "site-push", "title": "site-title", "kpi": "site-kpi",
       "chart": "site-chart", "assets": "site-assets", "not_found": "site-not-found", "weather": "site-weather",
       "alerts": "site-alerts", "performance": "site-performance", "range": "site-range",
       "range_query": "site-range-query"}
PERFORMANCE_PREFIX = "site-pf"
PERFORMANCE_DAYS = 7
PERFORMANCE_KEYS = ("actual_energy_mwh", "expected_energy_mwh", "performance_index_pct", "performance_ratio_pct",
                    "availability_time_technical_pct", "capacity_factor_pct")


def performance_section(session: Any, site_id: str, now: dt.datetime) -> html.Div:
    """Return the site's period KPIs over the last 7 UTC days (the /performance model) and a link to the page."""
    end = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    start = end - dt.timedelta(days=PERFORMANCE_DAYS)
    _configs, report = performance_for(session, [site_id], start, end, "1d")
    last = (end - dt.timedelta(days=1)).date()
    return html.Div([
        html.Div([
            html.Span(f"Performance, {start:%Y-%m-%d} → {last:%Y-%m-%d} (UTC days)", className="fw-semibold me-2"),
            dcc.Link("details on the performance page",
                     href=f"/performance?site={site_id}&start={start:%Y-%m-%d}&end={last:%Y-%m-%d}", className="small"),
        ], className="mb-2"),
        kpi_tiles(PERFORMANCE_PREFIX, PERFORMANCE_KEYS, report.kpis, md=2),
    ], id=IDS["performance"], className="mb-2")


def _assets_table(assets: list[Any], latest: dict[str, dict[str, tuple[dt.datetime, float]]]) -> dbc.Table:
    header = html.Thead(html.Tr([html.Th(h) for h in ("Asset", "Type", "Capacity kW", "Power kW", "Last update (UTC)")]))
    body = []
    for a in sorted(assets, key=lambda x: x.id):
        ts_value = latest.get(a.id, {}).get("power_kw")
        body.append(html.Tr([
            html.Td(a.name), html.Td(a.kind.value), html.Td(f"{a.capacity_kw:,.0f}"),
            html.Td("—" if ts_value is None else f"{ts_value[1]:,.1f}"),
            html.Td("never" if ts_value is None else ts_value[0].strftime("%Y-%m-%d %H:%M:%S")),
        ]))
    return dbc.Table([header, html.Tbody(body)], size="sm", hover=True, responsive=True, className="mb-0")


WEATHER_METRICS = (("wind_speed_ms", "Wind speed", "m/s", 1), ("wind_direction_deg", "Wind direction", "°", 0),
                   ("irradiance_wm2", "Irradiance", "W/m²", 0), ("temperature_c", "Temperature", "°C", 1))


def _weather_now(assets: list[Any], latest: dict[str, dict[str, tuple[dt.datetime, float]]]) -> html.Div:
    """Return the site's latest weather readings (from its met sensors) as a compact list."""
    rows = []
    for metric, label, unit, digits in WEATHER_METRICS:
        values = [latest[a.id][metric] for a in assets if metric in latest.get(a.id, {})]
        if not values:
            continue
        ts = max(v[0] for v in values)
        mean = sum(v[1] for v in values) / len(values)
        rows.append(html.Tr([html.Td(label), html.Td(f"{mean:,.{digits}f} {unit}", className="text-end fw-semibold"),
                             html.Td(ts.strftime("%H:%M:%S UTC"), className="text-body-secondary small text-end")]))
    if not rows:
        return html.Div("No weather sensor reports for this site.", className="text-body-secondary small")
    return dbc.Table(html.Tbody(rows), size="sm", className="mb-0")


def _recent_alerts(session: Any, site_id: str, limit: int = 10) -> html.Div:
    """Return the site's latest alerts and severe-weather alerts, newest first."""
    from sqlalchemy import select

    items: list[tuple[dt.datetime, str, str, str]] = []
    for a in session.execute(select(Alert).where(Alert.site_id == site_id).order_by(Alert.opened_at.desc()).limit(limit)).scalars():
        items.append((a.opened_at, a.severity, a.title, a.state.value))
    for w in session.execute(select(WeatherAlert).where(WeatherAlert.site_id == site_id)
                             .order_by(WeatherAlert.onset.desc()).limit(limit)).scalars():
        items.append((w.onset or utcnow(), w.severity.lower() or "warning", f"{w.event}: {w.headline}"[:200], w.source))
    if not items:
        return html.Div("No alerts for this site.", className="text-body-secondary small", id=IDS["alerts"])
    items.sort(key=lambda i: i[0], reverse=True)
    color = {"critical": "danger", "severe": "danger", "extreme": "danger", "warning": "warning", "moderate": "warning"}
    return html.Div([
        html.Div([dbc.Badge(sev, color=color.get(sev, "secondary"), className="me-2"), html.Span(title),
                  html.Span(f" · {what} · {when.strftime('%Y-%m-%d %H:%M')} UTC", className="text-body-secondary small")],
                 className="mb-1")
        for when, sev, title, what in items[:limit]
    ], id=IDS["alerts"])


def _tiles(site_id: str, texts: dict[str, str], status: str, assets: int) -> list[dict[str, Any]]:
    """Return the KPI tiles of the site page: the site <kpi payload> texts, then status and assets."""
    scope = scope_key("site", site_id)
    return [
        {"name": "output", "label": "Output now", "value": texts["output_mw"], "icon": "bi-lightning-charge",
         "detail": ["of ", kpi_text(scope, "capacity_mw", texts), " capacity"], "slot": (scope, "output_mw")},
        {"name": "expected", "label": "Expected from weather", "value": texts["expected_mw"], "icon": "bi-cloud-sun",
         "detail": "from the weather this site measures", "slot": (scope, "expected_mw")},
        {"name": "energy", "label": "Energy today (UTC)", "value": texts["energy_today_mwh"],
         "icon": "bi-battery-charging", "detail": "since 00:00 UTC, measured power over time",
         "slot": (scope, "energy_today_mwh")},
        {"name": "status", "label": "Status", "value": status, "icon": "bi-activity",
         "detail": f"{assets:,} assets", "slot": None},
    ]


def site_view(site_id: str, theme: str | None, query: dict[str, Any] | None = None,
              performance: bool = False) -> dict[str, Any] | None:
    """Return the site page's content for the time range the page's ``query`` names
    (``components.time_range.parse_range``: ``range=7d`` or ``from``/``to``; default the last 24 h),
    or None when ``site_id`` is unknown.

    ``performance`` adds the period KPI section (first paint only: a push does not change last week).
    """
    now = utcnow()
    span = parse_range(query or {}, now)
    if not current_site_visible(site_id):  # the caller's portfolio scope
        return None
    with db().read_session() as session:
        site = get_site(session, site_id)
        if site is None:
            return None
        assets = list(site.assets)
        latest = asset_latest(session, [a.id for a in assets])
        series = site_power_series(session, site_id, span.start, span.end, span.resolution)
        alerts = _recent_alerts(session, site_id)
        section = performance_section(session, site_id, now) if performance else None
    texts = first_paint_texts("site", site_id)
    power = [v["power_kw"] for a in assets if counts_as_site_power(site.kind, a.kind)
             for v in [latest.get(a.id, {})] if "power_kw" in v]
    output_mw = sum(p[1] for p in power) / 1000.0 if power else None
    last = max((p[0] for p in power), default=None)
    status = site_status(output_mw, site.capacity_mw, last, now)
    loc = "no coordinates" if site.latitude is None or site.longitude is None else f"{site.latitude:.4f}, {site.longitude:.4f}"
    return {
        "name": site.name,
        "subtitle": f"{site.kind.value.capitalize()} · {site.market} {site.pricing_node} · {site.region or site.country} · {loc} · {site.timezone}",
        "derived": site.data_origin == "derived",
        "origin_label": "derived demo data" if site.data_origin == "derived" else "measured data",
        "tiles": _tiles(site_id, texts, status, len(assets)),
        "status": status,
        "figure": site_output_figure(series, site.capacity_mw, theme, span.label(), RESOLUTION_LABELS[span.resolution],
                                     (span.start, span.end)),
        "range": span,
        "assets_table": _assets_table(assets, latest),
        "weather": _weather_now(assets, latest),
        "alerts": alerts,
        "performance": section,
        "data_source": site.data_source or "—",
    }


def custom_range_href(path: str, start: str | None, end: str | None, query: dict | None) -> Any:
    """Return the page link of the custom range [start, end] (dates), or no_update when it is
    incomplete or already the page's range (the pickers report their first values too)."""
    if not start or not end:
        return no_update
    wanted = parse_range({"from": start, "to": end}, utcnow())
    if wanted.preset is not None:  # not a valid custom range (reversed or too long): keep the page's
        return no_update
    shown = parse_range(query or {}, utcnow())
    if shown.preset is None and (shown.start, shown.end) == (wanted.start, wanted.end):
        return no_update
    current = shown.start.date().isoformat(), (shown.end - dt.timedelta(microseconds=1)).date().isoformat()
    if shown.preset is not None and (start[:10], end[:10]) == current:
        return no_update
    return path + wanted.query()


def register(app: Dash) -> None:
    """Attach the site page callbacks to ``app``."""
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "applySite"),
        Output(IDS["push"], "data"), Input(IDS["socket"], "data-site_live"),
    )

    @app.callback(
        Output(f"{IDS['range']}-url", "href"), Input(f"{IDS['range']}-dates", "start_date"),
        Input(f"{IDS['range']}-dates", "end_date"), State(IDS["site_id"], "data"), State(IDS["range_query"], "data"),
        prevent_initial_call=True,
    )
    def custom_range(start: str | None, end: str | None, site_id: str, query: dict | None):
        return custom_range_href(f"/sites/{site_id}", start, end, query)

    @app.callback(
        Output(IDS["chart"], "figure"), Output(IDS["assets"], "children"), Output(IDS["weather"], "children"),
        Output(f"{IDS['kpi']}-status-value", "children"),
        Input(IDS["socket"], "data-site_live"), Input("shell-theme", "data"), State(IDS["site_id"], "data"),
        State(IDS["range_query"], "data"), prevent_initial_call=True,
    )
    def refresh(_push: dict | None, theme: str | None, site_id: str, query: dict | None):
        view = site_view(site_id, theme, query)
        if view is None:
            return {}, html.Div("This site no longer exists.", className="text-warning-emphasis"), "", "—"
        return view["figure"], view["assets_table"], view["weather"], view["status"]
