"""GET /api/v1/kpis: period performance KPIs of a site, a portfolio or every visible site.

Computed by :func:`data.performance_queries.performance_for` (the model of
:mod:`domain.performance`) from the 15-min rollups, the same call the /performance page and the
site page make, so every surface shows the same PR. Each KPI carries its value or a dash with the
reason, its data coverage and its definition (formula and standard).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import Blueprint, jsonify, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from api import spec
from api.errors import ApiError
from core.runtime import db
from data.models import utcnow
from data.performance_queries import performance_for, selected_sites
from domain.performance_kpis import PerformanceReport, series_records
from domain.quality import quality_summary
from security.access import require
from security.scope import current_scope

EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
MAX_PERIOD = dt.timedelta(days=400)
MAX_15MIN_PERIOD = dt.timedelta(days=31)


class PerformanceQuery(BaseModel):
    """Which sites and period: one site, one portfolio, or (neither) every site the caller sees."""

    model_config = ConfigDict(extra="forbid")

    site_id: str | None = Field(None, min_length=1, max_length=64, description="one site id")
    portfolio_id: str | None = Field(None, min_length=1, max_length=64, description="a portfolio (instead of site_id)")
    start: AwareDatetime | None = Field(None, description="ISO 8601 with zone, interval start; default end - 7 days")
    end: AwareDatetime | None = Field(None, description="ISO 8601 with zone, exclusive; default now")
    resolution: Literal["15min", "1d", "1mo"] = Field("1d", description="of the actual-vs-expected series (UTC)")

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if value is None:
            return None
        if not EARLIEST <= value <= LATEST:
            raise ValueError(f"{info.field_name} must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} UTC")
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _check(self) -> PerformanceQuery:
        if self.site_id and self.portfolio_id:
            raise ValueError("give site_id or portfolio_id, not both")
        end = self.end or utcnow()
        start = self.start or end - dt.timedelta(days=7)
        if start >= end:
            raise ValueError("start must be before end")
        if end - start > MAX_PERIOD:
            raise ValueError(f"the period may span at most {MAX_PERIOD.days} days")
        if self.resolution == "15min" and end - start > MAX_15MIN_PERIOD:
            raise ValueError(f"resolution=15min takes at most {MAX_15MIN_PERIOD.days} days; use 1d or 1mo")
        self.start, self.end = start, end
        return self


def report_payload(report: PerformanceReport, site_ids: list[str], query: PerformanceQuery) -> dict[str, Any]:
    """Return the JSON body: the selection, every KPI (value, text, coverage, definition), series, waterfall."""
    return {
        "site_ids": site_ids, "portfolio_id": query.portfolio_id,
        "start": query.start.isoformat() if query.start else None, "end": query.end.isoformat() if query.end else None,
        "resolution": query.resolution,
        "kpis": {key: result.as_dict() for key, result in report.kpis.items()},
        "series": series_records(report.series),
        "waterfall": [{"step": step, "kwh": round(kwh, 3)} for step, kwh in report.waterfall],
        "quality": quality_summary(report.quality),
        "valued_losses": report.valued_losses,
    }


def selected_site_ids(site_id: str | None, portfolio_id: str | None) -> list[str]:
    """Return the visible site ids of the selection; ApiError 404 for an unknown or invisible site or portfolio."""
    selection = f"site:{site_id}" if site_id else f"portfolio:{portfolio_id}" if portfolio_id else "fleet"
    with db().read_session() as session:
        ids = selected_sites(session, selection, current_scope().site_ids)
    if site_id and not ids:
        raise ApiError(404, f"no site with id {site_id!r}")
    if portfolio_id and not ids:
        raise ApiError(404, f"no portfolio with id {portfolio_id!r}")
    return ids


def register(bp: Blueprint) -> None:
    """Add GET /kpis to ``bp``."""

    @bp.get("/kpis")
    @require("fleet:read")
    def period_kpis():
        query = PerformanceQuery.model_validate(request.args.to_dict())
        ids = selected_site_ids(query.site_id, query.portfolio_id)
        with db().read_session() as session:
            _configs, report = performance_for(session, ids, query.start, query.end, query.resolution)  # type: ignore[arg-type]
        return jsonify(report_payload(report, ids, query))

    spec.add_path("/kpis", "get", {
        "summary": "Performance KPIs of a site, portfolio or every visible site over a period, from the 15-min "
                   "rollups: actual and expected energy, actual/expected, PR (IEC 61724-1, plain and temperature-"
                   "corrected), capacity factor, specific yield, availability (IEC 61400-26 time technical/operational, "
                   "energy), losses (downtime, curtailment, underperformance); each with its text (a dash with the "
                   "reason when undefined), coverage and definition; the actual-vs-expected series and loss waterfall",
        "parameters": spec.query_parameters(PerformanceQuery),
        "responses": {"200": {"description": "site_ids, kpis {key: {value, text, reason, coverage, coverage_text, "
                                             "definition}}, series, waterfall, quality (per asset and day: "
                                             "gaps, out-of-range, stuck, score; the worst asset-days)"},
                      "400": {"description": "bad site, period or resolution"},
                      "404": {"description": "unknown site or portfolio (or not visible to the caller)"}},
    })
