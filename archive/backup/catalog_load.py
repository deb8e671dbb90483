"""Load a catalog dump into an EMPTY database (the catalog half of ``edossier restore``).

Restore never writes over an archive: :func:`check_target_empty` refuses a database in which any table
holds a row, or which holds tables that are not an edossier catalog. The empty target is migrated to the
dump's schema revision (an empty database at another revision is first taken back to nothing), every
row is inserted in one transaction in the dump's (foreign-key) order, PostgreSQL's ``SERIAL`` sequences
are moved past the restored ids (so the next insert does not collide), and the database is then migrated
to this edossier's head, so a dump written by an older edossier restores with the newer one. A dump from
a newer schema than this code knows is refused (:class:`BackupSchemaUnknown`).

The rows are the ones :class:`archive.backup.catalog_dump.DumpReader` decodes; the database is the
caller's engine. What the restored ledger says is checked by the caller (:mod:`archive.backup.restore`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    func,
    insert,
    inspect,
    literal,
    select,
    table,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import NullType

from archive.backup.catalog_dump import DumpReader
from archive.backup.errors import BackupCorrupt, BackupSchemaUnknown, TargetNotEmpty
from archive.catalog import db
from archive.catalog.models import Base
from standards.errors import StorageError

INSERT_CHUNK = 500


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this edossier's Alembic revisions."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    scripts = ScriptDirectory.from_config(db.alembic_config())
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def check_target_empty(engine: Engine) -> str | None:
    """The target's schema revision (None: never migrated), if no table of it holds a row.

    Raises:
        TargetNotEmpty: a table holds rows, or the database holds tables but no ``alembic_version``.
        DatabaseUnavailable: the database cannot be reached.
        StorageError: another database failure.
    """
    where = db.describe(engine)
    db.check_ready(engine)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            for name in names:
                if name == db.VERSION_TABLE:
                    continue
                if conn.execute(select(literal(1)).select_from(table(name)).limit(1)).first() is not None:
                    raise TargetNotEmpty(
                        f"restore target {where}: expected an empty database, found rows in table {name!r}; "
                        "restore never writes over an archive (use a new database)"
                    )
    except SQLAlchemyError as exc:
        raise StorageError(f"restore target {where}: database error ({type(exc).__name__})") from None
    if names and db.VERSION_TABLE not in names:
        raise TargetNotEmpty(
            f"restore target {where}: expected an empty database, found tables {names[:5]} that are not an "
            "edossier catalog"
        )
    return db.current_revision(engine)


def _prepare(engine: Engine, current: str | None, revision: str) -> None:
    """Bring the empty target to ``revision`` (back to nothing first when it is at another one)."""
    if current == revision:
        return
    if current is not None:
        db.downgrade_to_base(engine)  # empty (checked), so nothing is lost
    db.upgrade(engine, revision)


def _insert_table(name: str, columns: list[str]) -> Table:
    """A table object with just the dumped columns and the models' types (so defaults add nothing)."""
    model = Base.metadata.tables.get(name)
    if model is None:
        raise BackupSchemaUnknown(f"catalog dump: table {name!r} is not known to this edossier")
    return Table(
        name, MetaData(), *(Column(c, model.c[c].type if c in model.c else NullType()) for c in columns)
    )


def _reset_sequences(conn: Connection, tables: Mapping[str, Table]) -> None:
    """PostgreSQL: move every SERIAL sequence past the largest restored id (SQLite needs nothing)."""
    for name in tables:
        column = Base.metadata.tables[name].autoincrement_column
        if column is None:
            continue
        sequence = func.pg_get_serial_sequence(name, column.name)
        largest = func.max(column)
        conn.execute(select(func.setval(sequence, func.coalesce(largest, 1), largest.is_not(None))))


def load_catalog(engine: Engine, stream: IO[bytes], where: str) -> dict[str, int]:
    """Restore the dump in ``stream`` into the empty database of ``engine``; rows inserted per table.

    Raises:
        TargetNotEmpty: see :func:`check_target_empty` (checked again here, just before writing).
        BackupSchemaUnknown: the dump's schema revision or a table is unknown to this edossier.
        BackupCorrupt: the dump does not parse, or its end line disagrees with the rows.
        DatabaseUnavailable, StorageError: the database failed; nothing was committed.
    """
    reader = DumpReader(stream, where)
    revision = reader.header.schema
    if not known_revision(revision):
        raise BackupSchemaUnknown(
            f"{where}: schema revision {revision!r} is unknown to this edossier (head {db.SCHEMA_HEAD}); "
            "restore with the edossier version that wrote the backup, or a newer one"
        )
    current = check_target_empty(engine)
    _prepare(engine, current, revision)
    targets = {name: _insert_table(name, list(cols)) for name, cols in reader.header.tables.items()}
    counts = dict.fromkeys(targets, 0)
    try:
        with engine.begin() as conn:
            batch: list[dict[str, Any]] = []
            batch_table: str | None = None
            for name, row in reader.rows():
                if batch and (name != batch_table or len(batch) >= INSERT_CHUNK):
                    conn.execute(insert(targets[str(batch_table)]), batch)
                    batch = []
                batch_table = name
                batch.append(row)
                counts[name] += 1
            if batch:
                conn.execute(insert(targets[str(batch_table)]), batch)
            end = reader.end_rows or {}
            if any(end.get(name, 0) != n for name, n in counts.items()):
                raise BackupCorrupt(
                    f"{where}: end line says rows {reader.end_rows}, found {counts}", path=where
                )
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, targets)
            restored = {
                name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
                for name in targets
            }
    except SQLAlchemyError as exc:
        raise StorageError(
            f"restore target {db.describe(engine)}: inserting the catalog failed ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}); nothing was committed"
        ) from None
    if revision != db.SCHEMA_HEAD:
        db.upgrade(engine)
    return restored
