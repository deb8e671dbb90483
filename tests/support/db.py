"""Database fixtures for every test that touches the catalog (a pytest plugin, see tests/conftest.py).

Fixtures
--------
``db_backend``
    ``"sqlite"`` or ``"postgresql"``; every test using the fixtures below runs once per backend.
    PostgreSQL params carry the ``postgres`` marker.
``database_url``
    An *empty* database (never migrated): SQLite a new file in ``tmp_path``; PostgreSQL a database
    created once per test session whose ``public`` schema is reset before each test.
``migrated_url``
    A database migrated to head. SQLite: a new file per test (a copy of a template migrated once).
    PostgreSQL: one database per session, migrated once – **do not commit to it**; write through
    ``db_session``, which is rolled back.
``db_session``
    A :class:`~sqlalchemy.orm.Session` on ``migrated_url`` inside a transaction that is rolled back at
    the end of the test; ``session.commit()`` inside the test only releases a SAVEPOINT
    (SQLAlchemy 2 ``join_transaction_mode="create_savepoint"``).
``fresh_database_url``
    A callable ``fresh_database_url(backend, *, migrated=True) -> str`` for tests that must commit
    for real (ingest, concurrency): a new SQLite file, or a new PostgreSQL database (created from a
    migrated template, dropped at the end of the session).

PostgreSQL comes from ``EDOSSIER_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
used only as an admin connection to create and drop ``edossier_t_<hex>_*`` databases. When it cannot be
reached the PostgreSQL tests are skipped – unless ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Protocol

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from archive.catalog.db import make_engine, upgrade

Backend = Literal["sqlite", "postgresql"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgresql")
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class FreshDatabaseUrl(Protocol):
    """Type of the ``fresh_database_url`` fixture."""

    def __call__(self, backend: Backend, *, migrated: bool = True) -> str: ...


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{path}"


class PostgresServer:
    """Creates and drops this test session's databases on the PostgreSQL server (lazily connected)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        if self.admin_url.drivername == "postgresql":
            self.admin_url = self.admin_url.set(drivername="postgresql+psycopg")
        self.prefix = f"edossier_t_{uuid.uuid4().hex[:12]}"
        self._admin: Engine | None = None
        self._error: str | None = None
        self._created: list[str] = []
        self._counter = 0
        self._template: str | None = None
        self._shared: dict[str, str] = {}
        self._engines: dict[str, Engine] = {}

    # -- connection
    def admin(self) -> Engine:
        """The AUTOCOMMIT admin engine; skips (or fails under CI=true) when the server is unreachable."""
        if self._admin is None and self._error is None:
            engine = create_engine(
                self.admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
            )
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except DBAPIError as exc:
                engine.dispose()
                first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else repr(exc)
                self._error = (
                    f"PostgreSQL at {self.admin_url.render_as_string(hide_password=True)} is unreachable "
                    f"({first}); set EDOSSIER_TEST_PG_URL or start the server"
                )
            else:
                self._admin = engine
        if self._admin is None:
            assert self._error is not None
            if _in_ci():
                pytest.fail(f"{self._error} (CI=true: PostgreSQL tests must run)", pytrace=False)
            pytest.skip(self._error)
        return self._admin

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    # -- databases
    def create(self, suffix: str, *, template: str | None = None) -> str:
        """Create ``<prefix>_<suffix>`` (optionally copied from ``template``) and return its URL."""
        name = f"{self.prefix}_{suffix}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self._created.append(name)
        return self.url(name)

    def template(self) -> str:
        """Name of a database migrated to head, with no open connections (so it can be copied)."""
        if self._template is None:
            url = self.create("tpl")
            engine = make_engine(url)
            try:
                upgrade(engine)
            finally:
                engine.dispose()
            self._template = f"{self.prefix}_tpl"
        return self._template

    def fresh(self, *, migrated: bool) -> str:
        self._counter += 1
        return self.create(f"f{self._counter}", template=self.template() if migrated else None)

    def shared(self, kind: Literal["empty", "migrated"]) -> str:
        """The session-wide empty or migrated database (created on first use)."""
        if kind not in self._shared:
            if kind == "migrated":
                self._shared[kind] = self.create("m", template=self.template())
            else:
                self._shared[kind] = self.create("e")
        return self._shared[kind]

    def engine(self, url: str) -> Engine:
        """A cached engine per database URL (one pool per database for the whole session)."""
        if url not in self._engines:
            self._engines[url] = make_engine(url)
        return self._engines[url]

    def reset_schema(self, url: str) -> None:
        """Empty a database: drop the job queue's schema, drop and recreate the ``public`` schema."""
        with self.engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS procrastinate CASCADE"))
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))

    def drop_all(self) -> None:
        """Drop every database this session created, terminating leftover connections first."""
        for engine in self._engines.values():
            engine.dispose()
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in reversed(self._created):
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        self._admin.dispose()


class SqliteTemplate:
    """One SQLite file migrated to head per session; tests get copies of it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._path: Path | None = None

    def path(self) -> Path:
        if self._path is None:
            path = self.folder / "template.sqlite3"
            engine = make_engine(sqlite_url(path))
            try:
                upgrade(engine)
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            self._path = path
        return self._path

    def copy_to(self, target: Path) -> str:
        shutil.copyfile(self.path(), target)
        return sqlite_url(target)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL database manager (connects only when a PostgreSQL test needs it)."""
    server = PostgresServer(os.environ.get("EDOSSIER_TEST_PG_URL", DEFAULT_PG_URL))
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest, pg_server: PostgresServer) -> Backend:
    """The backend this test instance runs on; PostgreSQL is checked for reachability first."""
    backend: Backend = request.param
    if backend == "postgresql":
        pg_server.admin()
    return backend


@pytest.fixture
def database_url(db_backend: Backend, pg_server: PostgresServer, tmp_path: Path) -> str:
    """An empty, never-migrated database on the current backend."""
    if db_backend == "sqlite":
        return sqlite_url(tmp_path / "catalog.sqlite3")
    url = pg_server.shared("empty")
    pg_server.reset_schema(url)
    return url


@pytest.fixture
def migrated_url(
    db_backend: Backend, pg_server: PostgresServer, sqlite_template: SqliteTemplate, tmp_path: Path
) -> str:
    """A database migrated to head (SQLite: a private copy; PostgreSQL: shared, write via db_session)."""
    if db_backend == "sqlite":
        return sqlite_template.copy_to(tmp_path / "migrated.sqlite3")
    return pg_server.shared("migrated")


@pytest.fixture
def db_session(db_backend: Backend, migrated_url: str, pg_server: PostgresServer) -> Iterator[Session]:
    """A session on ``migrated_url`` whose outer transaction is rolled back after the test."""
    engine = make_engine(migrated_url) if db_backend == "sqlite" else pg_server.engine(migrated_url)
    try:
        with engine.connect() as conn:
            outer = conn.begin()
            session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
            try:
                yield session
            finally:
                session.close()
                if outer.is_active:
                    outer.rollback()
    finally:
        if db_backend == "sqlite":
            engine.dispose()


@pytest.fixture
def fresh_database_url(
    pg_server: PostgresServer, sqlite_template: SqliteTemplate, tmp_path: Path
) -> FreshDatabaseUrl:
    """``fresh_database_url(backend, *, migrated=True)``: a new database the test may commit to."""
    counter = 0

    def make(backend: Backend, *, migrated: bool = True) -> str:
        nonlocal counter
        if backend == "postgresql":
            return pg_server.fresh(migrated=migrated)
        if backend != "sqlite":
            raise ValueError(f"backend: expected one of {BACKENDS}; found {backend!r}")
        counter += 1
        target = tmp_path / f"fresh-{counter}.sqlite3"
        return sqlite_template.copy_to(target) if migrated else sqlite_url(target)

    return make
