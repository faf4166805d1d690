"""The webhook replay cache, persisted in the database (``webhook_receipts``).

A receipt is keyed on the provider and the digest of the content its signature covers (see
:mod:`security.signatures`), so neither a restart, another server process, a malleated ECDSA
signature nor another base64 spelling lets a captured request in twice. SendGrid and Slack
receipts live twice the timestamp tolerance (an older request fails the timestamp check anyway);
Twilio sends no timestamp, so its receipts are kept for :data:`TWILIO_RECEIPT_DAYS`.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from data.db import Database
from data.models import WebhookReceipt

TWILIO_RECEIPT_DAYS = 400  # Twilio retries for hours at most; older captures stay refused for a year and more
PURGE_EVERY_S = 600


class WebhookReceipts:
    """Records accepted webhook requests; :meth:`seen_before` is True for a repeat within its lifetime."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._last_purge = 0.0
        self._lock = threading.Lock()

    def seen_before(self, provider: str, digest: str, ttl_s: float, now: float | None = None) -> bool:
        """Record ``digest`` for ``provider`` until ``now + ttl_s``; return True if it was recorded and unexpired."""
        now = time.time() if now is None else now
        at = dt.datetime.fromtimestamp(now, dt.UTC)
        key = f"{provider}:{digest}"
        self._purge(at, now)
        try:
            with self.db.session() as s:
                row = s.get(WebhookReceipt, key)
                if row is not None and row.expires_at > at:
                    return True
                if row is not None:  # an expired receipt: this is a new delivery of old content
                    row.received_at, row.expires_at = at, at + dt.timedelta(seconds=ttl_s)
                else:
                    s.add(WebhookReceipt(key=key, provider=provider, received_at=at,
                                         expires_at=at + dt.timedelta(seconds=ttl_s)))
        except IntegrityError:
            return True  # another process recorded the same request a moment ago
        return False

    def _purge(self, at: dt.datetime, now: float) -> None:
        with self._lock:
            if now - self._last_purge < PURGE_EVERY_S and now >= self._last_purge:
                return
            self._last_purge = now
        with self.db.session() as s:
            s.execute(delete(WebhookReceipt).where(WebhookReceipt.expires_at <= at))
