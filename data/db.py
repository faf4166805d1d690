"""Engine and session factory, built once per process.

SQLite runs in WAL mode with foreign keys on; PostgreSQL is used as given by the URL.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    # Checkpoints run mostly in WalCheckpointer's thread, off the request path; this bound keeps
    # the WAL from growing without limit if that thread is not running.
    cursor.execute("PRAGMA wal_autocheckpoint=20000")
    cursor.close()


def _sqlite_driver_autocommit(dbapi_connection, _record) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_begin), instead of the driver's implicit one
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn) -> None:
    # On SQLite a transaction that reads and then writes must take the write lock up front:
    # upgrading a WAL read snapshot to a writer fails at once ("database is locked",
    # SQLITE_BUSY_SNAPSHOT) when another writer committed meanwhile, without waiting for the busy
    # timeout. So every transaction begins IMMEDIATE (waits its turn, then cannot fail that way)
    # unless it was opened through Database.read_session(), which read-only views use so that
    # readers run concurrently with the writer.
    if conn.get_execution_options().get("sqlite_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, echo: bool = False) -> Engine:
    """Return an Engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_driver_autocommit)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def checkpoint_wal(engine: Engine, mode: str = "PASSIVE") -> None:
    """Fold the SQLite WAL back into the database file (outside any transaction)."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None, "an open connection has its DB-API connection"
        raw.execute(f"PRAGMA wal_checkpoint({mode})")


class WalCheckpointer:
    """Background thread that folds the SQLite WAL back into the database every few seconds."""

    def __init__(self, engine: Engine, interval_s: float = 2.0) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fleetlight-sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        """Start checkpointing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop checkpointing and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                checkpoint_wal(self._engine, "PASSIVE")
            except Exception:
                log.exception("WAL checkpoint failed")


@contextmanager
def _unit_of_work(session: Session) -> Iterator[Session]:
    """Yield ``session``; commit on success, roll back on error, always close."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class Database:
    """Holds the engine and session factory; one instance per app, closed at shutdown."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self._checkpointer: WalCheckpointer | None = None

    def start_maintenance(self) -> None:
        """Start background WAL checkpoints (file-backed SQLite only)."""
        if self.is_sqlite and self.engine.url.database not in (None, "", ":memory:") and self._checkpointer is None:
            self._checkpointer = WalCheckpointer(self.engine)
            self._checkpointer.start()

    @property
    def is_sqlite(self) -> bool:
        """Return True when the backing store is SQLite."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session that commits on success and rolls back on error."""
        with _unit_of_work(self.session_factory()) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """Yield a session for read-only work: on SQLite it runs beside the writer without locking.

        Writing through it is allowed but may fail with "database is locked" under concurrent
        writes; use :meth:`session` for anything that writes.
        """
        if not self.is_sqlite:
            with self.session() as session:
                yield session
            return
        with self.engine.connect() as connection:
            readonly = connection.execution_options(sqlite_read_only=True)
            with _unit_of_work(Session(bind=readonly, expire_on_commit=False)) as session:
                yield session

    def dispose(self) -> None:
        """Stop maintenance and close every pooled connection."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()
