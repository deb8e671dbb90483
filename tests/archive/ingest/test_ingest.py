"""Ingest end to end on a real catalog (SQLite and PostgreSQL) and a real filesystem store."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from api.wiring import Installation
from archive.catalog import queries
from archive.catalog.models import Dossier
from archive.ingest.service import Accepted, IngestService
from archive.stores.keys import blob_key, manifest_key
from integrity.checkpoint import parse_checkpoint
from integrity.keys import load_verifier
from integrity.merkle.hashes import leaf_hash
from integrity.signed_note import open_note
from tests.archive.intake.intake_helpers import load_craft
from tests.integrity.reference_tree import mth


def stats(inst: Installation) -> dict[str, int]:
    with inst.sessions() as session:
        return dict(queries.catalog_stats(session))


def stored_keys(inst: Installation) -> list[str]:
    return sorted(info.key for info in inst.store.iter_objects(""))


def test_ingest_archives_zip_and_returns_verifiable_receipt(
    installation: Installation, sample_zip: Path
) -> None:
    outcome = installation.ingest_service().ingest(sample_zip)

    assert outcome.status == "archived", outcome.errors
    assert outcome.archive_id and outcome.archive_id.startswith("ED-")
    assert outcome.leaf_index == 0
    assert outcome.receipt is not None
    # the manifest named in the ledger is the manifest in the store
    with installation.store.open(manifest_key(outcome.archive_id, 1)) as f:
        manifest = f.read()
    assert hashlib.sha256(manifest).hexdigest() == outcome.manifest_sha256
    # the checkpoint is signed by the installation's key and commits to the leaf we were given
    verifier = load_verifier(installation.settings.keys_dir, installation.settings.signing_key_name)
    text, names = open_note(outcome.receipt.checkpoint, [verifier])
    assert names
    checkpoint = parse_checkpoint(text)
    assert checkpoint.size == 1
    with installation.sessions() as session:
        leaves = queries_leaves(session)
    assert checkpoint.root == mth(leaves)
    assert leaf_hash(leaves[0]).hex() == outcome.receipt.leaf_hash_hex
    event = json.loads(leaves[0])
    assert event["type"] == "dossier.archived"
    assert event["manifest_sha256"] == outcome.manifest_sha256
    assert event["archive_id"] == outcome.archive_id


def queries_leaves(session: object) -> list[bytes]:
    from sqlalchemy import select

    from archive.catalog.models import LedgerLeaf

    return [row.data for row in session.scalars(select(LedgerLeaf).order_by(LedgerLeaf.leaf_index))]  # type: ignore[attr-defined]


def test_ingest_stores_every_file_as_a_content_addressed_blob(
    installation: Installation, sample_folder: Path
) -> None:
    outcome = installation.ingest_service().ingest(sample_folder)
    assert outcome.status == "archived", outcome.errors

    for path in sorted(p for p in sample_folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        info = installation.store.stat(blob_key(digest))
        assert info.size == path.stat().st_size
    numbers = stats(installation)
    with installation.sessions() as session:
        dossier = session.get(Dossier, outcome.archive_id)
        assert dossier is not None
        assert numbers["documents"] == dossier.document_count == len(dossier.documents)
        assert {d.volume for d in dossier.documents} == {"正卷", "副卷"}
    assert numbers["dossiers"] == 1
    assert numbers["ledger_size"] == 1


def test_reingest_of_identical_package_returns_same_archive_id(
    installation: Installation, sample_zip: Path, sample_folder: Path
) -> None:
    service = installation.ingest_service()
    first = service.ingest(sample_zip)
    again = service.ingest(sample_zip)
    as_folder = service.ingest(sample_folder)  # same content, other container

    assert first.status == "archived"
    assert again.status == as_folder.status == "already_archived"
    assert again.archive_id == as_folder.archive_id == first.archive_id
    assert again.manifest_sha256 == first.manifest_sha256
    assert stats(installation)["ledger_size"] == 1


def test_different_package_for_archived_case_number_is_rejected(
    installation: Installation, sample_folder: Path, copy_of: Callable[[Path], Path]
) -> None:
    service = installation.ingest_service()
    assert service.ingest(sample_folder).status == "archived"
    before = stats(installation)
    changed = copy_of(sample_folder)
    _rewrite_note(changed)

    outcome = service.ingest(changed)

    assert outcome.status == "rejected"
    assert [(p.code, p.item) for p in outcome.errors] == [("case_already_archived", "GD-1-8")]
    assert stats(installation) == before


def _rewrite_note(folder: Path) -> None:
    """A valid but different package for the same 案号: change 备注 of 说明文件."""
    desc = folder / "说明文件.xml"
    text = desc.read_text(encoding="utf-8")
    if "<备注>" in text:
        text = text.replace("<备注>", "<备注>更正：", 1)
    else:
        text = text.replace("</说明文件>", "  <备注>更正后重新提交</备注>\n</说明文件>")
    desc.write_text(text, encoding="utf-8")


def test_invalid_package_is_rejected_with_every_problem_and_nothing_stored(
    installation: Installation, sample_folder: Path, copy_of: Callable[[Path], Path]
) -> None:
    broken = copy_of(sample_folder)
    victim = sorted((broken / "正卷").iterdir())[0]
    victim.write_bytes(victim.read_bytes() + b"tampered")  # size and both digests now differ
    (broken / "正卷" / "unlisted.txt").write_text("not in the catalogue", encoding="utf-8")

    outcome = installation.ingest_service().ingest(broken)

    assert outcome.status == "rejected"
    items = {p.item for p in outcome.errors}
    assert {"GD-1-1", "GD-1-10"} <= items  # digests and size
    assert any(p.path and p.path.endswith("unlisted.txt") for p in outcome.errors)
    assert all(p.message for p in outcome.errors)
    assert stats(installation) == {
        "dossiers": 0,
        "documents": 0,
        "blobs": 0,
        "blob_bytes": 0,
        "ledger_size": 0,
    }
    assert stored_keys(installation) == []


class CrashBeforeCommit(IngestService):
    """Dies after the objects are written and before the catalog transaction commits."""

    def commit(self, accepted: Accepted, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise SystemExit("simulated crash between blob write and commit")


def test_crash_between_blob_write_and_commit_leaves_catalog_and_ledger_consistent(
    installation: Installation, sample_zip: Path
) -> None:
    crashing = CrashBeforeCommit(
        settings=installation.settings,
        sessions=installation.sessions,
        store=installation.store,
        signers=installation.signers,
    )
    with pytest.raises(SystemExit):
        crashing.ingest(sample_zip)

    assert stats(installation) == {
        "dossiers": 0,
        "documents": 0,
        "blobs": 0,
        "blob_bytes": 0,
        "ledger_size": 0,
    }
    orphans = stored_keys(installation)
    assert orphans  # objects were written: reconciliation will report them, the catalog never names them
    assert list(installation.settings.staging_dir.iterdir()) == []

    retried = installation.ingest_service().ingest(sample_zip)
    assert retried.status == "archived"
    assert stored_keys(installation) == orphans  # the retry reused every object under the same keys
    assert retried.archive_id and manifest_key(retried.archive_id, 1) in orphans


def test_gb18030_named_zip_archives_with_chinese_names(
    installation: Installation, sample_folder: Path, tmp_path: Path
) -> None:
    """A ZIP made on Chinese Windows: names in GB18030, no UTF-8 flag (general purpose bit 11)."""
    craft = load_craft()
    target = tmp_path / "windows.zip"
    target.write_bytes(
        craft.craft_zip(
            [
                craft.Entry(
                    path.relative_to(sample_folder).as_posix().encode("gb18030"),
                    path.read_bytes(),
                    method=craft.DEFLATED,
                    create_system=0,
                    external_attr=0x20,
                )
                for path in sorted(p for p in sample_folder.rglob("*") if p.is_file())
            ]
        )
    )
    with zipfile.ZipFile(target) as zf:
        assert all(not (i.flag_bits & 0x800) for i in zf.infolist())

    outcome = installation.ingest_service().ingest(target)

    assert outcome.status == "archived", outcome.errors
    with installation.sessions() as session:
        dossier = session.get(Dossier, outcome.archive_id)
        assert dossier is not None
        paths = {d.file_path for d in dossier.documents}
    assert paths == {p.relative_to(sample_folder).as_posix() for p in (sample_folder / "正卷").iterdir()} | {
        p.relative_to(sample_folder).as_posix() for p in (sample_folder / "副卷").iterdir()
    }


def test_ingest_never_modifies_the_submitted_folder(installation: Installation, sample_folder: Path) -> None:
    def snapshot() -> dict[str, str]:
        return {
            p.relative_to(sample_folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sample_folder.rglob("*")
            if p.is_file()
        }

    before = snapshot()
    installation.ingest_service().ingest(sample_folder)
    assert snapshot() == before


def test_removed_staging_on_rejection(installation: Installation, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"PK\x03\x04 this is not really a zip")
    outcome = installation.ingest_service().ingest(bogus)
    assert outcome.status == "rejected"
    assert outcome.errors and outcome.errors[0].message
    staging = installation.settings.staging_dir
    assert not staging.exists() or list(staging.iterdir()) == []


def test_concurrent_ingests_of_different_dossiers_both_land_in_one_consistent_ledger(
    installation: Installation, sample_zip: Path, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from archive.sample import generate_sample
    from integrity.ledger.store import LedgerStore
    from tests.archive.ingest.conftest import FIXED_NOW

    other = generate_sample(tmp_path / "other.zip", seed=12, documents=5, as_zip=True, now=FIXED_NOW).path
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda p: installation.ingest_service().ingest(p), [sample_zip, other]))

    assert [o.status for o in outcomes] == ["archived", "archived"]
    assert sorted(o.leaf_index for o in outcomes) == [0, 1]  # type: ignore[type-var]
    with installation.sessions() as session:
        leaves = queries_leaves(session)
        assert LedgerStore().root_at(session, 2) == mth(leaves)


def test_ingest_runs_every_gd_stage_item_and_stores_the_report(installation: Installation, sample_zip: Path) -> None:
    from integrity.checks.registry import items_for
    from integrity.reports.store import load_report

    outcome = installation.ingest_service().ingest(sample_zip)

    assert outcome.status == "archived"
    assert outcome.detection is not None and outcome.detection.passed
    assert [r.item for r in outcome.detection.results] == [i.id for i in items_for("GD")]
    assert not any(r.status == "fail" for r in outcome.detection.results)
    body = outcome.as_json()["report"]
    assert body["stage"] == "GD" and len(body["results"]) == 36
    with installation.sessions() as session:
        stored = load_report(session, str(outcome.report_id))
    assert stored is not None


def test_gd_stage_failure_rejects_a_package_that_validation_accepts(
    tmp_path: Path, sample_zip: Path, fresh_database_url: Callable[..., str]
) -> None:
    """Format policy is a DA/T 70 x-3-3 item, not a schema rule: scans in JPEG are refused when JPEG is not allowed."""
    from api.wiring import initialise, open_installation
    from archive.settings import Settings

    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=fresh_database_url("sqlite", migrated=False),
        allowed_formats=("PDF", "OFD", "XML"),
    )
    initialise(settings)
    inst = open_installation(settings)
    try:
        outcome = inst.ingest_service().ingest(sample_zip)
        with inst.sessions() as session:
            numbers = dict(queries.catalog_stats(session))
    finally:
        inst.close()

    assert outcome.status == "rejected"
    assert "GD-3-3" in {p.item for p in outcome.errors}
    assert outcome.detection is not None
    assert {r.item: r.status for r in outcome.detection.results}["GD-3-3"] == "fail"
    assert numbers["dossiers"] == 0 and numbers["blobs"] == 0
