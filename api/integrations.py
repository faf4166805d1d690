"""GET /api/v1/integrations: state, success rate, latency, usage, cost and last error per provider."""
from __future__ import annotations

from flask import Blueprint, jsonify

from api import spec
from core.runtime import db
from data.models import utcnow
from gateway import get_gateway
from gateway.status import integration_status
from security.access import require


def register(bp: Blueprint) -> None:
    """Add the integrations route to ``bp``."""

    @bp.get("/integrations")
    @require("fleet:read")
    def integrations():
        gateway = get_gateway()
        gateway.call_log.flush()  # include this process's newest calls
        with db().read_session() as session:
            rows = integration_status(gateway, session)
        return jsonify({"generated_at": utcnow().isoformat(), "providers": rows})

    spec.add_path("/integrations", "get", {
        "summary": "Per provider: state (live, offline replay, degraded, breaker open, not configured), "
                   "success rate, p50/p95 latency (ms), calls and estimated cost today and this month (UTC), "
                   "quota burn and the last error",
        "responses": {"200": {"description": "{generated_at, providers: [...]}"}},
    })
