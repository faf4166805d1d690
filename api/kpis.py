"""GET /api/v1/fleet/kpis: the <kpi payload> of the fleet, a market or a site (the same texts the
pages show). INTERIM implementation over live.contract_adapter until task B1's api/kpis.py lands."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from api import spec
from api.errors import ApiError
from security.access import require
from security.scope import current_site_visible


def register(bp: Blueprint) -> None:
    """Add the fleet KPI route to ``bp``."""
    from live.contract_adapter import UnknownScope, scope_payload

    @bp.get("/fleet/kpis")
    @require("fleet:read")
    def fleet_kpis():
        unknown = set(request.args) - {"scope", "id"}
        if unknown:
            raise ApiError(400, f"unknown query parameter(s): {', '.join(sorted(unknown))}")
        scope = request.args.get("scope", "fleet")
        scope_id = request.args.get("id") or None
        if scope == "site" and scope_id is not None and not current_site_visible(scope_id):
            raise ApiError(404, f"no site with id {scope_id!r}")
        try:
            return jsonify(scope_payload(scope, scope_id))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        except UnknownScope as exc:
            raise ApiError(404, str(exc)) from None
        except RuntimeError as exc:
            raise ApiError(503, str(exc)) from None

    spec.add_path("/fleet/kpis", "get", {
        "summary": "KPIs of the fleet, a market or a site: values and the texts every page shows",
        "parameters": [
            {"name": "scope", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["fleet", "market", "site"], "default": "fleet"}},
            {"name": "id", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "the market (scope market) or site id (scope site)"},
        ],
        "responses": {"200": {"description": "the <kpi payload>"}, "400": {"description": "bad scope or id"},
                      "404": {"description": "unknown market or site"}, "503": {"description": "no live hub"}},
    })
