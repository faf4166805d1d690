"""Process logging: one format, level from settings, secrets never formatted into messages."""
from __future__ import annotations

import logging
import re

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


def configure_logging(level: str = "INFO") -> None:
    """Set up root logging once with the secret-redacting filter."""
    root = logging.getLogger()
    if getattr(root, "_fleetlight_configured", False):
        root.setLevel(level)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    root.setLevel(level)
    root._fleetlight_configured = True  # type: ignore[attr-defined]
    for noisy in ("werkzeug", "alembic", "apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
