"""Ledger benchmark: edossier's LedgerStore vs PyPI pymerkle ``SqliteTree``, in one run.

    .venv/bin/python bench/ledger.py [--leaves N] [--single N] [--bulk N] [--proofs N] [--quick]
                                     [--pg-url URL | --no-pg] [--workdir DIR]

Both sides do the same durable work on SQLite files in a temporary directory (both in WAL mode with
the same ``synchronous`` level, printed), on the same leaf bytes (RFC 8785 canonical JSON events):

  (1) single appends, each committed (default N=2,000): ours ``LedgerStore.append`` in its own
      transaction (leaf + nodes + head, head row locked) vs ``SqliteTree.append_entry``;
  (2) bulk appends (default 100,000 leaves) in one transaction: ours
      ``integrity.ledger.bulk.append_many`` (Core executemany of leaves and tree nodes, one head
      update) vs ``SqliteTree.append_entries``;
  (3) inclusion proofs at the bulk size and at ``--leaves`` (default 1,000,000): generation from the
      database (ours ``integrity.ledger.proofs.inclusion_proof``, O(log n) node reads; pymerkle
      ``prove_inclusion``, which hashes leaf ranges and caches subroots) and verification (ours
      ``integrity.merkle.proofs.verify_inclusion``; pymerkle ``verify_inclusion``), for random leaves.
      pymerkle's first proof (cold cache) is shown apart from the mean of the rest.

Ours also runs on PostgreSQL (a database created on ``--pg-url``'s server and dropped at the end).
Work that differs: ours writes tree nodes and the head at append time and checks the stored
compact range against the head root; pymerkle stores leaves only and computes subtree hashes when
asked. Prints a table and the ratios ours/pymerkle (time; < 1 means ours is faster).
Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymerkle  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from archive.catalog.db import make_engine  # noqa: E402
from archive.catalog.models import Base  # noqa: E402
from integrity.canonical import canonical_json  # noqa: E402
from integrity.events import event as ledger_event  # noqa: E402
from integrity.ledger import LedgerStore  # noqa: E402
from integrity.ledger.bulk import append_many  # noqa: E402
from integrity.ledger.proofs import inclusion_proof  # noqa: E402
from integrity.merkle.proofs import verify_inclusion  # noqa: E402

NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BUILD_CHUNK = 100_000  # leaves per bulk transaction while growing the big trees


def leaf_data(i: int) -> bytes:
    """The i-th leaf: a realistic access event as canonical JSON (~180 bytes)."""
    return canonical_json(ledger_event_for(i))


# ---------------------------------------------------------------- results
@dataclass
class Row:
    what: str
    n: int
    ours_sqlite: float | None = None  # seconds (total for n operations)
    pymerkle: float | None = None
    ours_pg: float | None = None
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def per_op(seconds: float | None, n: int) -> str:
    if seconds is None:
        return "-"
    us = seconds / n * 1e6
    return f"{us:,.1f} µs" if us < 10_000 else f"{us / 1000:,.1f} ms"


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def print_table(rows: list[Row]) -> None:
    head = ("measure", "n", "ours SQLite", "pymerkle SQLite", "ours PostgreSQL", "ours/pymerkle")
    body = [
        (
            r.what,
            f"{r.n:,}",
            per_op(r.ours_sqlite, r.n),
            per_op(r.pymerkle, r.n),
            per_op(r.ours_pg, r.n),
            ratio(r.ours_sqlite, r.pymerkle),
        )
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print()
    print("time per operation (lower is better); ratio = ours SQLite time / pymerkle time")
    print(line.format(*head))
    print(line.format(*("-" * w for w in widths)))
    for cells in body:
        print(line.format(*cells))
    for r in rows:
        if r.note:
            print(f"  {r.what}: {r.note}")


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


# ---------------------------------------------------------------- ours
class Ours:
    """edossier's ledger on one database."""

    def __init__(self, engine: Engine) -> None:
        Base.metadata.create_all(engine)
        self.engine = engine
        self.sessions = sessionmaker(engine)
        self.store = LedgerStore()
        self.size = 0

    def single(self, first: int, n: int) -> float:
        with timed() as t:
            for i in range(first, first + n):
                with self.sessions.begin() as session:
                    self.store.append(session, ledger_event_for(i), NOW)
        self.size += n
        return t[0]

    def bulk(self, datas: list[bytes]) -> float:
        with timed() as t, self.sessions.begin() as session:
            append_many(session, datas, NOW)
        self.size += len(datas)
        return t[0]

    def grow_to(self, size: int) -> None:
        while self.size < size:
            n = min(BUILD_CHUNK, size - self.size)
            self.bulk([leaf_data(i) for i in range(self.size, self.size + n)])

    def proofs(self, indices: list[int], size: int) -> tuple[float, float]:
        with self.sessions() as session:
            root = self.store.root_at(session, size)
            hashes = [self.store.leaf(session, i).leaf_hash for i in indices]
            start = time.perf_counter()
            proofs = [inclusion_proof(session, i, size) for i in indices]
            gen = time.perf_counter() - start
        start = time.perf_counter()
        for i, h, p in zip(indices, hashes, proofs, strict=True):
            verify_inclusion(i, size, h, p, root)
        return gen, time.perf_counter() - start


def ledger_event_for(i: int) -> dict[str, object]:
    """The i-th event (``LedgerStore.append`` encodes it; ``leaf_data`` gives its bytes)."""
    return ledger_event(
        "dossier.accessed",
        actor=f"clerk-{i % 97}",
        at="2024-06-01T09:00:00Z",
        archive_id=f"J0105-2024-MS-{i:07d}",
        access="view",
        purpose="再审审查",
    )


# ---------------------------------------------------------------- pymerkle
class Theirs:
    """PyPI pymerkle's SqliteTree on its own SQLite file (WAL, like ours)."""

    def __init__(self, path: Path, synchronous: int) -> None:
        self.tree = pymerkle.SqliteTree(str(path), algorithm="sha256")
        self.tree.con.execute("PRAGMA journal_mode=WAL")
        self.tree.con.execute(f"PRAGMA synchronous={synchronous:d}")
        self.size = 0

    def single(self, first: int, n: int) -> float:
        with timed() as t:
            for i in range(first, first + n):
                self.tree.append_entry(leaf_data(i))
        self.size += n
        return t[0]

    def bulk(self, datas: list[bytes]) -> float:
        with timed() as t:
            self.tree.append_entries(datas)
        self.size += len(datas)
        return t[0]

    def grow_to(self, size: int) -> None:
        while self.size < size:
            n = min(BUILD_CHUNK, size - self.size)
            self.bulk([leaf_data(i) for i in range(self.size, self.size + n)])

    def proofs(self, indices: list[int], size: int) -> tuple[float, float, float]:
        """(first proof, the rest, verification of all)."""
        root = self.tree.get_root(size)
        bases = [self.tree.get_leaf(i + 1) for i in indices]
        start = time.perf_counter()
        proofs = [self.tree.prove_inclusion(indices[0] + 1, size)]
        first = time.perf_counter() - start
        start = time.perf_counter()
        proofs += [self.tree.prove_inclusion(i + 1, size) for i in indices[1:]]
        rest = time.perf_counter() - start
        start = time.perf_counter()
        for base, proof in zip(bases, proofs, strict=True):
            pymerkle.verify_inclusion(base, root, proof)
        return first, rest, time.perf_counter() - start

    def close(self) -> None:
        self.tree.close()


# ---------------------------------------------------------------- PostgreSQL
@contextmanager
def pg_database(admin_url: str) -> Iterator[Engine | None]:
    """A fresh database on the server of ``admin_url`` (dropped afterwards), or None if unreachable."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"edossier_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # an unreachable server skips the PostgreSQL column
        print(f"PostgreSQL at {admin_url}: unavailable ({type(exc).__name__}); column skipped")
        admin.dispose()
        yield None
        return
    engine = make_engine(make_url(admin_url).set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_pragmas(engine: Engine) -> tuple[str, int]:
    with engine.connect() as conn:
        mode = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        sync = int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or 0)
    return mode, sync


def report_progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(args: argparse.Namespace) -> list[Row]:
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="edossier-bench-ledger-"))
    work.mkdir(parents=True, exist_ok=True)
    ours_engine = make_engine(f"sqlite:///{work / 'ours.sqlite3'}")
    ours = Ours(ours_engine)
    mode, sync = sqlite_pragmas(ours_engine)
    report_progress(f"SQLite: journal_mode={mode}, synchronous={sync} for both; files in {work}")
    theirs = Theirs(work / "pymerkle.sqlite3", sync)
    rows: list[Row] = []
    rng = random.Random(9162)

    with pg_database(args.pg_url) if not args.no_pg else _none() as pg_engine:
        pg = Ours(pg_engine) if pg_engine is not None else None
        # (1) single committed appends
        report_progress(f"(1) {args.single:,} single committed appends")
        row = Row("append, one commit each", args.single)
        row.ours_sqlite = ours.single(0, args.single)
        row.pymerkle = theirs.single(0, args.single)
        row.ours_pg = pg.single(0, args.single) if pg else None
        rows.append(row)
        # (2) bulk appends in one transaction
        report_progress(f"(2) {args.bulk:,} bulk appends")
        datas = [leaf_data(i) for i in range(args.single, args.single + args.bulk)]
        row = Row("bulk append (one transaction)", args.bulk)
        row.ours_sqlite = ours.bulk(datas)
        row.pymerkle = theirs.bulk(datas)
        row.ours_pg = pg.bulk(datas) if pg else None
        row.note = "ours also writes every tree node and the head; pymerkle stores leaves only"
        rows.append(row)
        del datas
        # (3) proofs at the bulk size and at --leaves
        for size in sorted({args.bulk, args.leaves}):
            report_progress(f"(3) growing trees to {size:,} leaves")
            for side in (ours, theirs, *([pg] if pg else [])):
                side.grow_to(size)
            indices = [rng.randrange(size) for _ in range(args.proofs)]
            report_progress(f"(3) {args.proofs} inclusion proofs at {size:,}")
            o_gen, o_ver = ours.proofs(indices, size)
            t_first, t_rest, t_ver = theirs.proofs(indices, size)
            p_gen, p_ver = pg.proofs(indices, size) if pg else (None, None)
            rows.append(
                Row(
                    f"inclusion proof generation @ {size:,}",
                    args.proofs - 1,
                    o_gen * (args.proofs - 1) / args.proofs,
                    t_rest,
                    p_gen * (args.proofs - 1) / args.proofs if p_gen is not None else None,
                    note=f"pymerkle's first (cold-cache) proof took {t_first * 1000:,.1f} ms (not in the mean)",
                )
            )
            rows.append(Row(f"inclusion proof verification @ {size:,}", args.proofs, o_ver, t_ver, p_ver))
    theirs.close()
    ours_engine.dispose()
    return rows


@contextmanager
def _none() -> Iterator[None]:
    yield None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--leaves", type=int, default=1_000_000, help="largest tree for proofs")
    parser.add_argument("--single", type=int, default=2_000, help="single committed appends")
    parser.add_argument("--bulk", type=int, default=100_000, help="leaves in the bulk append")
    parser.add_argument("--proofs", type=int, default=200, help="random inclusion proofs per size")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in seconds")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="admin URL of a PostgreSQL server")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--workdir", help="directory for the SQLite files (default: a new temp dir)")
    args = parser.parse_args(argv)
    if args.quick:
        args.single, args.bulk, args.leaves, args.proofs = 200, 5_000, 20_000, 50
    if args.proofs < 2 or args.leaves < args.bulk:
        parser.error("--proofs must be >= 2 and --leaves >= --bulk")
    print_table(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
