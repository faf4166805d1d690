"""The KPI payload of a scope for a page's first paint: the same computation as the hub's pushes
and ``GET /api/v1/fleet/kpis`` (:func:`api.kpis.fleet_kpi_payload`, :mod:`domain.kpis`), so the
server-rendered tiles equal what the API returns and what the next push writes."""
from __future__ import annotations

from typing import Any

from api.errors import ApiError
from domain.kpis import DASH
from security.scope import current_visible_site_ids

KPI_KEYS = ("output_mw", "capacity_mw", "expected_mw", "output_with_expected_mw", "energy_today_mwh", "sites",
            "sites_reporting", "revenue_rate", "last_ts_ms", "performance_pct")


def scope_payload(scope: str, scope_id: str | None = None) -> dict[str, Any]:
    """Return the ``<kpi payload>`` of ``scope`` for the current caller (ApiError 404 if unknown)."""
    from api.kpis import fleet_kpi_payload

    return fleet_kpi_payload(scope, scope_id, current_visible_site_ids())


def first_paint_texts(scope: str, scope_id: str | None = None) -> dict[str, str]:
    """Return the tile texts of ``scope`` for a page's first paint ("—" with the reason if it has no sites)."""
    try:
        return scope_payload(scope, scope_id)["text"]
    except ApiError as exc:
        return dict.fromkeys(KPI_KEYS, f"{DASH} ({exc.message})")
