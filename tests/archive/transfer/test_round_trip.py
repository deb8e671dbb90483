"""An export round-trips through ``edossier import``: both YJ reports green, EEPs verify, ledgers hold it.

The headline test drives both sides through the CLI (``edossier export --all -o DIR --json`` and
``edossier import DIR --trust CERT --json``) with two separate data directories.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from api.wiring import Installation
from archive.catalog.models import Document, Dossier, Event
from archive.transfer.export import export_transfer
from archive.transfer.register import parse_register
from archive.transfer.selection import select_dossiers
from integrity.canonical import canonical_json
from integrity.checks.eep import load_roots
from integrity.checks.registry import items_for
from integrity.eep_key import eep_key_paths
from integrity.eep_signatures import verify_eep_signatures
from integrity.ledger.rotation import load_known_verifiers
from integrity.ledger.verify import check_ledger
from integrity.reports.store import load_report
from standards.eep import parse_eep
from standards.limits import Limits
from tests.archive.transfer.conftest import UNITS, Sent, archive_samples, make_installation, with_settings

YJ_ITEMS = [i.id for i in items_for("YJ")]
ENV = {
    "EDOSSIER_TRANSFER__TRANSFERRING_UNIT": UNITS["transferring_unit"],
    "EDOSSIER_TRANSFER__RECEIVING_UNIT": UNITS["receiving_unit"],
}


def _cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def _documents(inst: Installation) -> dict[str, list[tuple[int, str, str, int]]]:
    with inst.sessions() as session:
        rows = session.execute(
            select(Dossier.case_number, Document.sequence, Document.sha256, Document.sm3, Document.file_size)
            .join(Document, Document.archive_id == Dossier.archive_id)
            .order_by(Dossier.case_number, Document.sequence)
        ).all()
    out: dict[str, list[tuple[int, str, str, int]]] = {}
    for case, seq, sha, sm3, size in rows:
        out.setdefault(case, []).append((seq, sha, sm3, size))
    return out


def _transferred(inst: Installation) -> list[dict[str, Any]]:
    with inst.sessions() as session:
        events = session.scalars(select(Event).where(Event.kind == "dossier.transferred").order_by(Event.id))
        return [json.loads(e.payload_json) | {"leaf_index": e.leaf_index} for e in events]


def _ledger_ok(inst: Installation) -> bool:
    with inst.sessions() as session:
        report = check_ledger(
            session, load_known_verifiers(inst.settings.keys_dir), origin=inst.settings.ledger_origin
        )
    return report.ok and not report.findings


def test_export_then_import_round_trips_with_both_yj_reports_green_and_both_ledgers_recording_it(
    tmp_path: Path, samples: list[Path]
) -> None:
    sender = make_installation(tmp_path / "sender", None)
    receiver = make_installation(tmp_path / "receiver", None)
    try:
        archive_samples(sender, samples)
        package = tmp_path / "移交包"

        code, sent = _cli(
            "export", "--all", "-o", str(package), "--data-dir", str(sender.settings.data_dir), "--json"
        )

        assert code == 0, sent["failures"]
        assert sent["written"] and sent["yj_passed"] and len(sent["records"]) == 3
        certificate = eep_key_paths(sender.settings.keys_dir, sender.settings.transfer.eep_key_name)[1]
        code, received = _cli(
            "import", str(package), "--trust", str(certificate), "--data-dir", str(receiver.settings.data_dir),
            "--report-dir", str(tmp_path / "接收"), "--json",
        )  # fmt: skip

        assert code == 0, received["failures"]
        assert (
            received["accepted"]
            and received["trust"] == "verified"
            and received["register_signature"] == "valid"
        )
        assert received["failures"] == [] and received["warnings"] == []
        # both YJ reports: every one of the 35 items answered, none failed
        for side, inst, records in (
            ("sent", sender, sent["records"]),
            ("received", receiver, received["records"]),
        ):
            for r in records:
                with inst.sessions() as session:
                    stored = load_report(session, r["report_id"])
                assert stored is not None and stored.report.stage == "YJ", side
                assert [x.item for x in stored.report.results] == YJ_ITEMS
                assert stored.report.passed and stored.report.counts()["fail"] == 0
                assert (
                    hashlib.sha256(canonical_json(stored.report.as_dict())).hexdigest() == r["report_sha256"]
                )
                assert {x.item: x.status for x in stored.report.results}["YJ-1-14"] == "pass"
        # the EEPs verify with the sender's certificate as the trust root
        roots = load_roots(certificate)
        eeps = sorted(package.glob("*/*/*/*.eep.xml"))
        assert len(eeps) == 3
        for eep in eeps:
            verify_eep_signatures(parse_eep(eep.read_bytes(), Limits()), roots=roots)
        # the receiver holds the dossiers with identical document digests
        assert _documents(receiver) == _documents(sender) and len(_documents(receiver)) == 3
        # both ledgers verify and hold dossier.transferred (sent / received) per dossier
        assert _ledger_ok(sender) and _ledger_ok(receiver)
        out, into = _transferred(sender), _transferred(receiver)
        assert [e["direction"] for e in out] == ["sent"] * 3 and [e["direction"] for e in into] == [
            "received"
        ] * 3
        assert (
            {e["package_sha256"] for e in out}
            == {e["package_sha256"] for e in into}
            == {hashlib.sha256(p.read_bytes()).hexdigest() for p in eeps}
        )
        assert {e["transfer_id"] for e in out + into} == {sent["transfer_id"]}
        assert all(e["yj_passed"] is True for e in out + into)
        assert {e["recipient"] for e in out + into} == {UNITS["receiving_unit"]}
        assert {e["sender"] for e in into} == {UNITS["transferring_unit"]}
        # the sender keeps its dossiers (a transfer is not a deletion)
        with sender.sessions() as session:
            assert len(session.scalars(select(Dossier)).all()) == 3
        # the receiver's 登记表: the sender's signed form untouched, both parties' results in its own copy
        mine = parse_register((tmp_path / "接收" / "登记表-接收.xml").read_bytes(), limits=Limits())
        assert [i.party for i in mine.inspections] == ["移交单位", "接收单位"]
        assert all(i.passed for i in mine.inspections)
        signed = (package / "其他" / "登记表.xml").read_bytes()
        assert mine.sender_register_sha256 == hashlib.sha256(signed).hexdigest() == sent["register_sha256"]
    finally:
        sender.close()
        receiver.close()


def test_import_without_a_trust_root_accepts_but_reports_trust_as_unverified_never_as_pass(
    sent: Sent, receiver: Installation, tmp_path: Path, accept: Any
) -> None:
    outcome = accept(sent.path, trusted=False)

    assert outcome.accepted and outcome.trust == "unverified"
    assert {w.code for w in outcome.warnings} == {"eep_trust_unverified", "transfer_trust_unverified"}
    for record in outcome.records:
        status = {r.item: r.status for r in record.report.results}
        assert status["YJ-1-1"] == "warn" and record.eep.trust == "unverified"


def test_reimport_of_the_same_package_reports_the_yj_1_8_duplicate_and_archives_nothing_twice(
    sent: Sent, receiver: Installation, accept: Any
) -> None:
    first = accept(sent.path)
    assert first.accepted

    again = accept(sent.path)

    assert not again.accepted
    assert {f.item for f in again.failures} == {"YJ-1-8"}
    assert all(r.duplicate_of for r in again.records)
    assert {r.duplicate_of for r in again.records} == {r.archive_id for r in first.records}
    with receiver.sessions() as session:
        assert len(session.scalars(select(Dossier)).all()) == 3
    received = [e for e in _transferred(receiver) if e["direction"] == "received"]
    assert len(received) == 3  # no second dossier.transferred for the refused re-import


def test_an_import_interrupted_after_some_ingests_completes_when_run_again(
    sent: Sent, receiver: Installation, samples: list[Path], accept: Any
) -> None:
    """An outage between records leaves the first archived without its dossier.transferred; the re-run
    must finish the accession (not refuse those records as duplicates for ever) and then be complete."""
    archive_samples(receiver, samples[:1])  # what the interrupted run had archived before it stopped

    resumed = accept(sent.path)

    assert resumed.accepted, [f.as_dict() for f in resumed.failures]
    assert not any(r.duplicate_of for r in resumed.records)
    received = [e for e in _transferred(receiver) if e["direction"] == "received"]
    assert len(received) == 3 and {e["transfer_id"] for e in received} == {resumed.transfer_id}
    with receiver.sessions() as session:
        assert len(session.scalars(select(Dossier)).all()) == 3
    assert not accept(sent.path).accepted  # now it is complete: a third run is the YJ-1-8 duplicate


def test_export_writes_and_records_nothing_when_a_yj_item_fails_and_names_the_item(
    sent: Sent, tmp_path: Path
) -> None:
    # YJ-1-9: the receiving archive only takes fonds X999 — none of these dossiers is in it
    strict = with_settings(sent.inst, archive_fonds_codes=("X999",))
    before = _transferred(sent.inst)
    target = tmp_path / "out"

    outcome = export_transfer(strict, select_dossiers(strict, [], True), target, now=dt.datetime.now(dt.UTC))

    assert not outcome.written and not target.exists()
    assert {f.item for f in outcome.failures} == {"YJ-1-9"}
    assert all("X999" in f.zh for f in outcome.failures)
    assert _transferred(sent.inst) == before
    assert not list(tmp_path.glob(".out.*"))  # no temporary folder left behind
