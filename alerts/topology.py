"""What stands behind what, for suppression by parent.

A site's parent substation is ``sites.attributes.parent_site_id`` when set, else the substation
site of the same anchor (``attributes.anchor``, the place the demo fleet builds its sites around)
and market. An asset's parent is its site (a site-wide communications loss hides its assets'
alerts). Read from the store and cached for ``ttl_s``.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict

from sqlalchemy import select

from data.db import Database
from data.models import Site, SiteKind


class Topology:
    """Parent substations of sites, read from ``sites`` (cached ``ttl_s`` seconds)."""

    def __init__(self, db: Database, ttl_s: float = 300.0) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._loaded_at = -1e18
        self._parent: dict[str, str] = {}
        self._children: dict[str, set[str]] = {}
        self._substations: set[str] = set()
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read the sites again now."""
        with self.db.read_session() as session:
            rows = session.execute(select(Site.id, Site.kind, Site.market, Site.attributes)).all()
        substations = {sid for sid, kind, _m, _a in rows if kind == SiteKind.substation}
        by_anchor = {((attrs or {}).get("anchor"), market): sid for sid, kind, market, attrs in rows
                     if kind == SiteKind.substation and (attrs or {}).get("anchor")}
        parent: dict[str, str] = {}
        for sid, kind, market, attrs in rows:
            if kind == SiteKind.substation:
                continue
            explicit = (attrs or {}).get("parent_site_id")
            found = explicit if explicit in substations else by_anchor.get(((attrs or {}).get("anchor"), market))
            if found:
                parent[sid] = found
        children: dict[str, set[str]] = defaultdict(set)
        for child, sub in parent.items():
            children[sub].add(child)
        with self._lock:
            self._parent, self._children, self._substations = parent, dict(children), substations
            self._loaded_at = time.monotonic()

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at > self.ttl_s:
            self.refresh()

    def parent_of(self, site_id: str | None) -> str | None:
        """Return the substation site ``site_id`` is behind, or None."""
        if site_id is None:
            return None
        self._fresh()
        return self._parent.get(site_id)

    def children_of(self, site_id: str) -> set[str]:
        """Return the sites behind substation ``site_id`` (empty for any other site)."""
        self._fresh()
        return set(self._children.get(site_id, ()))

    def is_substation(self, site_id: str | None) -> bool:
        """Return True if ``site_id`` is a substation site."""
        if site_id is None:
            return False
        self._fresh()
        return site_id in self._substations
