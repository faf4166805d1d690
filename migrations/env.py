"""Alembic environment: uses the engine handed over by data.migrate, or the settings' URL."""
from __future__ import annotations

from alembic import context

from data.models import Base

config = context.config
target_metadata = Base.metadata


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    from core.settings import get_settings
    from data.db import make_engine

    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url()
    return make_engine(url)


def run_migrations_offline() -> None:
    """Emit SQL without a connection (alembic upgrade --sql)."""
    from core.settings import get_settings

    context.configure(url=get_settings().resolved_database_url(), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a live connection."""
    engine = _engine()
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
