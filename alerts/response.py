"""MTTA and MTTR: the one definition (the /alerts page and ``GET /api/v1/alerts/metrics`` read it).

Over the alerts **opened** in [start, end) (``alerts.opened_at``, UTC), optionally of one site:

* **MTTA** (mean time to acknowledge) = mean of ``acknowledged_at - opened_at`` over those that
  were acknowledged; alerts resolved without an acknowledgement do not count.
* **MTTR** (mean time to resolve) = mean of ``resolved_at - opened_at`` over those that were
  resolved (by a person or by their condition clearing).

Both in seconds, with the number of alerts each is the mean of (``None`` when that is 0).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Alert


@dataclass(frozen=True)
class ResponseTimes:
    """MTTA and MTTR (seconds) with their counts, over ``opened`` alerts."""

    opened: int
    acknowledged: int
    resolved: int
    mtta_s: float | None
    mttr_s: float | None

    def as_dict(self) -> dict[str, Any]:
        """Return the figures with their definition, JSON-ready."""
        return {"opened": self.opened, "acknowledged": self.acknowledged, "resolved": self.resolved,
                "mtta_s": self.mtta_s, "mttr_s": self.mttr_s, "mtta_text": duration_text(self.mtta_s),
                "mttr_text": duration_text(self.mttr_s),
                "definition": "over alerts opened in the period: MTTA = mean(acknowledged_at - opened_at) of "
                              "the acknowledged ones, MTTR = mean(resolved_at - opened_at) of the resolved ones"}


def response_times(session: Session, start: dt.datetime, end: dt.datetime, site_ids: frozenset[str] | None = None,
                   site_id: str | None = None) -> ResponseTimes:
    """Return MTTA and MTTR over the alerts opened in [start, end) (``site_ids``: the caller's scope)."""
    stmt = select(Alert.site_id, Alert.opened_at, Alert.acknowledged_at, Alert.resolved_at).where(
        Alert.opened_at >= start, Alert.opened_at < end)
    if site_id is not None:
        stmt = stmt.where(Alert.site_id == site_id)
    opened = 0
    acks: list[float] = []
    fixes: list[float] = []
    for sid, opened_at, acked_at, resolved_at in session.execute(stmt):
        if site_ids is not None and sid is not None and sid not in site_ids:
            continue
        opened += 1
        if acked_at is not None:
            acks.append((acked_at - opened_at).total_seconds())
        if resolved_at is not None:
            fixes.append((resolved_at - opened_at).total_seconds())
    return ResponseTimes(opened, len(acks), len(fixes), sum(acks) / len(acks) if acks else None,
                         sum(fixes) / len(fixes) if fixes else None)


def duration_text(seconds: float | None) -> str:
    """Return '—' for None, else '42 s', '12.5 min' or '3.2 h'."""
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
