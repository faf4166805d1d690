"""A small registry that route modules add their OpenAPI path items to."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

PATHS: dict[str, dict[str, Any]] = {}
SCHEMAS: dict[str, Any] = {}


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    """Register ``model``'s JSON schema under components and return a $ref to it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        SCHEMAS[name] = sub
    SCHEMAS[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """Return OpenAPI query parameters for every field of ``model``."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop,
         "description": prop.get("description", "")}
        for name, prop in schema.get("properties", {}).items()
    ]


def add_path(path: str, method: str, operation: dict[str, Any]) -> None:
    """Record the operation ``method`` on ``path`` (OpenAPI path template, e.g. /sites/{site_id})."""
    operation.setdefault("responses", {}).setdefault("default", {"$ref": "#/components/responses/Error"})
    PATHS.setdefault(path, {})[method.lower()] = operation
