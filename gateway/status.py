"""Integration status rows: the gateway's live state merged with the call log (page and API)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from data.integration_queries import ProviderUsage, provider_usage
from gateway.core import Gateway


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def integration_status(gateway: Gateway, session: Any, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return one JSON-ready row per provider: state, mode, breaker, success rate, p50/p95 (ms),
    calls and estimated cost today / this month, quota burn (0..1, None without a quota) and the
    last error with its time (UTC ISO-8601)."""
    usage = provider_usage(session, now) if session is not None else {}
    rows = []
    for entry in gateway.status():
        name = entry["provider"]
        u = usage.get(name, ProviderUsage(name))
        spec = gateway.spec(name)
        last_error = u.last_error or entry["last_error"]
        rows.append({
            "provider": name,
            "label": entry["label"],
            "family": entry["family"],
            "state": entry["state"],
            "mode": entry["mode"],
            "breaker": entry["breaker"],
            "plan": entry["plan"],
            "missing_settings": entry["missing_settings"],
            "success_rate_today": u.success_rate,
            "p50_ms": u.p50_ms,
            "p95_ms": u.p95_ms,
            "calls_today": u.calls_today,
            "failed_today": u.failed_today,
            "rejected_today": u.rejected_today,
            "calls_month": u.calls_month,
            "cost_today": round(u.cost_today, 4),
            "cost_month": round(u.cost_month, 4),
            "cost_currency": spec.cost_currency,
            "daily_quota": spec.daily_quota,
            "monthly_quota": spec.monthly_quota,
            "quota_burn_today": (u.calls_today / spec.daily_quota) if spec.daily_quota else None,
            "quota_burn_month": (u.calls_month / spec.monthly_quota) if spec.monthly_quota else None,
            "rate_limit_per_min": round(spec.rate_per_s * 60, 2),
            "last_call_at": _iso(u.last_call_at),
            "last_error": last_error,
            "last_error_at": _iso(u.last_error_at or entry.get("process_last_error_at")),
        })
    return rows
