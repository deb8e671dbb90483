"""The catalog dump: dialect-neutral values, truncation and tampering found, loading only into an empty database."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Date, DateTime, Integer, LargeBinary, String, select

from archive.backup.catalog_dump import check_dump, decode_value, dump_catalog, encode_value
from archive.backup.catalog_load import load_catalog
from archive.backup.errors import BackupCorrupt, BackupSchemaUnknown, TargetNotEmpty
from archive.catalog import db
from archive.catalog.models import Dossier, LedgerHead, UtcDateTime
from integrity.ledger.store import LedgerStore
from tests.archive.backup.conftest import MakeInstallation


@pytest.mark.parametrize(
    ("type_", "value", "encoded"),
    [
        (LargeBinary(), b"\x00\xff", "AP8="),
        (
            UtcDateTime(),
            dt.datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=dt.UTC),
            "2025-03-01T09:30:00.123456+00:00",
        ),
        (
            DateTime(timezone=True),
            dt.datetime(2025, 3, 1, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            "2025-03-01T09:30:00+00:00",
        ),
        (Date(), dt.date(2024, 2, 29), "2024-02-29"),
        (Integer(), 2**40, 2**40),
        (String(), "（2024）京0105民初123号", "（2024）京0105民初123号"),
        (String(), None, None),
    ],
)
def test_values_encode_to_json_and_decode_to_the_same_instant(type_, value, encoded) -> None:
    assert encode_value(type_, value) == encoded
    decoded = decode_value(type_, json.loads(json.dumps(encoded)))
    assert decoded == value
    if isinstance(value, dt.datetime):
        assert decoded.utcoffset() == dt.timedelta(0)


def test_a_value_the_dump_cannot_encode_is_a_caller_error() -> None:
    with pytest.raises(TypeError):
        encode_value(String(), object())


def _dump(inst) -> bytes:
    out = io.BytesIO()
    with inst.engine.connect() as conn, conn.begin():
        dump_catalog(conn, out, db.SCHEMA_HEAD)
    return out.getvalue()


def test_dump_parses_back_with_every_row_and_the_ledger_root_of_the_live_ledger(
    make_installation: MakeInstallation,
) -> None:
    inst = make_installation(dossiers=2)
    data = _dump(inst)
    checked = check_dump(io.BytesIO(data), "catalog.jsonl.gz")
    with inst.sessions() as session:
        head = LedgerStore().head(session)
        dossiers = len(session.scalars(select(Dossier)).all())
    assert checked.problems == ()
    assert checked.rows["dossiers"] == dossiers == 2 and checked.rows["ledger_leaves"] == head.size == 2
    assert (checked.ledger_size, checked.ledger_root) == (head.size, head.root.hex())
    assert _dump(inst) == data  # gzip mtime 0, rows in key order: the same catalog gives the same bytes


def _lines(data: bytes) -> list[bytes]:
    return gzip.decompress(data).splitlines(keepends=True)


def _gz(lines: list[bytes]) -> bytes:
    return gzip.compress(b"".join(lines), mtime=0)


def test_truncated_or_edited_dumps_are_corrupt(make_installation: MakeInstallation) -> None:
    data = _dump(make_installation(dossiers=1))
    lines = _lines(data)
    with pytest.raises(BackupCorrupt, match="truncated"):
        check_dump(io.BytesIO(_gz(lines[:-1])), "c")  # the end line is gone
    with pytest.raises(BackupCorrupt, match="gzip"):
        check_dump(io.BytesIO(data[: len(data) // 2]), "c")
    leaf = next(i for i, line in enumerate(lines) if line.startswith(b'{"t":"ledger_leaves"'))
    dropped = lines[:leaf] + lines[leaf + 1 :]
    found = check_dump(io.BytesIO(_gz(dropped)), "c")
    assert any("ledger_leaves: end line says 1 rows, found 0" in p for p in found.problems)
    row = json.loads(lines[leaf])
    row["r"][2] = "not base64!"
    with pytest.raises(BackupCorrupt, match="does not decode"):
        check_dump(
            io.BytesIO(_gz([*lines[:leaf], json.dumps(row).encode() + b"\n", *lines[leaf + 1 :]])), "c"
        )


def test_loading_refuses_a_database_that_holds_rows_and_leaves_it_untouched(
    make_installation: MakeInstallation,
) -> None:
    source, other = make_installation(dossiers=1), make_installation(dossiers=1, name="other")
    data = _dump(source)
    before = _dump(other)
    with pytest.raises(TargetNotEmpty, match="found rows in table"):
        load_catalog(other.engine, io.BytesIO(data), "c")
    assert _dump(other) == before


def test_a_dump_from_an_older_schema_is_loaded_at_its_revision_then_migrated(
    make_installation: MakeInstallation, fresh_database_url: Callable[..., str], tmp_path: Path
) -> None:
    """A backup written by an older edossier restores with a newer one (here: a dump at 0008, no alerts)."""
    lines = _lines(_dump(make_installation(dossiers=1)))
    header = json.loads(lines[0])
    header["schema"] = "0008"
    del header["tables"]["alerts"]  # 0009 added the alerts table
    end = json.loads(lines[-1])
    del end["rows"]["alerts"]
    old = [json.dumps(header).encode() + b"\n", *lines[1:-1], json.dumps(end).encode() + b"\n"]
    # an empty catalog already at head: taken back to nothing, migrated to 0008, loaded, migrated to head
    target = db.make_engine(fresh_database_url("sqlite", migrated=True))
    try:
        rows = load_catalog(target, io.BytesIO(_gz(old)), "c")
        assert db.current_revision(target) == db.SCHEMA_HEAD
        assert rows["dossiers"] == 1 and "alerts" not in rows
        with db.session_factory(target)() as session:
            assert session.get(LedgerHead, 1) is not None
    finally:
        target.dispose()


def test_a_dump_from_a_newer_schema_is_refused(
    make_installation: MakeInstallation, fresh_database_url
) -> None:
    lines = _lines(_dump(make_installation(dossiers=1)))
    header = json.loads(lines[0])
    header["schema"] = "9999"
    target = db.make_engine(fresh_database_url("sqlite", migrated=False))
    try:
        with pytest.raises(BackupSchemaUnknown, match="9999"):
            load_catalog(target, io.BytesIO(_gz([json.dumps(header).encode() + b"\n", *lines[1:]])), "c")
        assert db.current_revision(target) is None  # nothing was created
    finally:
        target.dispose()
