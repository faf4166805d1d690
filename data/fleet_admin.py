"""Small administrative reads on the fleet used at start-up and by the CLI."""
from __future__ import annotations

from sqlalchemy import func, select

from data.db import Database
from data.models import Site


def fleet_is_empty(db: Database) -> bool:
    """Return True when no site exists yet."""
    with db.session() as session:
        return session.execute(select(func.count()).select_from(Site)).scalar_one() == 0
