"""The REST API under /api/v1 (a Flask blueprint), described by /api/v1/openapi.json."""
from __future__ import annotations

from flask import Blueprint

from api.errors import register_error_handlers


def create_api_blueprint() -> Blueprint:
    """Return the /api/v1 blueprint with every route module registered."""
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
    from api import (
        admin,
        alerts,
        health,
        integrations,
        kpis,
        live,
        metrics,
        openapi,
        performance,
        sites,
        telemetry,
        webhooks,
    )

    for module in (health, sites, kpis, performance, telemetry, openapi, integrations, alerts, webhooks, admin, live,
                   metrics):
        module.register(bp)
    register_error_handlers(bp)
    return bp
