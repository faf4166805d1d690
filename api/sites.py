"""GET /api/v1/sites, /sites/<id>, /assets, /assets/<id>: the fleet's structure and live state."""
from __future__ import annotations

from typing import Any, Literal

import polars as pl
from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from api import spec
from api.errors import ApiError
from core.runtime import db
from data.fleet import SITE_COLUMNS, asset_latest, get_site, list_assets, site_frame
from domain.status import StatusName
from security.access import require
from security.scope import current_site_visible, current_visible_site_ids, filter_site_frame, visible_assets

SortKey = Literal["site_id", "name", "kind", "market", "capacity_mw", "output_mw", "status", "last_update"]


class SiteQuery(BaseModel):
    """Filters for the site list."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=100, description="case-insensitive match on id, name, region or node")
    kind: Literal["solar", "wind", "storage", "hybrid", "substation"] | None = None
    market: str | None = Field(None, max_length=32)
    status: StatusName | None = None
    sort: SortKey = "site_id"
    descending: bool = False
    limit: int = Field(500, ge=1, le=100_000)
    offset: int = Field(0, ge=0, le=10_000_000)


class AssetQuery(BaseModel):
    """Filters for the asset list."""

    model_config = ConfigDict(extra="forbid")

    site_id: str | None = Field(None, max_length=64)
    limit: int = Field(1000, ge=1, le=100_000)
    offset: int = Field(0, ge=0, le=10_000_000)


def filter_sites(frame: pl.DataFrame, query: SiteQuery) -> pl.DataFrame:
    """Return the rows of ``frame`` matching ``query``, sorted and paged."""
    if query.q:
        needle = query.q.lower()
        frame = frame.filter(
            pl.concat_str([pl.col("site_id"), pl.col("name"), pl.col("region"), pl.col("pricing_node")],
                          separator=" ").str.to_lowercase().str.contains(needle, literal=True)
        )
    if query.kind:
        frame = frame.filter(pl.col("kind") == query.kind)
    if query.market:
        frame = frame.filter(pl.col("market").str.to_uppercase() == query.market.upper())
    if query.status:
        frame = frame.filter(pl.col("status") == query.status)
    frame = frame.sort(query.sort, descending=query.descending, nulls_last=True)
    return frame.slice(query.offset, query.limit)


def _row_json(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if out.get("last_update") is not None:
        out["last_update"] = out["last_update"].isoformat()
    return out


def _query_args(model: type[BaseModel]) -> BaseModel:
    return model.model_validate(request.args.to_dict())


def register(bp: Blueprint) -> None:
    """Add the site and asset routes to ``bp``."""

    @bp.get("/sites")
    @require("fleet:read")
    def sites():
        query = _query_args(SiteQuery)
        with db().read_session() as session:
            frame = filter_site_frame(site_frame(session))
        total = frame.height
        page = filter_sites(frame, query)  # type: ignore[arg-type]
        return jsonify({"total": total, "count": page.height, "sites": [_row_json(r) for r in page.iter_rows(named=True)]})

    @bp.get("/sites/<site_id>")
    @require("fleet:read")
    def site(site_id: str):
        with db().read_session() as session:
            found = get_site(session, site_id) if current_site_visible(site_id) else None
            if found is None:
                raise ApiError(404, f"no site with id {site_id!r}")
            frame = site_frame(session).filter(pl.col("site_id") == site_id)
            assets = [_asset_json(a) for a in found.assets]
            latest = asset_latest(session, [a["asset_id"] for a in assets])
        for asset in assets:
            asset["latest"] = {m: {"ts": ts.isoformat(), "value": v} for m, (ts, v) in latest.get(asset["asset_id"], {}).items()}
        body = _row_json(frame.row(0, named=True))
        body.update({"data_source": found.data_source, "attributes": found.attributes, "assets": assets})
        return jsonify(body)

    @bp.get("/assets")
    @require("fleet:read")
    def assets():
        query = _query_args(AssetQuery)
        with db().read_session() as session:
            visible = current_visible_site_ids()
            if visible is None:
                rows = list_assets(session, query.site_id, query.limit, query.offset)  # type: ignore[attr-defined]
            else:  # caller scoped to some portfolios
                wanted = visible & {query.site_id} if query.site_id else visible  # type: ignore[attr-defined]
                rows = visible_assets(session, wanted, query.limit, query.offset)  # type: ignore[attr-defined]
            return jsonify({"count": len(rows), "assets": [_asset_json(a) for a in rows]})

    @bp.get("/assets/<asset_id>")
    @require("fleet:read")
    def asset(asset_id: str):
        from data.models import Asset

        with db().read_session() as session:
            found = session.get(Asset, asset_id)
            if found is None or not current_site_visible(found.site_id):
                raise ApiError(404, f"no asset with id {asset_id!r}")
            body = _asset_json(found)
            latest = asset_latest(session, [asset_id]).get(asset_id, {})
        body["latest"] = {m: {"ts": ts.isoformat(), "value": v} for m, (ts, v) in latest.items()}
        return jsonify(body)

    site_schema = {"type": "object", "properties": {c: {} for c in SITE_COLUMNS}}
    spec.add_path("/sites", "get", {
        "summary": "Sites with live output, status and filters", "parameters": spec.query_parameters(SiteQuery),
        "responses": {"200": {"description": "sites", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"total": {"type": "integer"}, "count": {"type": "integer"},
                                             "sites": {"type": "array", "items": site_schema}}}}}}},
    })
    spec.add_path("/sites/{site_id}", "get", {
        "summary": "One site with its assets and their latest values",
        "parameters": [{"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "site"}, "404": {"description": "unknown site"}},
    })
    spec.add_path("/assets", "get", {
        "summary": "Assets, optionally of one site", "parameters": spec.query_parameters(AssetQuery),
        "responses": {"200": {"description": "assets"}},
    })
    spec.add_path("/assets/{asset_id}", "get", {
        "summary": "One asset with its latest values",
        "parameters": [{"name": "asset_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "asset"}, "404": {"description": "unknown asset"}},
    })


def _asset_json(asset: Any) -> dict[str, Any]:
    return {
        "asset_id": asset.id, "site_id": asset.site_id, "name": asset.name, "kind": asset.kind.value,
        "capacity_kw": asset.capacity_kw, "manufacturer": asset.manufacturer, "model": asset.model,
        "latitude": asset.latitude, "longitude": asset.longitude,
    }
