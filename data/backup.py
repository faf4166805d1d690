"""Backup and restore of the whole database: SQLite through its online backup API, PostgreSQL
through ``pg_dump``/``pg_restore`` (custom format). A backup file says what it is by its first
bytes ("SQLite format 3" or "PGDMP"), and is restored only into a database of the same kind.

Backups are consistent while the app runs (SQLite's backup API copies a snapshot; ``pg_dump``
reads one transaction). Restore replaces everything in the target database: stop the app and the
workers first. Passwords never appear on a command line or in a log: ``pg_dump`` gets them through
``PGPASSWORD``.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    """What was written or read: the file, its size and the database kind."""

    path: Path
    bytes: int
    kind: str  # sqlite | postgresql


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _pg_env_and_uri(url: URL) -> tuple[dict[str, str], str]:
    """Return (environment with PGPASSWORD, libpq URI without the password) for ``url``."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return env, plain.render_as_string(hide_password=False)


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({command[0]} exit {done.returncode}): {done.stderr.strip()[:500]}")


def backup(database_url: str, target: Path) -> BackupResult:
    """Write a backup of the database at ``database_url`` to ``target``; return what was written."""
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
        kind = "sqlite"
    elif url.get_backend_name() == "postgresql":
        env, uri = _pg_env_and_uri(url)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", f"--dbname={uri}"], env, "pg_dump")
        kind = "postgresql"
    else:
        raise BackupError(f"no backup for database backend {url.get_backend_name()!r}")
    return BackupResult(target, target.stat().st_size, kind)


def backup_kind(path: Path) -> str:
    """Return "sqlite" or "postgresql" from the file's first bytes; raise BackupError for anything else."""
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Fleetlight backup (neither a SQLite file nor a pg_dump custom archive)")


def restore(database_url: str, source: Path) -> BackupResult:
    """Replace everything in the database at ``database_url`` by the backup ``source``; return what was read."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    url = make_url(database_url)
    kind = backup_kind(source)
    if kind != url.get_backend_name():
        raise BackupError(f"{source} is a {kind} backup; the configured database is {url.get_backend_name()}")
    if kind == "sqlite":
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(_sqlite_path(url))
            try:
                backup_db.backup(target)
            finally:
                target.close()
        finally:
            backup_db.close()
    else:
        env, uri = _pg_env_and_uri(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
              f"--dbname={uri}", str(source)], env, "pg_restore")
    return BackupResult(source, source.stat().st_size, kind)
