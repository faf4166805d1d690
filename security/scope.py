"""Portfolio scoping: the one accessor through which pages, callbacks, routes and socket rooms
reach sites. A caller (user or token owner) with a non-empty ``portfolio_scope`` sees only the
sites of those portfolios; :func:`scope_of` turns a caller into a :class:`SiteScope`::

    from security.scope import current_scope
    scope = current_scope()                     # the current request's caller (cached per request)
    frame = scope.frame(site_frame(session))    # polars frame with a site_id column
    meta = site_meta(session, scope.site_ids)   # queries take the visible ids (None = every site)

The older helpers below (``current_visible_site_ids``, ``filter_site_frame`` ...) are thin
wrappers over the same scope. Outside a request (background jobs, CLI) nothing is filtered;
inside one, an anonymous caller sees nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from flask import g, has_request_context
from sqlalchemy import select

from security.access import Caller, current_caller

if TYPE_CHECKING:
    import polars as pl

V = TypeVar("V")


@dataclass(frozen=True)
class SiteScope:
    """The sites one caller may see: ``site_ids`` None means every site.

    ``key`` names the scope for per-scope socket rooms: "" for every site, else ``p:`` and the
    sorted portfolio ids (callers with the same portfolios share rooms).
    """

    site_ids: frozenset[str] | None
    key: str = ""

    @property
    def unrestricted(self) -> bool:
        """Return True if this scope holds every site."""
        return self.site_ids is None

    def sees(self, site_id: str | None) -> bool:
        """Return True if the site ``site_id`` is in this scope."""
        return self.site_ids is None or (site_id is not None and site_id in self.site_ids)

    def ids(self, site_ids: Iterable[str]) -> list[str]:
        """Return the ids of ``site_ids`` in this scope (order kept)."""
        return list(site_ids) if self.site_ids is None else [s for s in site_ids if s in self.site_ids]

    def items(self, by_site: Mapping[str, V]) -> dict[str, V]:
        """Return the entries of ``by_site`` (keyed by site id) in this scope."""
        if self.site_ids is None:
            return dict(by_site)
        return {s: v for s, v in by_site.items() if s in self.site_ids}

    def frame(self, frame: pl.DataFrame, column: str = "site_id") -> pl.DataFrame:
        """Return the rows of ``frame`` whose ``column`` is a site in this scope."""
        if self.site_ids is None:
            return frame
        import polars as pl

        return frame.filter(pl.col(column).is_in(sorted(self.site_ids)))


EVERY_SITE = SiteScope(None)
NO_SITE = SiteScope(frozenset(), "none")


def scope_key(portfolios: Iterable[str]) -> str:
    """Return the room key of a portfolio scope (``p:`` + sorted ids joined by commas)."""
    return "p:" + ",".join(sorted(set(portfolios)))


def scope_of(caller: Caller | None) -> SiteScope:
    """Return the :class:`SiteScope` of ``caller``: every site when unscoped, none when anonymous."""
    if caller is None:
        return NO_SITE
    if not caller.portfolio_scope:
        return EVERY_SITE
    from core.runtime import db
    from data.models import Site

    with db().session() as session:
        ids = frozenset(session.execute(
            select(Site.id).where(Site.portfolio_id.in_(list(caller.portfolio_scope)))).scalars())
    return SiteScope(ids, scope_key(caller.portfolio_scope))


def user_scopes(db: Any) -> dict[str, frozenset[str]]:
    """Return {scope key: site ids} of every portfolio scope held by an active user of ``db``.

    For a pushing process that sees no connections (the store worker pushing through Redis): it
    sends each of these scopes its cut of every fleet-wide push.
    """
    from data.models import Site, User

    with db.session() as session:
        scopes = {tuple(sorted(set(s))) for s in session.execute(
            select(User.portfolio_scope).where(User.is_active.is_(True))).scalars() if s}
        out = {}
        for portfolios in scopes:
            ids = session.execute(select(Site.id).where(Site.portfolio_id.in_(list(portfolios)))).scalars()
            out[scope_key(portfolios)] = frozenset(ids)
    return out


def current_scope() -> SiteScope:
    """Return the scope of the current request's caller (cached per request); every site outside requests."""
    if not has_request_context():
        return EVERY_SITE
    if "fleetlight_scope" not in g:
        g.fleetlight_scope = scope_of(current_caller())
    return g.fleetlight_scope


def visible_site_ids(caller: Caller | None) -> set[str] | None:
    """Return the ids of the sites ``caller`` may see; None means all; an anonymous caller sees none."""
    ids = scope_of(caller).site_ids
    return None if ids is None else set(ids)


def current_visible_site_ids() -> set[str] | None:
    """Return the ids of the sites the current request's caller may see (None: all)."""
    ids = current_scope().site_ids
    return None if ids is None else set(ids)


def site_visible(caller: Caller | None, site_id: str) -> bool:
    """Return True if ``caller`` may see the site ``site_id``."""
    return scope_of(caller).sees(site_id)


def current_site_visible(site_id: str | None) -> bool:
    """Return True if the current request's caller may see ``site_id`` (always True outside requests)."""
    return current_scope().sees(site_id)


def filter_site_frame(frame: pl.DataFrame, column: str = "site_id") -> pl.DataFrame:
    """Return the rows of ``frame`` whose ``column`` is a site visible to the current caller."""
    return current_scope().frame(frame, column)


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
