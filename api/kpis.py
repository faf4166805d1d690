"""GET /api/v1/fleet/kpis: output, capacity, expected, energy today, sites reporting, revenue rate.

Computed by :mod:`domain.kpis` from the live hub's state, the one the pushes carry, so the API
and every screen agree to the digit. In a process without a hub (a CLI, a worker-less test) the
same state is built from the store by the same rules (:func:`data.fleet.store_site_figures`).
"""
from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api import spec
from api.errors import ApiError
from core.runtime import services
from domain.kpis import kpi_payload, scope_kpis
from security.access import require
from security.scope import current_visible_site_ids


class KpiQuery(BaseModel):
    """Which scope to compute: the fleet, one market (id = market name) or one site (id = site id)."""

    model_config = ConfigDict(extra="forbid")

    scope: Literal["fleet", "market", "site"] = "fleet"
    id: str | None = Field(None, min_length=1, max_length=64, description="market name or site id; not with scope=fleet")

    @model_validator(mode="after")
    def _id_matches_scope(self) -> KpiQuery:
        if self.scope == "fleet" and self.id is not None:
            raise ValueError("scope=fleet takes no id")
        if self.scope != "fleet" and self.id is None:
            raise ValueError(f"scope={self.scope} needs an id")
        return self


def fleet_kpi_payload(scope: str, scope_id: str | None, visible: set[str] | None) -> dict:
    """Return the ``<kpi payload>`` of the scope for a caller seeing ``visible`` sites (None: all).

    Raises ApiError 404 when the market or site is unknown (or not visible to the caller).
    """
    svc = services()
    hub = svc.extras.get("live_hub")
    if hub is not None:
        figures = hub.current_figures(visible)
        prices = hub.prices()
    else:
        from data.fleet import latest_rt_prices, store_site_figures

        now = dt.datetime.now(dt.UTC)
        with svc.db.read_session() as session:
            figures = [f for f in store_site_figures(session, now).values() if visible is None or f.site_id in visible]
            prices = latest_rt_prices(session, now)
    if scope == "site" and not any(f.site_id == scope_id for f in figures):
        raise ApiError(404, f"no site with id {scope_id!r}")
    if scope == "market" and not any(f.market == scope_id for f in figures):
        raise ApiError(404, f"no market {scope_id!r} with sites")
    return kpi_payload(scope_kpis(figures, scope, scope_id, prices))


def register(bp: Blueprint) -> None:
    """Add GET /fleet/kpis to ``bp``."""

    @bp.get("/fleet/kpis")
    @require("fleet:read")
    def fleet_kpis():
        query = KpiQuery.model_validate(request.args.to_dict())
        return jsonify(fleet_kpi_payload(query.scope, query.id, current_visible_site_ids()))

    spec.add_path("/fleet/kpis", "get", {
        "summary": "Fleet, market or site KPIs now: output, capacity, expected, energy today, sites reporting, "
                   "revenue rate per currency, with their display texts (the numbers every screen shows)",
        "parameters": spec.query_parameters(KpiQuery),
        "responses": {"200": {"description": "kpi payload: scope, id, values, text"},
                      "400": {"description": "bad scope or id"}, "404": {"description": "unknown market or site"}},
    })
