"""GET /api/v1/health: each component's state, for load balancers and the admin page."""
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
    simulator = svc.extras.get("simulator")
    if simulator is not None:
        status = simulator.status()
        components["simulator"] = {"status": "ok" if status.get("running") else "stopped", **status}
    else:
        components["simulator"] = {"status": "disabled"}
    for name, probe in svc.extras.get("health_probes", {}).items():
        try:
            components[name] = probe()
        except Exception as exc:
            components[name] = {"status": "down", "error": str(exc)[:200]}
    states = {c.get("status") for c in components.values()}
    overall = "down" if components["database"]["status"] == "down" else (
        "ok" if states <= {"ok", "disabled"} else "degraded")
    return {"status": overall, "time": utcnow().isoformat(), "components": components}


def register(bp: Blueprint) -> None:
    """Add the health route to ``bp``."""

    @bp.get("/health")
    def health():
        body = component_health()
        return jsonify(body), (503 if body["status"] == "down" else 200)

    spec.add_path("/health", "get", {
        "summary": "State of each component (database, bus, telemetry freshness, simulator)",
        "security": [], "responses": {"200": {"description": "ok or degraded"}, "503": {"description": "down"}},
    })
