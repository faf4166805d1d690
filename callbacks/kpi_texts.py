"""The KPI payload of a scope for a page's first paint: the same computation as the hub's pushes
and ``GET /api/v1/fleet/kpis``, so the server-rendered tiles equal what the next push writes.

This is the one seam between the pages and the KPI computation (see live.contract_adapter for the
interim implementation until ``domain.kpis`` is merged).
"""
from __future__ import annotations

from live.contract_adapter import KPI_SCOPES, UnknownScope, scope_payload

__all__ = ["KPI_SCOPES", "UnknownScope", "first_paint_texts", "scope_payload"]


def first_paint_texts(scope: str, scope_id: str | None = None) -> dict[str, str]:
    """Return the tile texts of ``scope`` for a page's first paint ("—" with the reason without a hub)."""
    try:
        return scope_payload(scope, scope_id)["text"]
    except (RuntimeError, UnknownScope) as exc:
        reason = f"— ({exc})"
        return {k: reason for k in ("output_mw", "capacity_mw", "expected_mw", "output_with_expected_mw",
                                     "energy_today_mwh", "sites", "sites_reporting", "revenue_rate", "last_ts_ms")}
