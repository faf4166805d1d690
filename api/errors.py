"""JSON errors for the API: every 4xx/5xx body is {"error": {"status", "message", "details"}}."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from security.access import AccessDenied

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status and a message naming what was wrong."""

    def __init__(self, status: int, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def error_response(status: int, message: str, details: Any = None):
    """Return a Flask JSON error response."""
    body: dict[str, Any] = {"status": status, "message": message}
    if details is not None:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    return response


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    """Return pydantic errors as [{"field", "error"}] with dotted field names."""
    return [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or "body", "error": e.get("msg", "invalid")}
        for e in exc.errors()
    ]


def _refuse_nul_characters():
    """Return a 400 for NUL characters in the path, query or a JSON body (never valid here, and
    PostgreSQL cannot store them); telemetry keeps its per-row handling so good rows are kept."""
    from flask import request

    if "\x00" in request.path or "%00" in request.query_string.decode("latin-1").lower():
        return error_response(400, "NUL characters are not allowed in the path or query string")
    if request.mimetype == "application/json" and not request.path.endswith("/telemetry"):
        body = request.get_data(cache=True)
        if b"\\u0000" in body or b"\x00" in body:
            return error_response(400, "NUL characters are not allowed in the request body")
    return None


def register_error_handlers(bp: Blueprint) -> None:
    """Attach the NUL guard and the JSON error handlers to ``bp``."""
    bp.before_request(_refuse_nul_characters)

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.details)

    @bp.errorhandler(AccessDenied)
    def _denied(exc: AccessDenied):
        response = error_response(exc.status, exc.message)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="fleetlight"'
        return response

    @bp.errorhandler(ValidationError)
    def _invalid(exc: ValidationError):
        details = validation_details(exc)
        names = ", ".join(d["field"] for d in details)
        return error_response(400, f"invalid parameter(s): {names}", details)

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return error_response(exc.code or 500, exc.description or exc.name)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled API error")
        return error_response(500, "internal error; see the server log")
