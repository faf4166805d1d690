"""Process logging: one format, level from settings, secrets never formatted into messages."""
from __future__ import annotations

import contextvars
import logging
import re

# the id of the HTTP request being served (set by observability.requests), in every log record
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s'\"]+"),
    re.compile(r"(?i)((?:api[_-]?key|\bkey|appid|token|password|secret|subscription-key|code|code_verifier|refresh_token)=)[^&\s'\"]+"),
    re.compile(r"fl_[A-Za-z0-9_\-]{20,}"),
]


class RedactSecrets(logging.Filter):
    """Masks tokens, keys and passwords that slip into a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for pattern in _SECRET_PATTERNS:
            redacted = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", redacted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (None outside a request) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def _formatter(log_format: str) -> logging.Formatter:
    """Return the formatter of ``log_format``: "text" lines or "json" objects (with the request id)."""
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                             rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Set up root logging once with the secret-redacting filter and the request id (``log_format``: text, json)."""
    root = logging.getLogger()
    if getattr(root, "_fleetlight_configured", False):
        root.setLevel(level)
        for handler in root.handlers:
            if getattr(handler, "_fleetlight", False):
                handler.setFormatter(_formatter(log_format))
        return
    handler = logging.StreamHandler()
    handler._fleetlight = True  # type: ignore[attr-defined]
    handler.setFormatter(_formatter(log_format))
    handler.addFilter(RedactSecrets())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    root._fleetlight_configured = True  # type: ignore[attr-defined]
    for noisy in ("werkzeug", "alembic", "apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
