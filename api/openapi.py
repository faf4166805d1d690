"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of the API."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from api import spec


def build_document() -> dict[str, Any]:
    """Return the OpenAPI document assembled from every registered route module."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fleetlight API",
            "version": "1.0.0",
            "description": "Operations and analytics API for a renewable-energy fleet. Timestamps are ISO 8601 "
            "with a zone, returned in UTC; interval data is labelled by interval start.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": spec.PATHS,
        "components": {
            "schemas": {
                **spec.SCHEMAS,
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "object", "properties": {
                        "status": {"type": "integer"}, "message": {"type": "string"}, "details": {}}}},
                },
            },
            "responses": {"Error": {"description": "error", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


def register(bp: Blueprint) -> None:
    """Add the OpenAPI route to ``bp``."""

    @bp.get("/openapi.json")
    def openapi_document():
        return jsonify(build_document())
