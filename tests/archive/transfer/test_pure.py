"""The pure parts of the transfer package: record 档号, documents, 固化信息, 登记表 signature, findings."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from archive.transfer.documents import (
    ListEntry,
    TransferDescription,
    TransferDocuments,
    TransferEntry,
    parse_catalog,
    parse_description,
    parse_transfer_list,
    render_catalog,
    render_description,
    render_transfer_list,
)
from archive.transfer.eep_check import parse_large_xml
from archive.transfer.errors import (
    RecordCodeMalformed,
    RecordCodeUnusable,
    RegisterSignatureInvalid,
    TransferDocumentInvalid,
)
from archive.transfer.findings import Finding, apply_findings
from archive.transfer.fixity import compare_fixity, parse_fixity, render_fixity
from archive.transfer.inspect import check_transfer
from archive.transfer.layout import gigabytes, parse_record_code, record_code_for
from archive.transfer.register import sign_register, verify_register_signature
from integrity.checks.model import DetectionReport, ItemResult
from integrity.eep_key import ensure_eep_signer
from standards.limits import Limits
from standards.package import StagedFile
from standards.xml_parser import XmlDoctypeForbiddenError

NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
LIMITS = Limits()
SHA = "ab" * 32


def _file(path: str, size: int = 3, sha: str = SHA) -> StagedFile:
    return StagedFile(path, size, {"sha256": sha, "sm3": "cd" * 32})


# ------------------------------------------------------------------ record 档号
def test_record_code_takes_the_dossier_retention_not_the_documents_shorter_ones() -> None:
    code = record_code_for(["J123-SS·2024-D-0012-0001", "J123-SS.2024-C-0012-0002"], "永久")

    assert (code.text, code.folder, code.eep_name) == (
        "J123-SS·2024-Y-0012",
        "J123/SS/J123-SS·2024-Y-0012",
        "J123-SS·2024-Y-0012.eep.xml",
    )


def test_record_code_refuses_documents_of_two_dossiers() -> None:
    with pytest.raises(RecordCodeUnusable, match=r"0012.*0013"):
        record_code_for(["J123-SS·2024-Y-0012-0001", "J123-SS·2024-Y-0013-0002"], "永久")


@pytest.mark.parametrize(
    "text", ["../../etc", "J123/SS", "J123-SS·2024-Y-..", "a\\b", "J123-SS·2024-Y-0012/.."]
)
def test_record_code_refuses_anything_that_could_leave_its_folder(text: str) -> None:
    with pytest.raises(RecordCodeMalformed, match="path traversal"):
        parse_record_code(text)


def test_data_volume_is_in_gigabytes_with_three_decimals() -> None:
    assert [gigabytes(n) for n in (0, 499_999, 500_000, 1_234_567_890, 12 * 10**9)] == [
        "0.000",
        "0.000",
        "0.001",
        "1.235",
        "12.000",
    ]


# ------------------------------------------------------------------ documents
DESCRIPTION = TransferDescription(
    "2c2f327c-559a-4ebd-8328-e8caae4bdae2", "UTF-8", "在线", "J123-SS-2024/2024-DK1", "某法院", "某档案馆",
    "内容", "案卷级", "J123-SS·2024-Y-0001", "J123-SS·2024-Y-0002", 2, 4, 18, 4096, ("sha256", "sm3"),
    "edossier 0.1.0", "Python 3.11", "Linux", "x86_64", NOW,
)  # fmt: skip


def test_description_catalog_and_list_round_trip_through_xml() -> None:
    entry = TransferEntry(
        1, "J123-SS·2024-Y-0001", "某法院", "题名", dt.date(2024, 6, 1), "永久", "公开", 12, "案号：x"
    )
    listed = ListEntry(
        1, "J123-SS·2024-Y-0001", "（2024）京0105民初1号", "ED-1", 8, 4096, SHA, "a.eep.xml", SHA
    )

    assert parse_description(render_description(DESCRIPTION), limits=LIMITS) == DESCRIPTION
    [back] = parse_catalog(render_catalog([entry]), limits=LIMITS)
    assert dataclasses.replace(back, line=None) == entry
    transfer_id, [listed_back] = parse_transfer_list(render_transfer_list("t-1", [listed]), limits=LIMITS)
    assert transfer_id == "t-1" and dataclasses.replace(listed_back, line=None) == listed


def test_a_description_with_a_doctype_or_too_many_bytes_is_refused() -> None:
    data = render_description(DESCRIPTION)
    hostile = data.replace(
        b"<\xe8\xaf\xb4", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><\xe8\xaf\xb4', 1
    )

    with pytest.raises(TransferDocumentInvalid, match="DOCTYPE"):
        parse_description(hostile, limits=LIMITS)
    with pytest.raises(TransferDocumentInvalid, match="xml_bytes"):
        parse_description(data, limits=Limits(xml_bytes=100))


# ------------------------------------------------------------------ 固化信息
def test_fixity_comparison_names_missing_unlisted_and_changed_files() -> None:
    listed = [_file("a"), _file("b"), _file("c")]
    fixity = parse_fixity(render_fixity("t", NOW.isoformat(), listed), limits=LIMITS)
    found = {"a": _file("a"), "c": _file("c", sha="ef" * 32), "d": _file("d")}

    kinds = {(m.path, m.kind) for m in compare_fixity(fixity, found)}

    assert kinds == {("b", "missing"), ("c", "digest"), ("d", "unlisted")}
    assert compare_fixity(fixity, {f.path: f for f in listed}) == []


def test_fixity_document_of_another_format_is_refused() -> None:
    with pytest.raises(TransferDocumentInvalid, match="format"):
        parse_fixity(b'{"format": "other", "files": []}', limits=LIMITS)


# ------------------------------------------------------------------ 登记表 signature
def test_register_signature_verifies_and_refuses_changed_bytes_or_another_root(tmp_path: Path) -> None:
    signer = ensure_eep_signer(tmp_path / "a", "k", unit="某法院", now=NOW)
    other = ensure_eep_signer(tmp_path / "b", "k", unit="某法院", now=NOW)
    data = "<登记表/>".encode()
    sig = sign_register(data, sign=signer.sign, algorithm=signer.algorithm,
                        certificate_der=signer.certificate_der, now=NOW)  # fmt: skip

    assert verify_register_signature(data, sig, signer.certificate_der, roots=[signer.certificate_der]) == NOW
    with pytest.raises(RegisterSignatureInvalid, match="signed_sha256"):
        verify_register_signature(data + b" ", sig, signer.certificate_der)
    with pytest.raises(RegisterSignatureInvalid, match="certificate_sha256"):
        verify_register_signature(data, sig, other.certificate_der)
    with pytest.raises(RegisterSignatureInvalid, match="chain"):
        verify_register_signature(data, sig, signer.certificate_der, roots=[other.certificate_der])


# ------------------------------------------------------------------ findings → report
def _report(*results: ItemResult) -> DetectionReport:
    return DetectionReport("YJ", "x", NOW, results)


def test_a_failing_finding_fails_its_item_and_a_warning_only_downgrades_a_pass() -> None:
    report = _report(
        ItemResult("YJ-1-14", "pass", "通过"),
        ItemResult("YJ-1-1", "pass", "通过"),
        ItemResult("YJ-4-2", "not_run", "未执行", reason="无扫描器"),
    )
    findings = [
        Finding("YJ-1-14", "transfer_fixity_digest", "摘要不符", "digest differs", "a.pdf", "R1"),
        Finding("YJ-1-1", "eep_trust_unverified", "未经可信根确认", "untrusted", None, None, "warn"),
        Finding("YJ-4-2", "x", "仅警告", "warn only", None, None, "warn"),
    ]

    out = {r.item: r for r in apply_findings(report, findings).results}

    assert out["YJ-1-14"].status == "fail" and out["YJ-1-14"].problems[0].code == "transfer_fixity_digest"
    assert out["YJ-1-1"].status == "warn"
    assert out["YJ-4-2"].status == "not_run"  # a warning never turns "not run" into anything better
    assert not apply_findings(report, findings).passed
    with pytest.raises(ValueError, match="YJ-9-9"):
        apply_findings(report, [Finding("YJ-9-9", "c", "z", "e")])


def test_catalog_checks_find_duplicate_codes_and_sequence_gaps() -> None:
    entry = TransferEntry(1, "J123-SS·2024-Y-0001", "a", "t", dt.date(2024, 1, 1), "永久", "公开", 1, "")
    docs = TransferDocuments(catalog=[entry, dataclasses.replace(entry, sequence=3)])
    inventory = {
        "J123/SS/J123-SS·2024-Y-0001/说明文件.xml": _file("J123/SS/J123-SS·2024-Y-0001/说明文件.xml")
    }

    findings, plans = check_transfer(inventory, docs, require_register=False)

    codes = {(f.item, f.code) for f in findings}
    assert ("YJ-1-8", "transfer_record_code_duplicate") in codes and (
        "YJ-2-6",
        "transfer_sequence_gap",
    ) in codes
    assert ("YJ-1-13", "transfer_eep_missing") in codes and len(plans) == 1


def test_a_whole_eep_parses_beyond_libxml2s_10_mb_text_node_limit_but_never_with_a_doctype() -> None:
    text = base64.encodebytes(bytes(8_000_000))  # one file's Base64: 10.8 MB in one text node

    assert len(parse_large_xml(b"<a>" + text + b"</a>", limits=Limits(), path="x").text or "") == len(text)
    for hostile in (
        b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a><a/>'.encode("utf-16"),
        b'<?xml version="1.0" encoding="UTF-7"?>\n+ADw-!DOCTYPE a SYSTEM "/dev/stdin"+AD4-\n<a/>',  # no byte marker
    ):
        with pytest.raises(XmlDoctypeForbiddenError):
            parse_large_xml(hostile, limits=Limits(), path="x")
