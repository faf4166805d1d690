"""Writing a :class:`demo.fleet.FleetPlan` to the store with bulk core statements (SQLite or PostgreSQL)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from data.db import Database
from data.models import Asset, AssetLatest, Event, Portfolio, Site, TelemetryPoint, TelemetryRollup

_CHUNK = 5000


def _upsert(session: Any, table: Any, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    cols = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in cols})
    session.execute(stmt, rows)


def write_plan(db: Database, plan: Any, portfolio_ids: Sequence[str], keep_site_ids: Sequence[str]) -> None:
    """Replace the sites of ``portfolio_ids`` by the plan's, in one transaction.

    Sites in ``keep_site_ids`` (the real ones) are upserted with their assets, keeping their
    telemetry; every other site of those portfolios is deleted with its assets and telemetry
    (raw, rollups, latest; other tables follow by ON DELETE CASCADE), then the plan is inserted.
    An ``events`` row ``demo.seeded`` records the change.
    """
    keep = set(keep_site_ids)
    with db.session() as session:
        doomed_sites = select(Site.id).where(Site.portfolio_id.in_(list(portfolio_ids)), Site.id.not_in(list(keep)))
        doomed_assets = select(Asset.id).where(Asset.site_id.in_(doomed_sites))
        for model in (TelemetryPoint, TelemetryRollup, AssetLatest):
            session.execute(delete(model).where(model.asset_id.in_(doomed_assets)))
        session.execute(delete(Asset).where(Asset.site_id.in_(doomed_sites)))
        session.execute(delete(Site).where(Site.id.in_(doomed_sites)))
        _upsert(session, Portfolio.__table__, plan.portfolios, ["id"])
        real_sites = [s for s in plan.sites if s["id"] in keep]
        real_assets = [a for a in plan.assets if a["site_id"] in keep]
        _upsert(session, Site.__table__, real_sites, ["id"])
        _upsert(session, Asset.__table__, real_assets, ["id"])
        # assets of a real site that the plan no longer has
        for site_id in keep:
            wanted = [a["id"] for a in real_assets if a["site_id"] == site_id]
            session.execute(delete(Asset).where(Asset.site_id == site_id, Asset.id.not_in(wanted)))
        new_sites = [s for s in plan.sites if s["id"] not in keep]
        new_assets = [a for a in plan.assets if a["site_id"] not in keep]
        for start in range(0, len(new_sites), _CHUNK):
            session.execute(Site.__table__.insert(), new_sites[start : start + _CHUNK])
        for start in range(0, len(new_assets), _CHUNK):
            session.execute(Asset.__table__.insert(), new_assets[start : start + _CHUNK])
        summary = plan.summary()
        session.add(Event(actor="system", kind="demo.seeded", entity_type="fleet", entity_id="demo",
                          payload={k: summary[k] for k in ("portfolios", "sites", "assets", "generation_capacity_mw")}))
