"""GET /api/v1/health: each component's state, for load balancers and the admin page.

The database, telemetry freshness and bus are probed here; every other entry is the ``health()``
of a component of the process (``services.components``, see ``bootstrap.build``).
"""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text

from api import spec
from core.runtime import services
from data.models import AssetLatest, utcnow


def component_health() -> dict[str, Any]:
    """Return {"status": ok|degraded|down, "components": {...}} for the running process."""
    svc = services()
    components: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        with svc.db.read_session() as session:
            session.execute(text("SELECT 1"))
            latest = session.execute(select(func.max(AssetLatest.ts))).scalar()
        components["database"] = {
            "status": "ok", "backend": svc.db.engine.dialect.name,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        age = None if latest is None else (utcnow() - latest).total_seconds()
        components["telemetry"] = {
            "status": "ok" if age is not None and age <= svc.settings.stale_after_s else "stale",
            "latest": latest.isoformat() if latest else None, "age_s": None if age is None else round(age, 1),
        }
    except Exception as exc:
        components["database"] = {"status": "down", "error": type(exc).__name__}
    bus = svc.bus
    components["bus"] = {"status": "ok" if bus is not None else "down",
                         "backend": getattr(bus, "backend_name", type(bus).__name__ if bus else None)}
    if hasattr(bus, "health"):
        components["bus"].update(bus.health())
    components["simulator"] = {"status": "disabled"}  # replaced by the simulator component when there is one
    for component in svc.components:
        try:
            components[component.name] = component.health()
        except Exception as exc:
            components[component.name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:200]}
    states = {c.get("status") for c in components.values()}
    overall = "down" if components["database"]["status"] == "down" else (
        "ok" if states <= {"ok", "disabled"} else "degraded")
    return {"status": overall, "time": utcnow().isoformat(), "components": components}


def readiness_report() -> dict[str, Any]:
    """Return {"ready": bool, "not_ready": [reasons], "components": {...}}: ready when the database
    answers and every component of the process is started and not down."""
    svc = services()
    body = component_health()
    reasons = [f"{name}: {c.get('error') or 'down'}" for name, c in body["components"].items()
               if c.get("status") == "down"]
    if not svc.started:
        reasons.append("components not started yet")
    return {"ready": not reasons, "not_ready": reasons, "time": body["time"], "components": body["components"]}


def register(bp: Blueprint) -> None:
    """Add the health route to ``bp``."""

    @bp.get("/health")
    def health():
        body = component_health()
        return jsonify(body), (503 if body["status"] == "down" else 200)

    @bp.get("/health/live")
    def liveness():
        return jsonify({"status": "ok", "time": utcnow().isoformat()})

    @bp.get("/health/ready")
    def readiness():
        body = readiness_report()
        return jsonify(body), (200 if body["ready"] else 503)

    spec.add_path("/health/live", "get", {
        "summary": "Liveness: the process answers HTTP (for a container's liveness probe)", "security": [],
        "responses": {"200": {"description": "alive"}},
    })
    spec.add_path("/health/ready", "get", {
        "summary": "Readiness: the database answers and every component is started and not down (for a load "
                   "balancer or a readiness probe); the reasons when not", "security": [],
        "responses": {"200": {"description": "ready"}, "503": {"description": "not ready, with the reasons"}},
    })
    spec.add_path("/health", "get", {
        "summary": "State of each component (database, bus, telemetry freshness, simulator)",
        "security": [], "responses": {"200": {"description": "ok or degraded"}, "503": {"description": "down"}},
    })
