"""Runs the Alembic migrations programmatically against a Database."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.settings import REPO_ROOT
from data.db import Database


def alembic_config(db: Database) -> Config:
    """Return an Alembic Config pointing at the repo's migrations and ``db``'s URL."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = db.engine
    return config


def upgrade_to_head(db: Database) -> None:
    """Apply every pending migration to ``db``."""
    command.upgrade(alembic_config(db), "head")
