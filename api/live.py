"""Live-path API: dead letters (list, show, replay), the bus schema registry, the live state."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from api import spec
from api.errors import ApiError
from bus.registry import REGISTRY
from bus.replay import ReplayError, list_dead_letters, replay_dead_letter
from core.runtime import services
from security.access import check, require


class DeadLetterQuery(BaseModel):
    """Selection of dead letters."""

    model_config = ConfigDict(extra="forbid")

    topic: str | None = Field(None, description="only this topic, e.g. telemetry.v1")
    replayed: bool | None = Field(None, description="true: only replayed; false: only not yet replayed")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


def register(bp: Blueprint) -> None:
    """Add the dead-letter, schema and live-state routes to ``bp``."""

    @bp.get("/dead-letters")
    @require("admin")
    def dead_letters():
        query = DeadLetterQuery.model_validate(request.args.to_dict())
        total, items = list_dead_letters(services().db, query.topic, query.replayed, query.limit, query.offset)
        return jsonify({"total": total, "limit": query.limit, "offset": query.offset, "items": items})

    @bp.get("/dead-letters/<int(max=9223372036854775807):dead_letter_id>")
    @require("admin")
    def dead_letter(dead_letter_id: int):
        from bus.replay import dead_letter_dict
        from data.models import DeadLetter

        with services().db.session() as session:
            row = session.get(DeadLetter, dead_letter_id)
            if row is None:
                raise ApiError(404, f"no dead letter with id {dead_letter_id}")
            return jsonify(dead_letter_dict(row, with_payload=True))

    @bp.post("/dead-letters/<int(max=9223372036854775807):dead_letter_id>/replay")
    def replay(dead_letter_id: int):
        caller = check("admin")
        force = request.args.get("force", "false").lower() in ("1", "true", "yes")
        try:
            return jsonify(replay_dead_letter(services(), dead_letter_id, caller.name, force))
        except ReplayError as exc:
            raise ApiError(exc.status, exc.message) from None

    @bp.get("/bus/schemas")
    @require("fleet:read")
    def schemas():
        return jsonify({"compatibility": "BACKWARD", "topics": REGISTRY.describe()})

    @bp.get("/bus/schemas/<topic>/<int(max=2147483647):version>")
    @require("fleet:read")
    def schema(topic: str, version: int):
        try:
            return jsonify(REGISTRY.get(topic, version).json_schema())
        except KeyError as exc:
            raise ApiError(404, str(exc.args[0])) from None

    @bp.get("/live/state")
    @require("telemetry:read")
    def live_state():
        hub = services().hub
        if hub is None:
            raise ApiError(503, "the live hub is not running in this process")
        from security.scope import current_visible_site_ids

        visible = current_visible_site_ids()
        # a caller scoped to some portfolios: their sites, and totals over them only (computed once)
        figures = None if visible is None else {f.site_id: f for f in hub.current_figures(visible)}
        return jsonify(hub.live_payload(full=True, figures=figures))

    spec.add_path("/dead-letters", "get", {
        "summary": "Dead letters, newest first (admin): messages that failed validation or processing, with the reason",
        "parameters": spec.query_parameters(DeadLetterQuery),
        "responses": {"200": {"description": "page of dead letters"}, "403": {"description": "not an admin"}},
    })
    spec.add_path("/dead-letters/{dead_letter_id}", "get", {
        "summary": "One dead letter with its payload (admin)",
        "parameters": [{"name": "dead_letter_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "the dead letter"}, "404": {"description": "unknown id"}},
    })
    spec.add_path("/dead-letters/{dead_letter_id}/replay", "post", {
        "summary": "Replay a dead letter (admin): republish a valid bus message or re-submit a rejected telemetry row",
        "parameters": [
            {"name": "dead_letter_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            {"name": "force", "in": "query", "required": False, "schema": {"type": "boolean"},
             "description": "replay again even if already replayed"},
        ],
        "responses": {"200": {"description": "replayed"}, "404": {"description": "unknown id"},
                      "409": {"description": "already replayed"}, "422": {"description": "still invalid"},
                      "503": {"description": "bus unavailable"}},
    })
    spec.add_path("/bus/schemas", "get", {
        "summary": "The bus schema registry: every topic, its versions and their JSON Schemas",
        "responses": {"200": {"description": "topics"}},
    })
    spec.add_path("/bus/schemas/{topic}/{version}", "get", {
        "summary": "The JSON Schema of one topic version",
        "parameters": [{"name": "topic", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "JSON Schema"}, "404": {"description": "unknown topic or version"}},
    })
    spec.add_path("/live/state", "get", {
        "summary": "The live state the hub pushes: per-site output, expected, capacity factor, energy today, status",
        "responses": {"200": {"description": "live_sites payload (full)"}},
    })
