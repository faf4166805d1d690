"""Alerts and alert rules under /api/v1.

* ``GET /alerts`` (filters), ``GET /alerts/<id>``, ``GET /alerts/metrics`` (MTTA, MTTR),
  ``POST /alerts/<id>/ack`` and ``/resolve`` with a comment (``alerts:ack``: operators and above).
* ``GET /alert-rules``, ``POST /alert-rules``, ``GET|PUT /alert-rules/<id>`` (with its versions
  from the event log), ``POST /alert-rules/<id>/enable|disable``, ``POST /alert-rules/preview``
  (what the rule would have raised over the last 7 days) (``alerts:manage`` to change).
* ``GET|POST /alert-silences``: maintenance windows and silences (``alerts:manage`` to create).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from alerts.lifecycle import AlertActionError, alert_json, book_of
from alerts.preview import preview_rule
from alerts.response import response_times
from alerts.rules import KINDS, RuleError, create_rule, list_rules, rule_history, rule_json, set_enabled, update_rule
from alerts.silences import SilenceBody, create_silence
from api import spec
from api.errors import ApiError
from core.runtime import db, services
from data.alert_queries import active_silences, alert_rows
from data.models import Alert, AlertRule, utcnow
from security.access import check, require

MAX_ID = 2_147_483_647


class AlertQuery(BaseModel):
    """Filters for the alert list."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["active", "open", "acknowledged", "suppressed", "resolved", "all"] = Field(
        "active", description="'active' = open, acknowledged or suppressed")
    severity: Literal["info", "warning", "critical"] | None = None
    site_id: str | None = Field(None, max_length=64)
    rule_id: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(200, ge=1, le=5000)


class MetricsQuery(BaseModel):
    """Period of the MTTA/MTTR figures (alerts opened in it); default the last 30 days."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(30, ge=1, le=400, description="days back from now")
    site_id: str | None = Field(None, max_length=64)


class AlertAction(BaseModel):
    """The comment recorded with an acknowledgement or resolution (``note`` is its older name)."""

    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=500)
    note: str = Field("", max_length=500, description="same as comment (kept for older clients)")


class RuleBody(BaseModel):
    """A rule definition: ``kind`` (one of the kinds) and its parameters; see alerts/rules.py."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["threshold", "underperformance", "comm_loss", "price_spike", "negative_price", "severe_weather",
                  "integration"]
    name: str = Field(min_length=1, max_length=200)
    severity: Literal["info", "warning", "critical"] = "warning"
    site_id: str | None = Field(None, max_length=64)
    enabled: bool = True


def _visible() -> frozenset[str] | None:
    from security.scope import current_visible_site_ids

    visible = current_visible_site_ids()
    return None if visible is None else frozenset(visible)


def _body() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object")
    return body


def _comment() -> str:
    body = request.get_json(silent=True) if request.content_length else None
    if request.content_length and not isinstance(body, dict):
        raise ApiError(400, "send a JSON object such as {\"comment\": \"crew on site\"}")
    action = AlertAction.model_validate(body or {})
    return action.comment or action.note


def _act(action: Callable[..., dict[str, Any]], alert_id: int):
    caller = check("alerts:ack")
    visible = _visible()
    with db().read_session() as session:
        alert = session.get(Alert, alert_id)
        site_id = alert.site_id if alert is not None else None
    if alert is None or (site_id is not None and visible is not None and site_id not in visible):
        raise ApiError(404, f"no alert with id {alert_id}")
    comment = _comment()
    try:
        return jsonify(action(alert_id, caller.name, comment))
    except AlertActionError as exc:
        raise ApiError(exc.status, str(exc)) from None


def _rule_call(fn: Callable[[], dict[str, Any]], status: int = 200):
    try:
        out = fn()
    except RuleError as exc:
        raise ApiError(exc.status, str(exc)) from None
    engine = services().rule_engine
    if engine is not None:
        engine.reload_rules()
    return jsonify(out), status


def register(bp: Blueprint) -> None:
    """Add the alert, alert rule and silence routes to ``bp``."""

    @bp.get("/alerts")
    @require("fleet:read")
    def list_alerts():
        query = AlertQuery.model_validate(request.args.to_dict())
        with db().read_session() as session:
            rows = [alert_json(a) for a in alert_rows(session, state=query.state, severity=query.severity,
                                                       site_id=query.site_id, rule_id=query.rule_id,
                                                       visible=_visible(), limit=query.limit)]
        return jsonify({"count": len(rows), "alerts": rows})

    @bp.get("/alerts/metrics")
    @require("fleet:read")
    def alert_metrics():
        query = MetricsQuery.model_validate(request.args.to_dict())
        end = utcnow()
        start = end - dt.timedelta(days=query.days)
        with db().read_session() as session:
            figures = response_times(session, start, end, _visible(), query.site_id)
        return jsonify({"start": start.isoformat(), "end": end.isoformat(), **figures.as_dict()})

    @bp.get(f"/alerts/<int(max={MAX_ID}):alert_id>")
    @require("fleet:read")
    def get_alert(alert_id: int):
        visible = _visible()
        with db().read_session() as session:
            alert = session.get(Alert, alert_id)
            if alert is None or (alert.site_id is not None and visible is not None and alert.site_id not in visible):
                raise ApiError(404, f"no alert with id {alert_id}")
            return jsonify(alert_json(alert))

    @bp.post(f"/alerts/<int(max={MAX_ID}):alert_id>/ack")
    def ack_alert(alert_id: int):
        return _act(book_of(services()).acknowledge, alert_id)

    @bp.post(f"/alerts/<int(max={MAX_ID}):alert_id>/resolve")
    def resolve_alert(alert_id: int):
        return _act(book_of(services()).resolve, alert_id)

    @bp.get("/alert-rules")
    @require("fleet:read")
    def get_rules():
        rules = list_rules(db())
        return jsonify({"count": len(rules), "rules": rules, "kinds": list(KINDS)})

    @bp.post("/alert-rules")
    def post_rule():
        caller = check("alerts:manage")
        body = _body()
        return _rule_call(lambda: create_rule(db(), body, caller.name), 201)

    @bp.post("/alert-rules/preview")
    def preview():
        check("alerts:manage")
        body = _body()
        try:
            with db().read_session() as session:
                return jsonify(preview_rule(session, body, visible=_visible()))
        except RuleError as exc:
            raise ApiError(exc.status, str(exc)) from None

    @bp.get(f"/alert-rules/<int(max={MAX_ID}):rule_id>")
    @require("fleet:read")
    def get_rule(rule_id: int):
        with db().read_session() as session:
            rule = session.get(AlertRule, rule_id)
            if rule is None:
                raise ApiError(404, f"no alert rule with id {rule_id}")
            out = rule_json(rule)
        return jsonify({**out, "versions": rule_history(db(), rule_id)})

    @bp.put(f"/alert-rules/<int(max={MAX_ID}):rule_id>")
    def put_rule(rule_id: int):
        caller = check("alerts:manage")
        body = _body()
        return _rule_call(lambda: update_rule(db(), rule_id, body, caller.name))

    @bp.post(f"/alert-rules/<int(max={MAX_ID}):rule_id>/enable")
    def enable_rule(rule_id: int):
        caller = check("alerts:manage")
        return _rule_call(lambda: set_enabled(db(), rule_id, True, caller.name))

    @bp.post(f"/alert-rules/<int(max={MAX_ID}):rule_id>/disable")
    def disable_rule(rule_id: int):
        caller = check("alerts:manage")
        return _rule_call(lambda: set_enabled(db(), rule_id, False, caller.name))

    @bp.get("/alert-silences")
    @require("fleet:read")
    def get_silences():
        with db().read_session() as session:
            rows = active_silences(session, utcnow())
        return jsonify({"count": len(rows), "silences": rows})

    @bp.post("/alert-silences")
    def post_silence():
        caller = check("alerts:manage")
        body = _body()
        try:
            out = create_silence(db(), body, caller.name)
        except RuleError as exc:
            raise ApiError(exc.status, str(exc)) from None
        book_of(services()).settle()
        return jsonify(out), 201

    _document()


def _document() -> None:
    alert_id = [{"name": "alert_id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}]
    rule_id = [{"name": "rule_id", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}]
    action = {"required": False, "content": {"application/json": {"schema": spec.schema_ref(AlertAction)}}}
    rule_body = {"required": True, "content": {"application/json": {"schema": spec.schema_ref(RuleBody)}}}
    spec.add_path("/alerts", "get", {
        "summary": "Alerts, newest first, filtered by state, severity, site and rule",
        "parameters": spec.query_parameters(AlertQuery),
        "responses": {"200": {"description": "count and alerts"}, "400": {"description": "bad filter"}}})
    spec.add_path("/alerts/metrics", "get", {
        "summary": "MTTA and MTTR over the alerts opened in the last N days (alerts/response.py)",
        "parameters": spec.query_parameters(MetricsQuery),
        "responses": {"200": {"description": "opened, acknowledged, resolved, mtta_s, mttr_s, definition"},
                      "400": {"description": "bad period"}}})
    spec.add_path("/alerts/{alert_id}", "get", {
        "summary": "One alert", "parameters": alert_id,
        "responses": {"200": {"description": "the alert"}, "404": {"description": "unknown alert"}}})
    for verb, summary in (("ack", "Acknowledge an open or suppressed alert with a comment (operators; audited)"),
                          ("resolve", "Resolve an alert with a comment (operators; audited)")):
        spec.add_path(f"/alerts/{{alert_id}}/{verb}", "post", {
            "summary": summary, "parameters": alert_id, "requestBody": action,
            "responses": {"200": {"description": "the alert"}, "400": {"description": "bad body"},
                          "403": {"description": "not an operator"}, "404": {"description": "unknown alert"},
                          "409": {"description": "not in a state that allows it"}}})
    spec.add_path("/alert-rules", "get", {
        "summary": "Every alert rule with its definition and version",
        "responses": {"200": {"description": "count, rules, kinds"}}})
    spec.add_path("/alert-rules", "post", {
        "summary": "Create a rule (operators; versioned in the event log)", "requestBody": rule_body,
        "responses": {"201": {"description": "the rule"}, "400": {"description": "not a JSON object"},
                      "403": {"description": "not an operator"}, "422": {"description": "invalid rule, field named"}}})
    spec.add_path("/alert-rules/preview", "post", {
        "summary": "What the rule would have raised over the last 7 days (nothing is saved)",
        "requestBody": rule_body,
        "responses": {"200": {"description": "raised, alerts (ts, subject, title), basis"},
                      "400": {"description": "not a JSON object"}, "403": {"description": "not an operator"},
                      "422": {"description": "invalid rule"}}})
    spec.add_path("/alert-rules/{rule_id}", "get", {
        "summary": "One rule with every version from the event log", "parameters": rule_id,
        "responses": {"200": {"description": "the rule and its versions"}, "404": {"description": "unknown rule"}}})
    spec.add_path("/alert-rules/{rule_id}", "put", {
        "summary": "Replace a rule's definition (same kind; a new version)", "parameters": rule_id,
        "requestBody": rule_body,
        "responses": {"200": {"description": "the rule"}, "400": {"description": "not a JSON object"},
                      "403": {"description": "not an operator"}, "404": {"description": "unknown rule"},
                      "422": {"description": "invalid rule"}}})
    for verb in ("enable", "disable"):
        spec.add_path(f"/alert-rules/{{rule_id}}/{verb}", "post", {
            "summary": f"{verb.capitalize()} a rule (a new version)", "parameters": rule_id,
            "responses": {"200": {"description": "the rule"}, "403": {"description": "not an operator"},
                          "404": {"description": "unknown rule"}}})
    spec.add_path("/alert-silences", "get", {
        "summary": "Maintenance windows and silences not yet ended",
        "responses": {"200": {"description": "count and silences"}}})
    spec.add_path("/alert-silences", "post", {
        "summary": "Create a maintenance window or silence (operators; audited)",
        "requestBody": {"required": True, "content": {"application/json": {"schema": spec.schema_ref(SilenceBody)}}},
        "responses": {"201": {"description": "the window"}, "400": {"description": "not a JSON object"},
                      "403": {"description": "not an operator"}, "422": {"description": "invalid window"}}})
