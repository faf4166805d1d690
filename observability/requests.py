"""Per-request observability: a request id (in the response, in every log record) and the latency
of each route and Dash callback into :mod:`observability.metrics`."""
from __future__ import annotations

import re
import time
import uuid

from flask import Flask, Response, g, request

from core.logging_setup import request_id_var
from observability.metrics import CALLBACK_LATENCY, HTTP_LATENCY, HTTP_REQUESTS

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DASH_UPDATE = "/_dash-update-component"


def _callback_label(app: Flask) -> str:
    """Return the callback's output id when the app declares it, else "unknown" (bounded label values)."""
    body = request.get_json(silent=True, cache=True)
    output = body.get("output") if isinstance(body, dict) else None
    known = app.extensions.get("fleetlight_callback_outputs", frozenset())
    return output if isinstance(output, str) and output in known else "unknown"


def install(server: Flask, callback_outputs: frozenset[str]) -> None:
    """Give every request an id and time it; ``callback_outputs`` are the app's callback output ids."""
    server.extensions["fleetlight_callback_outputs"] = callback_outputs

    @server.before_request
    def _start() -> None:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = sent if _ACCEPTED_ID.match(sent) else uuid.uuid4().hex
        g.fleetlight_request_token = request_id_var.set(request_id)
        g.fleetlight_request_id = request_id
        g.fleetlight_started = time.perf_counter()

    @server.after_request
    def _finish(response: Response) -> Response:
        started = g.get("fleetlight_started")
        if started is None:
            return response
        elapsed = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(route, request.method).observe(elapsed)
        if route == DASH_UPDATE and request.method == "POST":
            CALLBACK_LATENCY.labels(_callback_label(server)).observe(elapsed)
        response.headers[REQUEST_ID_HEADER] = g.fleetlight_request_id
        return response

    @server.teardown_request
    def _clear(_exc: BaseException | None) -> None:
        token = g.pop("fleetlight_request_token", None)
        if token is not None:
            request_id_var.reset(token)
