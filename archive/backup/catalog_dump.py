"""The catalog as a dialect-neutral dump (``catalog.jsonl.gz``): write it, read it, check it.

Format (gzip of UTF-8 JSON lines, gzip ``mtime`` 0 so equal catalogs give equal bytes)::

    {"format": "edossier-catalog/1", "schema": "0009", "tables": {"<table>": ["<column>", …], …}}
    {"t": "<table>", "r": [<value>, …]}          one line per row, tables in foreign-key order,
                                                 rows in primary-key order
    {"end": true, "rows": {"<table>": <count>, …}}

Values are JSON natives except: binary → base64 text, date-times → ISO 8601 with offset (always UTC),
dates → ISO 8601. The column types of :mod:`archive.catalog.models` decide the encoding both ways, so a
dump of SQLite restores into PostgreSQL and back. The last line makes a truncated dump detectable even
without its digest. Every table of the models is dumped, the ledger tables included; the PostgreSQL job
queue (schema ``procrastinate``) is not catalog data and is not.

While dumping, the RFC 9162 tree is recomputed from the ``ledger_leaves`` rows (:class:`LedgerRecompute`)
so ``backup.json`` records the root the dumped leaves give. Encoding, decoding and the recomputation are
pure; :func:`dump_catalog` reads one connection the caller opened (inside one snapshot transaction) and
:class:`DumpReader` parses a stream. Writing the rows into a database is :mod:`archive.backup.catalog_load`.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from sqlalchemy import Connection, Date, DateTime, LargeBinary, Table, select
from sqlalchemy.types import TypeDecorator, TypeEngine

from archive.backup.errors import BackupCorrupt
from archive.backup.layout import LedgerState
from archive.catalog.models import Base
from integrity.merkle.compact import CompactRange
from integrity.merkle.hashes import SHA256

DUMP_FORMAT = "edossier-catalog/1"
LEAVES, HEAD = "ledger_leaves", "ledger_head"
STREAM_CHUNK = 1000


def tables() -> list[Table]:
    """Every catalog table, parents before children (the order rows are dumped and inserted in)."""
    return list(Base.metadata.sorted_tables)


# ---------------------------------------------------------------- values (pure)
def encode_value(type_: TypeEngine[Any], value: Any) -> Any:
    """One column value as JSON (see the module docstring).

    >>> encode_value(LargeBinary(), b"\\x00\\xff")
    'AP8='

    Raises:
        TypeError: a value JSON cannot hold and the column type does not say how to encode.
    """
    if value is None:
        return None
    if isinstance(type_, LargeBinary) or isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:  # UtcDateTime never returns naive values; a raw DateTime might
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | str | float):
        return value
    raise TypeError(f"cannot encode a {type(value).__name__} for a {type_!r} column")


def decode_value(type_: TypeEngine[Any] | None, value: Any) -> Any:
    """The Python value of a dumped JSON value for a column of ``type_`` (None: unknown, kept as is).

    >>> decode_value(DateTime(timezone=True), "2025-03-01T09:30:00+00:00").isoformat()
    '2025-03-01T09:30:00+00:00'

    Raises:
        ValueError: the text is not valid base64 or ISO 8601 for the column.
    """
    if value is None or type_ is None:
        return value
    if isinstance(type_, TypeDecorator):  # e.g. UtcDateTime: decode for the type it stores as
        type_ = type_.impl_instance
    if isinstance(type_, LargeBinary):
        return base64.b64decode(str(value).encode("ascii"), validate=True)
    if isinstance(type_, DateTime):
        parsed = dt.datetime.fromisoformat(str(value))
        return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=dt.UTC)
    if isinstance(type_, Date):
        return dt.date.fromisoformat(str(value))
    return value


class LedgerRecompute:
    """The RFC 9162 root of leaves fed in index order; a gap or a repeated index is recorded, not hidden."""

    def __init__(self) -> None:
        self.range = CompactRange(SHA256)
        self.problems: list[dict[str, Any]] = []

    def feed(self, index: int, data: bytes) -> None:
        if index != self.range.size:
            self.problems.append(
                {
                    "code": "ledger_leaf_gap",
                    "message": f"ledger_leaves: expected leaf index {self.range.size}, found {index}",
                }
            )
            return
        self.range.append(SHA256.leaf_hash(data))

    @property
    def size(self) -> int:
        return self.range.size

    def root_hex(self) -> str:
        return self.range.root().hex()


# ---------------------------------------------------------------- writing
class Sink(Protocol):
    """Where a dump is written (a binary file, or a :class:`HashingWriter` around one)."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class HashingWriter:
    """A binary sink that counts and SHA-256-hashes what passes through to ``raw``."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


@dataclass(frozen=True)
class DumpSummary:
    """What :func:`dump_catalog` wrote: rows per table, the ledger state, anything odd it saw."""

    rows: Mapping[str, int]
    ledger: LedgerState
    problems: tuple[Mapping[str, Any], ...] = field(default=())


def _line(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def dump_catalog(conn: Connection, out: Sink, schema: str) -> DumpSummary:
    """Write every row of every catalog table to ``out`` as ``catalog.jsonl.gz`` (one consistent read).

    The caller opens ``conn`` inside a transaction that sees one snapshot (PostgreSQL: REPEATABLE READ;
    SQLite: any transaction) so the dump is the catalog at one instant. Never writes to the database.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed (the caller translates it).
        TypeError: a column holds a value the dump cannot encode (a model the dump does not know).
    """
    ledger = LedgerRecompute()
    head_size, head_root = 0, SHA256.empty_root().hex()
    rows: dict[str, int] = {}
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        header = {
            "format": DUMP_FORMAT,
            "schema": schema,
            "tables": {t.name: [c.name for c in t.columns] for t in tables()},
        }
        gz.write(_line(header))
        for table in tables():
            columns = list(table.columns)
            stmt = select(*columns).order_by(*table.primary_key.columns)
            result = conn.execution_options(stream_results=True, yield_per=STREAM_CHUNK).execute(stmt)
            count = 0
            for row in result:
                values = [encode_value(c.type, v) for c, v in zip(columns, row, strict=True)]
                gz.write(_line({"t": table.name, "r": values}))
                count += 1
                if table.name == LEAVES:
                    ledger.feed(int(row.leaf_index), bytes(row.data))
                elif table.name == HEAD:
                    head_size, head_root = int(row.size), bytes(row.root_hash).hex()
            rows[table.name] = count
        gz.write(_line({"end": True, "rows": rows}))
    problems = list(ledger.problems)
    if (head_size, head_root) != (ledger.size, ledger.root_hex()):
        problems.append(
            {
                "code": "ledger_head_mismatch",
                "message": f"ledger_head says size {head_size} root {head_root}; the dumped leaves give "
                f"size {ledger.size} root {ledger.root_hex()}",
            }
        )
    state = LedgerState(ledger.size, ledger.root_hex(), head_size, head_root)
    return DumpSummary(rows=rows, ledger=state, problems=tuple(problems))


# ---------------------------------------------------------------- reading
@dataclass(frozen=True)
class DumpHeader:
    schema: str
    tables: Mapping[str, Sequence[str]]


class DumpReader:
    """Parse a ``catalog.jsonl.gz`` stream: :attr:`header`, then :meth:`rows` (decoded), then :attr:`end_rows`.

    Raises (from the constructor and :meth:`rows`):
        BackupCorrupt: not gzip, not JSON lines, an unknown table, a row of the wrong width, a value that
            does not decode, or no end line (a truncated dump).
    """

    def __init__(self, stream: IO[bytes], where: str) -> None:
        self.where = where
        self._gz = gzip.GzipFile(fileobj=stream, mode="rb")
        self._number = 0
        first = self._next()
        if first is None or first.get("format") != DUMP_FORMAT:
            found = None if first is None else first.get("format")
            raise self._corrupt(f"format expected {DUMP_FORMAT!r}, found {found!r}")
        try:
            self.header = DumpHeader(
                str(first["schema"]), {str(k): list(v) for k, v in first["tables"].items()}
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise self._corrupt(f"header unreadable ({type(exc).__name__})") from None
        models = Base.metadata.tables
        self._types = {
            name: [models[name].c[c].type if name in models and c in models[name].c else None for c in cols]
            for name, cols in self.header.tables.items()
        }
        self.end_rows: dict[str, int] | None = None
        self.ledger = LedgerRecompute()

    def _corrupt(self, what: str) -> BackupCorrupt:
        return BackupCorrupt(f"{self.where}: line {self._number}: {what}", path=self.where)

    def _next(self) -> dict[str, Any] | None:
        try:
            line = self._gz.readline()
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise self._corrupt(f"not a complete gzip stream ({type(exc).__name__})") from None
        if not line:
            return None
        self._number += 1
        try:
            obj = json.loads(line)
        except ValueError:
            raise self._corrupt("not a JSON line") from None
        if not isinstance(obj, dict):
            raise self._corrupt(f"expected a JSON object, found {type(obj).__name__}")
        return obj

    def rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(table, {column: value})`` for every row, decoded with the models' column types."""
        while (obj := self._next()) is not None:
            if obj.get("end") is True:
                self.end_rows = {str(k): int(v) for k, v in obj.get("rows", {}).items()}
                if self._next() is not None:
                    raise self._corrupt("lines after the end line")
                return
            name, values = obj.get("t"), obj.get("r")
            if not isinstance(name, str) or name not in self.header.tables or not isinstance(values, list):
                raise self._corrupt(f"expected a row of a dumped table, found table {name!r}")
            columns, types = self.header.tables[name], self._types[name]
            if len(values) != len(columns):
                raise self._corrupt(f"{name}: expected {len(columns)} values, found {len(values)}")
            try:
                row = {c: decode_value(t, v) for c, t, v in zip(columns, types, values, strict=True)}
            except (ValueError, TypeError) as exc:
                raise self._corrupt(f"{name}: a value does not decode ({exc})") from None
            if name == LEAVES:
                self.ledger.feed(int(row["leaf_index"]), bytes(row["data"]))
            yield name, row
        raise self._corrupt("no end line: the dump is truncated")


@dataclass(frozen=True)
class DumpCheck:
    """A whole dump parsed: rows per table, and the ledger its leaves give."""

    schema: str
    rows: Mapping[str, int]
    end_rows: Mapping[str, int]
    ledger_size: int
    ledger_root: str
    problems: tuple[str, ...]


def check_dump(stream: IO[bytes], where: str) -> DumpCheck:
    """Parse every row of a dump, count rows per table and recompute the ledger root (no database).

    Raises:
        BackupCorrupt: see :class:`DumpReader`.
    """
    reader = DumpReader(stream, where)
    rows: dict[str, int] = {}
    for name, _row in reader.rows():
        rows[name] = rows.get(name, 0) + 1
    end = reader.end_rows or {}
    problems = [p["message"] for p in reader.ledger.problems]
    for name in sorted(set(end) | set(rows)):
        if end.get(name, 0) != rows.get(name, 0):
            problems.append(f"{name}: end line says {end.get(name, 0)} rows, found {rows.get(name, 0)}")
    return DumpCheck(
        reader.header.schema, rows, end, reader.ledger.size, reader.ledger.root_hex(), tuple(problems)
    )
