"""Alembic environment of the catalog, configured programmatically by :mod:`archive.catalog.db`.

Online mode runs on the connection the caller put in ``config.attributes["connection"]`` (inside the
caller's transaction); without one it builds an engine with :func:`archive.catalog.db.make_engine` from
the ``sqlalchemy.url`` option. Offline mode (``--sql``) renders SQL for ``sqlalchemy.url``'s dialect.
Revision scripts live in ``versions/``; this file only wires them to :data:`Base.metadata`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from archive.catalog.db import make_engine
from archive.catalog.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER needs batch mode
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise ValueError("alembic: set config.attributes['connection'] or the sqlalchemy.url option")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
