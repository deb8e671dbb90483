"""Engines, sessions, readiness and Alembic migrations of the catalog database.

This module is the database edge: it builds SQLAlchemy engines with the settings each backend needs
(SQLite: foreign keys, WAL, busy timeout, real transactions; PostgreSQL via psycopg 3: pre-ping and
a connect timeout), runs the Alembic migrations in ``archive/migrations`` programmatically (no
``alembic.ini``), and translates "cannot connect" into :class:`DatabaseUnavailable`.

It leaves what to store to :mod:`archive.catalog.models`, what to ask to :mod:`archive.catalog.queries`,
and transactions to the service that owns them (ingest, audit); nothing here commits catalog rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from archive.catalog.errors import DatabaseNotMigrated, DatabaseUnavailable, UnsupportedDatabaseUrl

if TYPE_CHECKING:
    from alembic.config import Config

#: Folder of the Alembic environment (``env.py``, ``script.py.mako``, ``versions/``); shipped as package data.
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_TIMEOUT_MS = 5000
#: libpq TCP options: probe an idle connection after 30 s, give up after 3 unanswered probes 10 s apart,
#: and drop a connection whose sent data stays unacknowledged for 60 s.
PG_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}
#: Execution option: on SQLite, start transactions with BEGIN IMMEDIATE (take the write lock up front).
SQLITE_BEGIN_IMMEDIATE = "edossier_sqlite_begin_immediate"


# ----------------------------------------------------------------- engines
def _parse_url(url: str | URL) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UnsupportedDatabaseUrl(
            "database_url: expected an SQLAlchemy URL such as sqlite:///path or "
            "postgresql+psycopg://user@host/db; found a string that is not a URL"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the one driver we ship
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise UnsupportedDatabaseUrl(
            f"database_url: expected backend sqlite or postgresql+psycopg; found {parsed.drivername!r}"
        )
    return parsed


def make_engine(url: str | URL, *, connect_timeout_s: int = CONNECT_TIMEOUT_S) -> Engine:
    """Build an engine for the catalog at ``url`` (SQLite file or PostgreSQL via psycopg 3).

    SQLite: the parent folder of the file is created; every connection gets ``foreign_keys=ON``,
    ``journal_mode=WAL`` and ``busy_timeout``, and SQLAlchemy emits ``BEGIN`` itself so that
    SELECTs, DDL and SAVEPOINTs take part in transactions (the sqlite3 driver's legacy mode does not).
    PostgreSQL: ``pool_pre_ping``, a connect timeout so an outage is reported quickly, and TCP
    keepalives with ``tcp_user_timeout`` so a connection to a server behind a dead network path fails
    after about a minute instead of hanging (a server that answers TCP but never replies is not
    bounded by this). Both: ``hide_parameters`` — error messages and logs never carry bound values
    (案号, parties' and judges' names).
    No connection is opened here; use :func:`check_ready` for that.

    Raises:
        UnsupportedDatabaseUrl: ``url`` is not a URL, or names another backend or driver.
    """
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(parsed, connect_timeout_s)
    try:
        return create_engine(
            parsed,
            pool_pre_ping=True,
            hide_parameters=True,
            connect_args={"connect_timeout": connect_timeout_s, **PG_KEEPALIVES},
        )
    except NoSuchModuleError:  # pragma: no cover - psycopg is a hard dependency
        raise UnsupportedDatabaseUrl(f"database_url: driver {parsed.drivername!r} is not installed") from None


def _make_sqlite_engine(parsed: URL, connect_timeout_s: int) -> Engine:
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # pool_size covers the API's route threads (api.http.app.ROUTE_THREADS) plus background work
    engine = create_engine(
        parsed, connect_args={"timeout": connect_timeout_s}, pool_size=12, max_overflow=8, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 driver (legacy transaction control) – SQLAlchemy's
        # documented recipe for transactional DDL and working SAVEPOINTs on Python < 3.12.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
            if database and database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(SQLITE_BEGIN_IMMEDIATE) else "BEGIN")

    return engine


def session_factory(engine: Engine, *, write: bool = False) -> sessionmaker[Session]:
    """A session maker bound to ``engine``; objects stay readable after the owner commits.

    ``write=True`` is for transactions that will write (ingest, ledger appends): on SQLite they begin
    with ``BEGIN IMMEDIATE`` so a second writer waits (``busy_timeout``) at the start instead of
    failing with "database is locked" when a read transaction tries to become a write one.
    PostgreSQL is unaffected (it locks rows, e.g. the ledger head ``FOR UPDATE``).
    """
    bind = engine.execution_options(**{SQLITE_BEGIN_IMMEDIATE: True}) if write else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


def describe(engine: Engine) -> str:
    """The engine's URL with any password hidden, for messages and logs."""
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def _connect(engine: Engine) -> Iterator[Connection]:
    """Open a connection, translating "cannot reach the database" at the edge."""
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise DatabaseUnavailable(f"database {describe(engine)} cannot be reached: {reason}") from None
    with conn:
        yield conn


def check_ready(engine: Engine) -> None:
    """Open one connection and run ``SELECT 1``; fast (bounded by the engine's connect timeout).

    Raises:
        DatabaseUnavailable: the database cannot be reached or does not answer.
    """
    with _connect(engine) as conn:
        try:
            conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            raise DatabaseUnavailable(
                f"database {describe(engine)} did not answer SELECT 1: {type(exc.orig).__name__}"
            ) from None


# -------------------------------------------------------------- migrations
#: The revision this code expects the database at (a test keeps it equal to the newest file in
#: ``versions/``). Checking it needs no Alembic import, which saves every CLI command ~0.1 s.
SCHEMA_HEAD = "0009"
VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations (no ``alembic.ini`` needed)."""
    from alembic.config import Config  # Alembic is imported only to migrate

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision id in ``archive/migrations/versions``."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise RuntimeError(f"no Alembic revisions found in {MIGRATIONS_DIR}")
    return head


@contextmanager
def _engine_for(target: str | URL | Engine) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = make_engine(target)
    try:
        yield engine
    finally:
        engine.dispose()


def _run(target: str | URL | Engine, action: str, revision: str) -> None:
    from alembic import command

    with _engine_for(target) as engine, _connect(engine) as conn, conn.begin():
        config = alembic_config()
        config.attributes["connection"] = conn  # env.py runs on this connection, inside this transaction
        if action == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)


def upgrade(target: str | URL | Engine, revision: str = "head") -> None:
    """Migrate the database at ``target`` (URL or engine) up to ``revision`` in one transaction.

    Raises:
        DatabaseUnavailable: the database cannot be reached.
        UnsupportedDatabaseUrl: ``target`` is a malformed or unsupported URL.
    """
    _run(target, "upgrade", revision)


def downgrade_to_base(target: str | URL | Engine) -> None:
    """Undo every migration (drops all catalog and ledger tables). For tests and tear-down only.

    Raises:
        DatabaseUnavailable: the database cannot be reached.
        UnsupportedDatabaseUrl: ``target`` is a malformed or unsupported URL.
    """
    _run(target, "downgrade", "base")


def current_revision(target: str | URL | Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated.

    Raises:
        DatabaseUnavailable: the database cannot be reached.
        UnsupportedDatabaseUrl: ``target`` is a malformed or unsupported URL.
    """
    with _engine_for(target) as engine, _connect(engine) as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        if len(versions) > 1:  # pragma: no cover - we never branch migrations
            raise DatabaseNotMigrated(f"{describe(engine)}: several Alembic heads {sorted(versions)}")
        return versions[0] if versions else None


def schema_is_current(target: str | URL | Engine) -> bool:
    """Whether the database is at the head revision (False when never migrated).

    Raises:
        DatabaseUnavailable: the database cannot be reached.
    """
    return current_revision(target) == SCHEMA_HEAD


def verify_schema_current(engine: Engine) -> None:
    """Check that the database is migrated to the head revision this code was written for.

    Raises:
        DatabaseNotMigrated: the database is at another revision, or not migrated at all.
        DatabaseUnavailable: the database cannot be reached.
    """
    expected = SCHEMA_HEAD
    found = current_revision(engine)
    if found != expected:
        raise DatabaseNotMigrated(
            f"schema revision of {describe(engine)}: expected {expected}, found {found or 'none (empty)'}"
        )
