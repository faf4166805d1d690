"""Reads behind the integrations page and GET /api/v1/integrations (integration_calls, events).

All windows are UTC: "today" starts at 00:00 UTC, "this month" on the 1st at 00:00 UTC.
Latencies in ms; costs in the provider table's currency (estimates).
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Event, IntegrationCall

OK_OUTCOMES = ("ok", "replay")
FAILED_OUTCOMES = ("error", "fallback")


@dataclass
class ProviderUsage:
    """Call-log figures of one provider: today's and this month's counts, costs and latencies."""

    provider: str
    calls_today: int = 0
    ok_today: int = 0
    failed_today: int = 0
    rejected_today: int = 0
    cost_today: float = 0.0
    calls_month: int = 0
    cost_month: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    last_call_at: dt.datetime | None = None

    @property
    def success_rate(self) -> float | None:
        """Return today's share of attempted calls that succeeded (0..1), None without calls."""
        attempted = self.ok_today + self.failed_today
        return self.ok_today / attempted if attempted else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def day_and_month_start(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Return (00:00 UTC today, 00:00 UTC on the 1st of this month) for ``now``."""
    now = now.astimezone(dt.UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


def provider_usage(session: Session, now: dt.datetime | None = None) -> dict[str, ProviderUsage]:
    """Return {provider: ProviderUsage} from the call log for today and this month (UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    day, month = day_and_month_start(now)
    out: dict[str, ProviderUsage] = {}
    month_rows = session.execute(
        select(IntegrationCall.provider, func.count(), func.coalesce(func.sum(IntegrationCall.cost_estimate), 0.0),
               func.max(IntegrationCall.started_at))
        .where(IntegrationCall.started_at >= month).group_by(IntegrationCall.provider)
    ).all()
    for provider, count, cost, last in month_rows:
        out[provider] = ProviderUsage(provider, calls_month=count, cost_month=float(cost), last_call_at=last)
    day_rows = session.execute(
        select(IntegrationCall.provider, IntegrationCall.outcome, IntegrationCall.latency_ms,
               IntegrationCall.cost_estimate)
        .where(IntegrationCall.started_at >= day)
    ).all()
    latencies: dict[str, list[float]] = defaultdict(list)
    for provider, outcome, latency, cost in day_rows:
        usage = out.setdefault(provider, ProviderUsage(provider))
        usage.calls_today += 1
        usage.cost_today += cost or 0.0
        if outcome in OK_OUTCOMES:
            usage.ok_today += 1
            latencies[provider].append(latency)
        elif outcome == "rejected":
            usage.rejected_today += 1
        else:
            usage.failed_today += 1
    for provider, values in latencies.items():
        values.sort()
        out[provider].p50_ms = _percentile(values, 0.50)
        out[provider].p95_ms = _percentile(values, 0.95)
    last_errors = session.execute(
        select(IntegrationCall.provider, IntegrationCall.error, IntegrationCall.started_at)
        .where(IntegrationCall.id.in_(
            select(func.max(IntegrationCall.id)).where(IntegrationCall.error.is_not(None))
            .group_by(IntegrationCall.provider)))
    ).all()
    for provider, error, at in last_errors:
        usage = out.setdefault(provider, ProviderUsage(provider))
        usage.last_error, usage.last_error_at = error, at
    return out


@dataclass
class Timeline:
    """Hourly call-log series per provider (bucket = hour start, UTC)."""

    buckets: list[dt.datetime] = field(default_factory=list)
    calls: dict[str, list[int]] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)
    p95_ms: dict[str, list[float | None]] = field(default_factory=dict)


def hourly_timeline(session: Session, hours: int = 48, now: dt.datetime | None = None) -> Timeline:
    """Return calls, failures and p95 latency per provider and hour over the last ``hours`` hours."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    end = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    start = end - dt.timedelta(hours=hours)
    rows = session.execute(
        select(IntegrationCall.provider, IntegrationCall.started_at, IntegrationCall.outcome,
               IntegrationCall.latency_ms).where(IntegrationCall.started_at >= start)
    ).all()
    buckets = [start + dt.timedelta(hours=i) for i in range(hours)]
    index = {b: i for i, b in enumerate(buckets)}
    calls: dict[str, list[int]] = {}
    failures: dict[str, list[int]] = {}
    lat: dict[str, list[list[float]]] = {}
    for provider, started, outcome, latency in rows:
        i = index.get(started.replace(minute=0, second=0, microsecond=0))
        if i is None:
            continue
        if provider not in calls:
            calls[provider], failures[provider] = [0] * hours, [0] * hours
            lat[provider] = [[] for _ in range(hours)]
        calls[provider][i] += 1
        if outcome in FAILED_OUTCOMES or outcome == "rejected":
            failures[provider][i] += 1
        elif outcome in OK_OUTCOMES:
            lat[provider][i].append(latency)
    p95 = {p: [_percentile(sorted(v), 0.95) for v in series] for p, series in lat.items()}
    return Timeline(buckets, calls, failures, p95)


def integration_events(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """Return the newest integration.* events (ts, kind, provider, message), newest first."""
    rows = session.execute(
        select(Event.ts, Event.kind, Event.entity_id, Event.payload)
        .where(Event.kind.in_(("integration.failed", "integration.recovered")))
        .order_by(Event.id.desc()).limit(limit)
    ).all()
    return [{"ts": ts, "kind": kind, "provider": provider, "message": (payload or {}).get("message", "")}
            for ts, kind, provider, payload in rows]


def failure_log(session: Session, hours: int = 48, limit: int = 15,
                now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return the newest failures of the last ``hours`` hours, newest first: each failed call
    (the outcomes :func:`hourly_timeline` counts as failures) and each integration.failed /
    integration.recovered incident, as dicts (ts, kind, provider, message)."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    since = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1) - dt.timedelta(hours=hours)
    calls = session.execute(
        select(IntegrationCall.started_at, IntegrationCall.provider, IntegrationCall.endpoint, IntegrationCall.outcome,
               IntegrationCall.status_code, IntegrationCall.error)
        .where(IntegrationCall.started_at >= since,
               IntegrationCall.outcome.in_((*FAILED_OUTCOMES, "rejected")))
        .order_by(IntegrationCall.started_at.desc()).limit(limit)
    ).all()
    out: list[dict[str, Any]] = [{"ts": ts, "kind": f"call.{outcome}", "provider": provider,
            "message": f"{provider} {endpoint}" + (f" (HTTP {status})" if status else "")
                       + (f": {error}" if error else "")}
           for ts, provider, endpoint, outcome, status, error in calls]
    out += [e for e in integration_events(session, limit) if e["ts"] >= since]
    out.sort(key=lambda e: e["ts"], reverse=True)
    return out[:limit]


def outcome_counts(session: Session, since: dt.datetime) -> dict[str, dict[str, int]]:
    """Return {provider: {outcome: count}} since ``since``."""
    rows = session.execute(
        select(IntegrationCall.provider, IntegrationCall.outcome, func.count())
        .where(IntegrationCall.started_at >= since)
        .group_by(IntegrationCall.provider, IntegrationCall.outcome)
    ).all()
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for provider, outcome, count in rows:
        out[provider][outcome] = count
    return dict(out)


__all__ = ["ProviderUsage", "Timeline", "day_and_month_start", "failure_log", "hourly_timeline", "integration_events",
           "outcome_counts", "provider_usage"]
