"""GET /api/v1/metrics: the Prometheus exposition (permission ``metrics:read``: an admin, or a token
made with ``create-token --scope metrics:read --role admin`` for the scraper)."""
from __future__ import annotations

from flask import Blueprint, Response

from api import spec
from observability.metrics import CONTENT_TYPE, exposition
from security.access import require


def register(bp: Blueprint) -> None:
    """Add the metrics route to ``bp``."""

    @bp.get("/metrics")
    @require("metrics:read")
    def metrics():
        return Response(exposition(), mimetype=None, content_type=CONTENT_TYPE)

    spec.add_path("/metrics", "get", {
        "summary": "Prometheus metrics of the deployment (text format 0.0.4): HTTP and Dash callback latency, "
                   "ingest points by outcome, bus queue depth, dead letters waiting, socket clients, provider "
                   "calls and errors; permission metrics:read",
        "security": [{"bearer": []}],
        "responses": {"200": {"description": "the exposition", "content": {CONTENT_TYPE.split(";")[0]: {}}},
                      "401": {"description": "not signed in"}, "403": {"description": "lacks metrics:read"}},
    })
