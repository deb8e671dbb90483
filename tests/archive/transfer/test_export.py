"""``edossier export`` refuses what it must not hand over, and its CLI answers with the documented exit codes."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import app
from api.wiring import Installation
from archive.catalog.models import Document, Event
from archive.stores.keys import blob_key
from archive.transfer.accession import import_transfer
from archive.transfer.errors import DossierDamaged, TransferDossierNotFound, TransferSelectionEmpty
from archive.transfer.export import export_transfer
from archive.transfer.selection import select_dossiers
from integrity.checks.eep import load_roots
from integrity.eep_key import eep_key_paths
from tests.archive.transfer.conftest import Sent, archive_samples, make_installation


def _transferred(inst: Installation) -> int:
    with inst.sessions() as session:
        return int(
            session.scalar(select(func.count()).select_from(Event).where(Event.kind == "dossier.transferred"))
            or 0
        )


def test_export_refuses_a_dossier_whose_stored_object_is_damaged_and_writes_nothing(
    tmp_path: Path, samples: list[Path], fresh_database_url: Callable[..., str]
) -> None:
    inst = make_installation(tmp_path / "data", fresh_database_url("sqlite"))
    try:
        archive_samples(inst, samples[:1])
        with inst.sessions() as session:
            doc = session.scalars(select(Document).order_by(Document.sequence)).first()
        assert doc is not None
        path = inst.settings.store_dir.joinpath(*blob_key(doc.sha256).split("/"))
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        target = tmp_path / "out"

        with pytest.raises(DossierDamaged) as caught:
            export_transfer(inst, select_dossiers(inst, [], True), target, now=dt.datetime.now(dt.UTC))

        assert doc.file_path in caught.value.message and doc.sha256 in caught.value.message
        assert not target.exists() and not list(tmp_path.glob(".out.*"))
        assert _transferred(inst) == 0
    finally:
        inst.close()


def test_select_refuses_an_empty_selection_and_an_unknown_case_number(
    tmp_path: Path, fresh_database_url: Callable[..., str]
) -> None:
    inst = make_installation(tmp_path / "data", fresh_database_url("sqlite"))
    try:
        with pytest.raises(TransferSelectionEmpty):
            select_dossiers(inst, [], True)
        with pytest.raises(TransferDossierNotFound):
            select_dossiers(inst, ["（2024）京0105民初9999号"], False)
    finally:
        inst.close()


def test_export_of_one_case_number_transfers_only_that_dossier_and_flags_that_it_was_sent_before(
    sent: Sent, tmp_path: Path
) -> None:
    case = sent.outcome.records[1].selected.case_number
    outcome = export_transfer(
        sent.inst,
        select_dossiers(sent.inst, [case, case], False),
        tmp_path / "one",
        now=dt.datetime.now(dt.UTC),
    )

    assert outcome.written and [r.selected.case_number for r in outcome.records] == [case]
    # sent before (the module's export): YJ-1-8 flags it as a warning, the package is still written
    assert [(w.item, w.code) for w in outcome.warnings] == [("YJ-1-8", "transfer_already_sent")]
    assert {r.item: r.status for r in outcome.records[0].report.results}["YJ-1-8"] == "warn"
    assert len(list((tmp_path / "one").glob("*/*/*/*.eep.xml"))) == 1


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_cli_export_usage_errors_exit_2(sent: Sent, tmp_path: Path) -> None:
    data = ["--data-dir", str(sent.inst.settings.data_dir)]
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")

    assert _cli("export", "-o", str(tmp_path / "a"), *data)[0] == 2  # neither --all nor --case-number
    assert _cli("export", "--all", "--case-number", "x", "-o", str(tmp_path / "b"), *data)[0] == 2
    assert _cli("export", "--all", "-o", str(full), *data)[0] == 2  # target not empty
    assert _cli("export", "--all", *data)[0] == 2  # no -o
    assert _cli("import", str(tmp_path / "missing"), *data)[0] == 2


def test_cli_export_of_an_unknown_case_number_exits_1_with_one_json_object(
    sent: Sent, tmp_path: Path
) -> None:
    code, out = _cli(
        "export", "--case-number", "（2024）京0105民初9999号", "-o", str(tmp_path / "x"),
        "--data-dir", str(sent.inst.settings.data_dir), "--json",
    )  # fmt: skip

    assert code == 1
    doc = json.loads(out)
    assert doc["written"] is False and doc["error"]["code"] == "transfer_dossier_not_found"


@pytest.mark.postgres
def test_a_sender_on_postgresql_exports_a_package_a_sqlite_receiver_accepts(
    tmp_path: Path, samples: list[Path], fresh_database_url: Callable[..., str]
) -> None:
    sender = make_installation(tmp_path / "sender", fresh_database_url("postgresql"))
    receiver = make_installation(tmp_path / "receiver", fresh_database_url("sqlite"))
    try:
        archive_samples(sender, samples[:2])
        target = tmp_path / "package"
        sent = export_transfer(sender, select_dossiers(sender, [], True), target, now=dt.datetime.now(dt.UTC))
        assert sent.written and all(r.leaf_index is not None for r in sent.records)

        cert = eep_key_paths(sender.settings.keys_dir, sender.settings.transfer.eep_key_name)[1]
        got = import_transfer(
            receiver, target, roots=load_roots(cert), report_dir=tmp_path / "r", now=dt.datetime.now(dt.UTC)
        )

        assert got.accepted, [f.as_dict() for f in got.failures]
        assert {r.case_number for r in got.records} == {r.selected.case_number for r in sent.records}
        assert _transferred(sender) == 2 and _transferred(receiver) == 2
    finally:
        sender.close()
        receiver.close()
