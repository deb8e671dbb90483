"""``edossier backup`` and ``edossier restore`` on SQLite and a filesystem store, through the CLI.

Each test archives real sample dossiers, backs them up to a second folder and restores into a new data
directory; the restored installation must pass ``ledger verify`` and ``storage reconcile`` once the
operator has put the private key back.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import stat
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from api.wiring import Installation
from archive.backup.catalog_dump import DumpReader, dump_catalog
from archive.backup.create import create_backup
from archive.backup.layout import CATALOG, MANIFEST, part_key
from archive.backup.store import complete_backup_ids
from archive.catalog import db
from archive.catalog.models import Blob, Event
from archive.settings import BackupSettings
from archive.stores.keys import blob_key
from tests.archive.backup.conftest import MakeInstallation, backup_store_of, put_private_key_back

runner = CliRunner()
NOW = dt.datetime.now(dt.UTC)


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    try:
        payload = json.loads(result.stdout) if "--json" in args else {}
    except ValueError:
        payload = {"unparsed": result.stdout}
    return result.exit_code, payload, result.stderr


def env_of(inst: Installation) -> dict[str, str]:
    backup = inst.settings.backup
    return {
        "EDOSSIER_BACKUP__STORE": str(backup.store),
        "EDOSSIER_BACKUP__PATH": str(backup.path),
        "EDOSSIER_DATABASE_URL": inst.settings.effective_database_url,
    }


def catalog_rows(engine) -> dict[str, list[dict]]:
    """Every catalog row, decoded, as the dump sees it (the restored catalog must equal the source's)."""
    out = io.BytesIO()
    with engine.connect() as conn, conn.begin():
        dump_catalog(conn, out, db.SCHEMA_HEAD)
    rows: dict[str, list[dict]] = {}
    for table, row in DumpReader(io.BytesIO(out.getvalue()), "x").rows():
        if table == "events" and row["kind"].startswith("backup."):
            continue  # the backup and the restore log themselves; those rows are not in the backup
        rows.setdefault(table, []).append(row)
    return rows


def test_round_trip_restores_an_identical_catalog_and_every_object_then_verify_and_reconcile_are_clean(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    inst = make_installation(dossiers=2)
    env = env_of(inst)
    code, made, _ = cli("--data-dir", str(inst.settings.data_dir), "backup", "--json", env=env)
    assert code == 0 and made["status"] == "complete" and made["problems"] == []
    assert made["objects"] == made["copied"] == len(list(inst.store.iter_objects())) == 18

    target = tmp_path / "restored"
    code, report, _ = cli(
        "--data-dir",
        str(inst.settings.data_dir),
        "restore",
        made["backup_id"],
        "--to-data-dir",
        str(target),
        "--json",
        env={**env, "EDOSSIER_DATABASE_URL": ""},
    )
    assert code == 0, report
    assert report["verified"] and report["failures"] == []
    assert report["objects_restored"] == report["objects_expected"] == 18
    assert report["ledger"]["root"] == made["ledger"]["root"] and report["ledger"]["verify"]["ok"]
    assert report["rows"] == made["rows"]
    assert not (target / "keys" / "edossier.key").exists()  # private keys never travel in a backup

    restored_engine = db.make_engine(f"sqlite:///{target / 'catalog.sqlite3'}")
    try:
        assert catalog_rows(restored_engine) == catalog_rows(inst.engine)
        with db.session_factory(restored_engine)() as session:
            kinds = session.scalars(select(Event.kind).where(Event.kind.like("backup.%"))).all()
        assert kinds == ["backup.restored"]
    finally:
        restored_engine.dispose()
    for info in inst.store.iter_objects():
        assert (target / "objects" / info.key).read_bytes() == (
            inst.settings.store_dir / info.key
        ).read_bytes()

    put_private_key_back(inst, target)
    plain = {"EDOSSIER_DATABASE_URL": ""}
    code, verified, _ = cli("--data-dir", str(target), "ledger", "verify", "--json", env=plain)
    assert code == 0 and verified["ok"] and verified["root"] == made["ledger"]["root"]
    code, reconciled, _ = cli("--data-dir", str(target), "storage", "reconcile", "--json", env=plain)
    assert code == 0 and reconciled["status"] == "clean", reconciled


def test_second_backup_copies_nothing_and_a_new_dossier_copies_only_its_objects(
    make_installation: MakeInstallation, backup_samples: list[Path]
) -> None:
    inst = make_installation(dossiers=1)
    store = backup_store_of(inst)
    first = create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    second = create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    assert (first.copied, second.copied, second.objects) == (9, 0, 9)
    assert inst.ingest_service().ingest(backup_samples[1]).status == "archived"
    third = create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    assert (third.copied, third.objects) == (9, 18) and third.problems == ()
    assert third.ledger.size == 2 and complete_backup_ids(store) == sorted(
        [first.backup_id, second.backup_id, third.backup_id]
    )
    with inst.sessions() as session:  # every backup is logged in the catalog's operational history
        assert len(session.scalars(select(Event).where(Event.kind == "backup.created")).all()) == 3


def test_backup_holds_public_keys_and_never_a_private_one(make_installation: MakeInstallation) -> None:
    inst = make_installation(dossiers=1)
    (inst.settings.keys_dir / "court-eep.eep.key").write_text("-----BEGIN PRIVATE KEY-----\n")
    (inst.settings.keys_dir / "court-eep.eep.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    store = backup_store_of(inst)
    manifest = create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    assert sorted(n for n in manifest.parts if n.startswith("keys/")) == [
        "keys/court-eep.eep.crt",
        "keys/edossier.pub",
    ]
    for info in store.iter_objects("backups/"):
        with store.open(info.key) as f:
            data = f.read()
        if info.key.endswith(".gz"):
            data = gzip.decompress(data)
        assert b"PRIVATE" not in data, info.key


def test_a_tampered_backup_object_fails_the_restore_naming_the_key(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    inst = make_installation(dossiers=1)
    store = backup_store_of(inst)
    manifest = create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    with inst.sessions() as session:
        sha = session.scalars(select(Blob.sha256).order_by(Blob.size.desc())).first()
    key = blob_key(sha)
    copy = Path(inst.settings.backup.path) / key
    copy.chmod(stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))

    code, report, _ = cli(
        "restore",
        "latest",
        "--to-data-dir",
        str(tmp_path / "r"),
        "--json",
        env={**env_of(inst), "EDOSSIER_DATABASE_URL": ""},
    )
    assert code == 1 and report["verified"] is False
    [failure] = report["failures"]
    assert failure["key"] == key and failure["code"] == "object_digest_mismatch"
    assert failure["expected_sha256"] == sha and failure["found_sha256"] != sha
    assert report["backup_id"] == manifest.backup_id and report["objects_restored"] == 8
    assert not (tmp_path / "r" / "objects" / key).exists()  # a wrong object is never stored


def test_a_tampered_catalog_part_is_refused_before_anything_is_written(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    inst = make_installation(dossiers=1)
    store = backup_store_of(inst)
    manifest = create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    part = Path(inst.settings.backup.path) / part_key(manifest.backup_id, CATALOG)
    part.chmod(0o600)
    part.write_bytes(part.read_bytes() + b"\0")
    code, report, _ = cli(
        "restore",
        "--to-data-dir",
        str(tmp_path / "r"),
        "--json",
        env={**env_of(inst), "EDOSSIER_DATABASE_URL": ""},
    )
    assert code == 1 and report["error"]["code"] == "backup_corrupt"
    assert part_key(manifest.backup_id, CATALOG) in report["error"]["message"]
    assert db.current_revision(f"sqlite:///{tmp_path / 'r' / 'catalog.sqlite3'}") is None


def test_restore_into_a_database_that_holds_an_archive_is_refused(
    make_installation: MakeInstallation,
) -> None:
    inst = make_installation(dossiers=1)
    live = make_installation(dossiers=1, name="live")
    create_backup(inst.settings, inst.engine, inst.store, backup_store_of(inst), NOW, tool_version="t")
    before = catalog_rows(live.engine)
    code, report, _ = cli(
        "restore",
        "--to-data-dir",
        str(live.settings.data_dir),
        "--database-url",
        live.settings.effective_database_url,
        "--json",
        env=env_of(inst),
    )
    assert code == 2 and report["error"]["code"] == "restore_target_not_empty"
    assert catalog_rows(live.engine) == before


def test_restore_into_a_data_directory_with_other_keys_is_refused_before_the_catalog_is_written(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    inst = make_installation(dossiers=1)
    create_backup(inst.settings, inst.engine, inst.store, backup_store_of(inst), NOW, tool_version="t")
    fresh = tmp_path / "fresh"
    env = {**env_of(inst), "EDOSSIER_DATABASE_URL": ""}
    assert cli("--data-dir", str(fresh), "init", env=env)[0] == 0  # a new, different signing key
    code, report, _ = cli("restore", "--to-data-dir", str(fresh), "--json", env=env)
    assert code == 2 and report["error"]["code"] == "restore_target_not_empty"
    assert "edossier.pub" in report["error"]["message"]
    assert catalog_rows(db.make_engine(f"sqlite:///{fresh / 'catalog.sqlite3'}")) == {}


def test_an_interrupted_backup_is_never_offered_for_restore(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    inst = make_installation(dossiers=1)
    store = backup_store_of(inst)
    good = create_backup(inst.settings, inst.engine, inst.store, store, NOW, tool_version="t")
    later = create_backup(
        inst.settings, inst.engine, inst.store, store, NOW + dt.timedelta(seconds=5), tool_version="t"
    )
    manifest_file = Path(inst.settings.backup.path) / part_key(later.backup_id, MANIFEST)
    os.chmod(manifest_file.parent, 0o700)
    manifest_file.unlink()  # as if the process died before writing backup.json
    env = {**env_of(inst), "EDOSSIER_DATABASE_URL": ""}
    code, listed, _ = cli("backup", "list", "--json", env=env)
    assert code == 0
    assert [(b["backup_id"], b["complete"]) for b in listed["backups"]] == [
        (good.backup_id, True),
        (later.backup_id, False),
    ]
    code, refused, _ = cli(
        "restore", later.backup_id, "--to-data-dir", str(tmp_path / "a"), "--json", env=env
    )
    assert code == 2 and refused["error"]["code"] == "backup_not_found"
    code, report, _ = cli("restore", "latest", "--to-data-dir", str(tmp_path / "b"), "--json", env=env)
    assert code == 0 and report["backup_id"] == good.backup_id


def test_backup_of_a_damaged_main_store_object_records_the_problem_and_exits_1(
    make_installation: MakeInstallation,
) -> None:
    inst = make_installation(dossiers=1)
    with inst.sessions() as session:
        sha = session.scalars(select(Blob.sha256)).first()
    stored = inst.settings.store_dir / blob_key(sha)
    stored.chmod(0o600)
    stored.write_bytes(b"bit rot")
    code, made, _ = cli("--data-dir", str(inst.settings.data_dir), "backup", "--json", env=env_of(inst))
    assert code == 1 and made["status"] == "complete_with_problems"
    [problem] = made["problems"]
    assert (problem["code"], problem["key"], problem["expected_sha256"]) == (
        "source_digest_mismatch",
        blob_key(sha),
        sha,
    )
    assert made["objects"] == 8  # the damaged object is not in the backup's inventory


def test_backup_without_a_backup_store_or_onto_the_main_store_is_a_usage_error(
    make_installation: MakeInstallation,
) -> None:
    inst = make_installation(dossiers=0)
    data = str(inst.settings.data_dir)
    env = {"EDOSSIER_DATABASE_URL": inst.settings.effective_database_url}
    code, out, _ = cli("--data-dir", data, "backup", "--json", env=env)  # no EDOSSIER_BACKUP__* at all
    assert code == 2 and out["error"]["code"] == "backup_not_configured"
    main_store = {
        "EDOSSIER_BACKUP__STORE": "fs",
        "EDOSSIER_BACKUP__PATH": str(inst.settings.store_dir / "bk"),
    }
    code, out, _ = cli("--data-dir", data, "backup", "--json", env={**env, **main_store})
    assert code == 2 and out["error"]["code"] == "backup_store_is_main_store"


def test_a_missing_backup_folder_is_unavailable_and_never_created(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    unmounted = tmp_path / "mnt" / "backup"
    inst = make_installation(dossiers=0, backup=BackupSettings(store="fs", path=unmounted))
    code, out, _ = cli("--data-dir", str(inst.settings.data_dir), "backup", "--json", env=env_of(inst))
    assert code == 3 and "create or mount it first" in out["error"]["message"]
    assert not unmounted.exists()


def test_backup_store_that_cannot_be_written_exits_3(
    make_installation: MakeInstallation, tmp_path: Path
) -> None:
    inst = make_installation(dossiers=0, backup=BackupSettings(store="fs", path=tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")
    code, out, _ = cli("--data-dir", str(inst.settings.data_dir), "backup", "--json", env=env_of(inst))
    assert code == 3 and out["status"] == "unavailable"
