"""The REST API under /api/v1 (a Flask blueprint), described by /api/v1/openapi.json."""
from __future__ import annotations

from flask import Blueprint

from api.errors import register_error_handlers


def create_api_blueprint() -> Blueprint:
    """Return the /api/v1 blueprint with every route module registered."""
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
    from api import health, openapi, sites, telemetry

    for module in (health, sites, telemetry, openapi):
        module.register(bp)
    _register_optional(bp)
    register_error_handlers(bp)
    return bp


def _register_optional(bp: Blueprint) -> None:
    """Register route modules owned by feature packages, when present."""
    import importlib

    for name in ("api.integrations", "api.prices", "api.weather", "api.forecasts", "api.alerts",
                 "api.reports", "api.webhooks", "api.admin", "api.live"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        module.register(bp)
