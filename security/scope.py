"""Portfolio scoping: a user (or token owner) with a non-empty ``portfolio_scope`` sees only the
sites of those portfolios. Pages, callbacks and API routes call these helpers::

    from security.scope import current_visible_site_ids, filter_site_frame
    frame = filter_site_frame(site_frame(session))        # polars frame with a site_id column
    ids = current_visible_site_ids()                       # None = every site

Outside a request (background jobs, CLI) nothing is filtered.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import g, has_request_context
from sqlalchemy import select

from security.access import Caller, current_caller

if TYPE_CHECKING:
    import polars as pl


def visible_site_ids(caller: Caller | None) -> set[str] | None:
    """Return the ids of the sites ``caller`` may see; None means all; an anonymous caller sees none."""
    if caller is None:
        return set()
    if not caller.portfolio_scope:
        return None
    from core.runtime import db
    from data.models import Site

    with db().session() as session:
        return set(session.execute(select(Site.id).where(Site.portfolio_id.in_(list(caller.portfolio_scope)))).scalars())


def current_visible_site_ids() -> set[str] | None:
    """Return :func:`visible_site_ids` of the current request's caller (cached per request)."""
    if not has_request_context():
        return None
    if "fleetlight_visible_sites" not in g:
        g.fleetlight_visible_sites = visible_site_ids(current_caller())
    return g.fleetlight_visible_sites


def site_visible(caller: Caller | None, site_id: str) -> bool:
    """Return True if ``caller`` may see the site ``site_id``."""
    ids = visible_site_ids(caller)
    return ids is None or site_id in ids


def current_site_visible(site_id: str | None) -> bool:
    """Return True if the current request's caller may see ``site_id`` (always True outside requests)."""
    ids = current_visible_site_ids()
    return ids is None or (site_id is not None and site_id in ids)


def filter_site_frame(frame: pl.DataFrame, column: str = "site_id") -> pl.DataFrame:
    """Return the rows of ``frame`` whose ``column`` is a site visible to the current caller."""
    ids = current_visible_site_ids()
    if ids is None:
        return frame
    import polars as pl

    return frame.filter(pl.col(column).is_in(sorted(ids)))


def visible_assets(session, ids: set[str], limit: int, offset: int) -> list:
    """Return the assets of the sites ``ids``, ordered by id, paged (for scoped asset lists)."""
    from data.models import Asset

    stmt = select(Asset).where(Asset.site_id.in_(sorted(ids))).order_by(Asset.id).limit(limit).offset(offset)
    return list(session.execute(stmt).scalars())


def filter_asset_ids(session, asset_ids: list[str]) -> list[str]:
    """Return the ids in ``asset_ids`` whose site the current caller may see (order kept)."""
    ids = current_visible_site_ids()
    if ids is None or not asset_ids:
        return asset_ids
    from data.models import Asset

    allowed = set(session.execute(select(Asset.id).where(Asset.id.in_(asset_ids), Asset.site_id.in_(sorted(ids)))).scalars())
    return [a for a in asset_ids if a in allowed]
