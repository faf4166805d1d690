"""Test databases: a migrated template per session, cloned per test (SQLite file copy or
PostgreSQL ``CREATE DATABASE ... TEMPLATE``), so every test starts from a clean migrated schema.

PostgreSQL is used when ``FLEETLIGHT_TEST_DATABASE_URL`` names a server (e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``); the suite then creates and drops its own
scratch databases on it.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from data.db import Database, checkpoint_wal
from data.migrate import upgrade_to_head


class SqliteFactory:
    """Clones a migrated SQLite template file for each test."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.template = workdir / "template.db"
        db = Database(f"sqlite:///{self.template}")
        upgrade_to_head(db)
        checkpoint_wal(db.engine, "TRUNCATE")
        db.dispose()

    def new(self) -> Database:
        """Return a fresh migrated database."""
        path = self.workdir / f"t-{uuid.uuid4().hex[:10]}.db"
        shutil.copyfile(self.template, path)
        return Database(f"sqlite:///{path}")

    def drop(self, db: Database) -> None:
        """Dispose of ``db`` and delete its files."""
        db.dispose()
        base = db.engine.url.database or ""
        for suffix in ("", "-wal", "-shm"):
            Path(base + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing to do: the work folder is removed by pytest."""


class PostgresFactory:
    """Creates a migrated template database on a server and clones it per test."""

    def __init__(self, server_url: str) -> None:
        url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.server_url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.prefix = f"fltest_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}"'))
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        db = Database(url.set(database=self.template).render_as_string(hide_password=False))
        upgrade_to_head(db)
        db.dispose()
        self._made: list[str] = []

    def new(self) -> Database:
        """Return a fresh migrated database cloned from the template."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self._made.append(name)
        return Database(self.server_url.set(database=name).render_as_string(hide_password=False))

    def drop(self, db: Database) -> None:
        """Dispose of ``db`` and drop it."""
        name = db.engine.url.database
        db.dispose()
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop the template."""
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
        self.admin.dispose()
