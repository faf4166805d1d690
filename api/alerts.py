"""GET /api/v1/alerts, POST /api/v1/alerts/<id>/ack and /resolve (operators; audited)."""
from __future__ import annotations

from typing import Literal

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from alerts.actions import AlertActionError, acknowledge, alert_json, resolve
from api import spec
from api.errors import ApiError
from core.runtime import db
from data.models import Alert, AlertState
from security.access import check, require

MAX_ID = 2_147_483_647


class AlertQuery(BaseModel):
    """Filters for the alert list."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "acknowledged", "resolved", "active"] = Field(
        "active", description="'active' = open or acknowledged")
    site_id: str | None = Field(None, max_length=64)
    limit: int = Field(200, ge=1, le=5000)


class AlertAction(BaseModel):
    """Optional note recorded with an acknowledgement or resolution."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=500)


def _note() -> str:
    body = request.get_json(silent=True) if request.content_length else None
    return AlertAction.model_validate(body or {}).note


def _act(action, alert_id: int):
    caller = check("alerts:ack")
    from security.scope import current_site_visible

    with db().read_session() as session:
        alert = session.get(Alert, alert_id)
        site_id = alert.site_id if alert is not None else None
    if alert is None or (site_id is not None and not current_site_visible(site_id)):
        raise ApiError(404, f"no alert with id {alert_id}")
    try:
        return jsonify(action(db(), alert_id, caller.name, _note()))
    except AlertActionError as exc:
        raise ApiError(exc.status, str(exc)) from None


def register(bp: Blueprint) -> None:
    """Add the alert routes to ``bp``."""

    @bp.get("/alerts")
    @require("fleet:read")
    def list_alerts():
        from security.scope import current_visible_site_ids

        query = AlertQuery.model_validate(request.args.to_dict())
        stmt = select(Alert).order_by(Alert.opened_at.desc()).limit(query.limit)
        if query.state == "active":
            stmt = stmt.where(Alert.state != AlertState.resolved)
        else:
            stmt = stmt.where(Alert.state == AlertState(query.state))
        if query.site_id:
            stmt = stmt.where(Alert.site_id == query.site_id)
        visible = current_visible_site_ids()
        with db().read_session() as session:
            rows = [alert_json(a) for a in session.execute(stmt).scalars()
                    if visible is None or a.site_id is None or a.site_id in visible]
        return jsonify({"count": len(rows), "alerts": rows})

    @bp.post(f"/alerts/<int(max={MAX_ID}):alert_id>/ack")
    def ack_alert(alert_id: int):
        return _act(acknowledge, alert_id)

    @bp.post(f"/alerts/<int(max={MAX_ID}):alert_id>/resolve")
    def resolve_alert(alert_id: int):
        return _act(resolve, alert_id)

    path_param = [{"name": "alert_id", "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}]
    body = {"required": False, "content": {"application/json": {"schema": spec.schema_ref(AlertAction)}}}
    spec.add_path("/alerts", "get", {"summary": "Alerts (active by default), newest first",
                                     "parameters": spec.query_parameters(AlertQuery),
                                     "responses": {"200": {"description": "alerts"}}})
    for verb, summary in (("ack", "Acknowledge an open alert (operator; audited)"),
                          ("resolve", "Resolve an alert (operator; audited)")):
        spec.add_path(f"/alerts/{{alert_id}}/{verb}", "post", {
            "summary": summary, "parameters": path_param, "requestBody": body,
            "responses": {"200": {"description": "the alert"}, "404": {"description": "unknown alert"},
                          "409": {"description": "not in a state that allows it"}}})
