"""A receiver refuses a damaged, forged or hostile transfer package and archives nothing from it.

Each test damages a private copy of the package the module's sender exported, imports it into a new
receiver (trusting the sender's certificate) and checks the refusal names the DA/T 70 item.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli import app
from api.wiring import Installation
from archive.catalog.models import DetectionReportRow, Dossier, Event
from archive.transfer.documents import parse_transfer_list, render_transfer_list
from archive.transfer.files import hash_tree
from archive.transfer.fixity import parse_fixity, render_fixity
from archive.transfer.layout import NOT_IN_FIXITY
from archive.transfer.outcome import ImportOutcome
from archive.transfer.register import parse_register, render_register, sign_register
from integrity.eep_key import ensure_eep_signer
from standards.eep_writer import build_eep, eep_record_from_package
from standards.limits import Limits
from standards.package import StagedPackage
from standards.validation import validate_court_package
from tests.archive.transfer.conftest import UNITS, Sent

Accept = Callable[..., ImportOutcome]


def _records(package: Path) -> list[Path]:
    return sorted(p for p in package.glob("*/*/*") if p.is_dir())


def _nothing_archived(receiver: Installation) -> None:
    with receiver.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Dossier)) == 0
        assert (
            session.scalar(select(func.count()).select_from(Event).where(Event.kind == "dossier.transferred"))
            == 0
        )


def _codes(outcome: ImportOutcome) -> set[tuple[str, str]]:
    return {(f.item, f.code) for f in outcome.failures}


def test_a_flipped_byte_in_a_content_file_fails_yj_1_14_and_nothing_is_ingested(
    package_copy: Path, accept: Accept, receiver: Installation
) -> None:
    record = _records(package_copy)[0]
    pdf = sorted(record.glob("正卷/*.pdf"))[0]
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))

    outcome = accept(package_copy)

    assert not outcome.accepted
    assert ("YJ-1-14", "transfer_fixity_digest") in _codes(outcome)
    [mine] = [r for r in outcome.records if r.archival_code == record.name]
    status = {r.item: r.status for r in mine.report.results}
    assert status["YJ-1-14"] == "fail"  # package digest recorded at archiving ≠ the one found
    assert mine.eep.files_match is False  # the EEP still holds the original bytes
    others = [r for r in outcome.records if r.archival_code != record.name]
    assert all(r.report.passed for r in others)  # the damage is attributed to its record only
    _nothing_archived(receiver)
    with receiver.sessions() as session:  # the receiver keeps its reports of the refusal
        assert session.scalar(select(func.count()).select_from(DetectionReportRow)) == 3


def test_an_edited_catalog_file_is_rejected(
    package_copy: Path, accept: Accept, receiver: Installation
) -> None:
    catalog = package_copy / "目录文件.xml"
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(
        re.sub(r"<题名>[^<]*</题名>", "<题名>篡改后的题名</题名>", text, count=1), encoding="utf-8"
    )

    outcome = accept(package_copy)

    assert not outcome.accepted
    assert {
        ("YJ-1-14", "transfer_fixity_digest"),
        ("YJ-1-14", "transfer_register_digest_mismatch"),
    } <= _codes(outcome)
    assert all({r.item: r.status for r in rec.report.results}["YJ-1-14"] == "fail" for rec in outcome.records)
    _nothing_archived(receiver)


def test_a_removed_record_folder_is_rejected(
    package_copy: Path, accept: Accept, receiver: Installation
) -> None:
    gone = _records(package_copy)[1]
    shutil.rmtree(gone)

    outcome = accept(package_copy)

    assert not outcome.accepted
    codes = _codes(outcome)
    assert ("YJ-1-13", "transfer_record_folder_missing") in codes and (
        "YJ-2-1",
        "transfer_record_folder_missing",
    ) in codes
    assert ("YJ-2-1", "transfer_file_count_mismatch") in codes  # 说明文件 计算机文件数
    assert ("YJ-1-14", "transfer_fixity_missing") in codes
    assert gone.name not in {r.archival_code for r in outcome.records}
    _nothing_archived(receiver)


def test_a_garbled_eep_signature_is_rejected(
    package_copy: Path, accept: Accept, receiver: Installation
) -> None:
    eep = sorted(package_copy.glob("*/*/*/*.eep.xml"))[0]
    text = eep.read_text(encoding="utf-8")
    value = re.search(r"<签名结果>([^<]+)</签名结果>", text)
    assert value is not None
    raw = bytearray(base64.b64decode(value.group(1)))
    raw[-1] ^= 0x01
    eep.write_text(text.replace(value.group(1), base64.b64encode(bytes(raw)).decode(), 1), encoding="utf-8")

    outcome = accept(package_copy)

    assert not outcome.accepted
    assert ("YJ-1-1", "eep_signature_invalid") in _codes(outcome)
    [mine] = [r for r in outcome.records if eep.name.startswith(r.archival_code)]
    assert mine.eep.signatures == "invalid"
    _nothing_archived(receiver)


def _resign(package: Path, keys: Path) -> None:
    """Forge a self-consistent package: every EEP, 移交清单, 固化信息, certificate and 登记表 re-signed by
    another key with the same unit name (what an attacker without the sender's key can do)."""
    now = dt.datetime.now(dt.UTC)
    forger = ensure_eep_signer(keys, "forger", unit=UNITS["transferring_unit"], now=now)
    limits = Limits()
    digests: dict[str, str] = {}
    for folder in _records(package):
        eep = folder / f"{folder.name}.eep.xml"
        eep.unlink()
        files = hash_tree(folder)
        staged = StagedPackage(folder, tuple(files.values()), folder.name, "folder", "")
        record = eep_record_from_package(
            staged, validate_court_package(staged, limits=limits, today=now.date())
        )
        data = build_eep(
            record,
            sign=forger.sign,
            certificate_der=forger.certificate_der,
            algorithm=forger.algorithm,
            created_at=now,
            unit=UNITS["transferring_unit"],
            limits=limits,
        )
        eep.write_bytes(data)
        digests[folder.name] = hashlib.sha256(data).hexdigest()
    listing = package / "其他" / "移交清单.xml"
    transfer_id, entries = parse_transfer_list(listing.read_bytes(), limits=limits)
    entries = [dataclasses.replace(e, eep_sha256=digests[e.archival_code]) for e in entries]
    listing.write_bytes(render_transfer_list(transfer_id, entries))
    (package / "其他" / "签名证书.pem").write_bytes(forger.certificate_pem)
    fixity = package / "其他" / "固化信息.json"
    created = json.loads(fixity.read_text(encoding="utf-8"))["created_at"]
    tree = hash_tree(package)
    fixity.write_bytes(
        render_fixity(transfer_id, created, [f for p, f in tree.items() if p not in NOT_IN_FIXITY])
    )
    assert parse_fixity(fixity.read_bytes(), limits=limits).transfer_id == transfer_id
    tree = hash_tree(package)
    register = package / "其他" / "登记表.xml"
    old = parse_register(register.read_bytes(), limits=limits)
    new = dataclasses.replace(old, digests=tuple((p, tree[p].digests["sha256"]) for p, _ in old.digests))
    data = render_register(new)
    register.write_bytes(data)
    (package / "其他" / "登记表.xml.sig").write_bytes(
        sign_register(
            data,
            sign=forger.sign,
            algorithm=forger.algorithm,
            certificate_der=forger.certificate_der,
            now=now,
        )
    )


def test_a_package_re_signed_with_another_key_is_rejected_when_the_sender_certificate_is_trusted(
    package_copy: Path, accept: Accept, receiver: Installation, tmp_path: Path
) -> None:
    _resign(package_copy, tmp_path / "forger-keys")

    outcome = accept(package_copy)

    assert not outcome.accepted
    codes = _codes(outcome)
    assert ("YJ-1-1", "eep_certificate_untrusted") in codes
    assert ("YJ-1-1", "transfer_register_signature_invalid") in codes
    assert all(r.eep.trust == "failed" and r.eep.signatures == "valid" for r in outcome.records)
    _nothing_archived(receiver)


def test_a_path_traversal_code_in_the_catalog_is_rejected_with_a_clear_error(
    package_copy: Path, accept: Accept, receiver: Installation, tmp_path: Path
) -> None:
    catalog = package_copy / "目录文件.xml"
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(
        re.sub(r"<档号>[^<]*</档号>", "<档号>../../../escaped</档号>", text, count=1), encoding="utf-8"
    )

    outcome = accept(package_copy)

    assert not outcome.accepted
    [traversal, *_] = [f for f in outcome.failures if f.code == "transfer_path_traversal"]
    assert (
        traversal.item in ("YJ-1-7", "YJ-1-13")
        and "路径穿越" in traversal.zh
        and "path traversal" in traversal.en
    )
    assert "../../../escaped" not in {r.archival_code for r in outcome.records}
    assert not (tmp_path / "escaped").exists() and not (package_copy.parent / "escaped").exists()
    _nothing_archived(receiver)


def test_a_doctype_in_the_description_file_is_refused_and_no_entity_is_expanded(
    package_copy: Path, accept: Accept, receiver: Installation, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")
    description = package_copy / "说明文件.xml"
    text = description.read_text(encoding="utf-8")
    hostile = text.replace(
        "<说明文件 ", f'<!DOCTYPE 说明文件 [<!ENTITY x SYSTEM "file://{secret}">]>\n<说明文件 ', 1
    ).replace("<内容描述>", "<内容描述>&x;", 1)
    description.write_text(hostile, encoding="utf-8")

    outcome = accept(package_copy)

    assert not outcome.accepted
    assert {("YJ-1-12", "transfer_document_invalid"), ("YJ-3-1", "transfer_document_invalid")} <= _codes(
        outcome
    )
    assert "TOP-SECRET-42" not in json.dumps(outcome.as_json(), ensure_ascii=False)
    _nothing_archived(receiver)


def test_a_symlink_in_the_package_is_refused_before_anything_is_read(
    package_copy: Path, accept: Accept, receiver: Installation
) -> None:
    os.symlink("/etc/hostname", _records(package_copy)[0] / "正卷" / "0099-链接.pdf")

    outcome = accept(package_copy)

    assert not outcome.accepted and outcome.records == ()
    [failure] = outcome.failures
    assert failure.item == "YJ-1-13" and "symlink" in failure.code
    _nothing_archived(receiver)


def test_an_extra_file_in_the_other_folder_fails_yj_4_3(package_copy: Path, accept: Accept) -> None:
    (package_copy / "其他" / "readme.exe").write_bytes(b"MZ")

    outcome = accept(package_copy)

    assert not outcome.accepted
    assert ("YJ-4-3", "transfer_extra_file") in _codes(outcome)


def test_xml_parsing_of_the_catalog_rejects_an_unknown_element(package_copy: Path, accept: Accept) -> None:
    catalog = package_copy / "目录文件.xml"
    root = etree.fromstring(catalog.read_bytes())
    etree.SubElement(root[0], "多余元素").text = "x"
    catalog.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    outcome = accept(package_copy)

    assert not outcome.accepted
    assert ("YJ-1-12", "transfer_document_invalid") in _codes(outcome)


def test_the_cli_names_the_failing_item_of_a_refused_import_and_exits_1(
    package_copy: Path, receiver: Installation, sent: Sent
) -> None:
    shutil.rmtree(_records(package_copy)[0])
    env = {
        "EDOSSIER_DATABASE_URL": str(receiver.settings.database_url),
        "EDOSSIER_TRANSFER__RECEIVING_UNIT": UNITS["receiving_unit"],
    }
    args = ["import", str(package_copy), "--trust", str(sent.certificate)]

    result = CliRunner().invoke(app, [*args, "--data-dir", str(receiver.settings.data_dir)], env=env)

    assert result.exit_code == 1, result.output
    assert "接收未通过，未入库" in result.stdout and "YJ-1-13" in result.stdout
    assert "YJ-2-1" in result.stdout and "接收方登记表" in result.stdout
    _nothing_archived(receiver)
