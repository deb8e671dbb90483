"""standards.eep_writer: a real court package → signed DA/T 48 EEP → our reader, verifier, checks → back.

The package comes from the sample generator (8 documents: scans, a JPEG, two 副卷 documents marked 内部),
is staged by intake and validated; the EEP is signed with the archive's key from integrity.eep_key.
Tampering cases are data: tests/vectors/eep/writer/tamper.csv names the element changed and the error
class each signature must then fail with (empty: it still verifies).
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from archive.intake import open_package
from archive.sample import generate_sample
from archive.settings import Settings
from integrity import eep_signatures
from integrity.checks.eep import (
    check_eep_metadata,
    check_eep_signatures,
    check_eep_structure,
    gather_eep_facts,
)
from integrity.checks.model import CheckContext
from integrity.eep_key import EepSigner, ensure_eep_signer
from standards.eep import (
    EEP_NS,
    EepPackage,
    decode_eep_files,
    eep_profile_problems,
    missing_metadata,
    parse_eep,
)
from standards.eep_writer import (
    EepFile,
    EepLayoutUnknown,
    EepRecord,
    EepRecordInconsistent,
    EepRecordNotValid,
    EepRecordTooLarge,
    EepRecordUnmappedFile,
    EepSourceChanged,
    EepStep,
    build_eep,
    court_path,
    eep_record_from_package,
    rebuild_court_package,
)
from standards.limits import Limits
from standards.package import StagedPackage
from standards.problems import Problem
from standards.validation import ValidationReport, validate_court_package
from standards.xml_parser import parse_xml

NOW = dt.datetime(2025, 3, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
UNIT = "某某市档案馆（测试）"
LIMITS = Limits()
TAMPER = Path(__file__).parents[1] / "vectors" / "eep" / "writer" / "tamper.csv"


@dataclass(frozen=True)
class Built:
    package: StagedPackage
    report: ValidationReport
    record: EepRecord
    signer: EepSigner
    data: bytes
    path: Path
    root: Path


def _build(
    record: EepRecord,
    signer: EepSigner,
    *,
    created_at: dt.datetime = NOW,
    limits: Limits = LIMITS,
) -> bytes:
    return build_eep(
        record,
        sign=signer.sign,
        certificate_der=signer.certificate_der,
        algorithm=signer.algorithm,
        created_at=created_at,
        unit=UNIT,
        limits=limits,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("eep-writer")
    sample = generate_sample(root / "sample", seed=0, documents=8, now=NOW).path
    package = open_package(sample, root / "staging", limits=LIMITS)
    report = validate_court_package(package, limits=LIMITS, today=NOW.date())
    assert report.passed, report.problems
    record = eep_record_from_package(package, report)
    signer = ensure_eep_signer(root / "keys", "archive", unit=UNIT, now=NOW)
    data = _build(record, signer)
    path = root / "eep" / "J-record.xml"
    path.parent.mkdir()
    path.write_bytes(data)
    return Built(package, report, record, signer, data, path, root)


def _outcomes(pkg: EepPackage, roots: list[bytes]) -> dict[str, str | None]:
    return {
        ("锁定签名" if o.is_lock else "电子签名"): (type(o.error).__name__ if o.error else None)
        for o in eep_signatures.check_eep_signatures(pkg, roots=roots, at=NOW)
    }


# ---------------------------------------------------------------- the round trip
def test_built_eep_parses_with_no_profile_problems_or_missing_metadata(built: Built) -> None:
    pkg = parse_eep(built.data, LIMITS)
    assert (pkg.package_type, pkg.branch, pkg.creator) == ("原始型", "封装内容", UNIT)
    assert eep_profile_problems(pkg) == []
    assert missing_metadata(parse_xml(built.data, limits=LIMITS)) == []
    assert len(pkg.documents) == len(built.record.files) == len(built.package.files) == 8 * 2 + 2


def test_eep_carries_the_record_metadata(built: Built) -> None:
    pkg = parse_eep(built.data, LIMITS)
    entries = built.report.entries
    d = built.report.description
    assert d is not None
    code = built.record.archival_code
    fonds, category_year, _, volume, _ = entries[0].archival_code.split("-")
    assert d.retention == "永久"
    assert code == f"{fonds}-{category_year}-Y-{volume}"  # 案卷 档号 with the dossier's 保管期限 code
    expected = {
        "电子文件号": code,
        "档号/全宗号": d.fonds_code,
        "档号/保管期限": d.retention,
        "档号/年度": "2024",
        "内容描述/文件编号": d.case_number,
        "内容描述/责任者": d.court_name,
        "内容描述/日期": d.closing_date.strftime("%Y%m%d"),
        "内容描述/密级": "内部",  # the most restricted: the 副卷 documents
        "来源/立档单位名称": d.court_name,
        "形式特征/页数": str(sum(e.pages for e in entries)),
    }
    assert {k: pkg.metadata[k] for k in expected} == expected
    assert "副卷" in pkg.metadata["权限管理/控制标识"]
    by_id = {doc.identifier: doc for doc in pkg.documents}
    for e in entries:
        doc = by_id[f"{e.volume}-{e.sequence:04d}"]
        (enc,) = doc.encodings
        assert (doc.title, doc.role, enc.format, enc.declared_size) == (
            e.title,
            "主文档",
            e.format,
            e.file_size,
        )
    scanned = [f for f in built.record.files if f.scan_resolution is not None]
    assert scanned, "the sample has digitised documents"
    assert built.data.count("<数字化属性>".encode()) == len(scanned)


def test_record_files_list_every_package_file_with_size_and_sha256(built: Built) -> None:
    assert {(f.path, f.size, f.sha256) for f in built.record.files} == {
        (f.path, f.size, f.digests["sha256"]) for f in built.package.files
    }


def test_base64_estimate_is_the_exact_length_of_the_encoded_text(built: Built) -> None:
    root = parse_xml(built.data, limits=LIMITS)
    texts = [el.text or "" for el in root.iter(f"{{{EEP_NS}}}编码数据")]
    assert sum(len(t) for t in texts) == built.record.base64_chars


def test_signatures_verify_with_the_signers_certificate_as_root(built: Built) -> None:
    pkg = parse_eep(built.data, LIMITS)
    assert _outcomes(pkg, [built.signer.certificate_der]) == {"电子签名": None, "锁定签名": None}
    eep_signatures.verify_eep_signatures(pkg, roots=[built.signer.certificate_der], at=NOW)


def test_signature_chain_fails_with_an_unrelated_root(built: Built) -> None:
    other = ensure_eep_signer(built.root / "other-keys", "archive", unit=UNIT, now=NOW)  # same CN, other key
    pkg = parse_eep(built.data, LIMITS)
    outcomes = _outcomes(pkg, [other.certificate_der])
    assert outcomes == {"电子签名": "CertificateUntrusted", "锁定签名": "CertificateUntrusted"}


def test_eep_check_items_pass_on_the_built_eep(built: Built) -> None:
    package = StagedPackage(
        root=built.path.parent,
        files=(dataclasses.replace(built.package.files[0], path=built.path.name),),
        source_name=built.path.name,
        source_kind="eep",
        source_digest=hashlib.sha256(built.data).hexdigest(),
    )
    facts = gather_eep_facts(package, Settings(), "BC", roots=[built.signer.certificate_der], now=NOW)
    ctx = CheckContext(stage="BC", now=NOW, facts=facts)
    results = {
        r.item: r for r in (check_eep_structure(ctx), check_eep_signatures(ctx), check_eep_metadata(ctx))
    }
    assert {item: r.status for item, r in results.items()} == {
        "BC-1-15": "pass",
        "BC-1-16": "pass",
        "BC-2-10": "pass",
    }
    assert any(e.read == "证书信任链" and e.found == "已检查" for e in results["BC-1-16"].evidence)


def test_decoded_eep_rebuilds_the_court_package_byte_for_byte(built: Built, tmp_path: Path) -> None:
    decoded = decode_eep_files(built.path, tmp_path / "decoded", LIMITS)
    rebuilt = rebuild_court_package(decoded, tmp_path / "rebuilt")
    original = {f.path: (f.size, f.digests["sha256"], f.digests["sm3"]) for f in built.package.files}
    assert {f.path: (f.size, f.digests["sha256"], f.digests["sm3"]) for f in rebuilt.files} == original
    for f in rebuilt.files:  # digests are of the bytes on disk
        assert hashlib.sha256(rebuilt.read_bytes(f.path)).hexdigest() == f.digests["sha256"]
    report = validate_court_package(rebuilt, limits=LIMITS, today=NOW.date())
    assert report.problems == []
    assert report.passed


def test_build_is_deterministic_for_the_same_record_key_and_time(built: Built) -> None:
    assert _build(built.record, built.signer) == built.data


# ---------------------------------------------------------------- tampering
def _tampered(data: bytes, element: str, action: str, value: str) -> bytes:
    root = etree.fromstring(data)

    def find(path: str) -> etree._Element:
        el = root.find("/".join(f"{{{EEP_NS}}}{p}" for p in path.split("/")))
        assert el is not None, path
        return el

    target = find(element)
    if action == "flip-byte":
        raw = bytearray(base64.b64decode("".join((target.text or "").split())))
        raw[len(raw) // 2] ^= 0x01
        target.text = "\n" + base64.encodebytes(bytes(raw)).decode("ascii")  # same length, same layout
    elif action == "set":
        assert target.text != value
        target.text = value
    elif action == "copy-from":
        target.text = find(value).text
    else:
        raise ValueError(action)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


with TAMPER.open(encoding="utf-8", newline="") as _fh:
    TAMPER_ROWS = list(csv.DictReader(_fh))


@pytest.mark.parametrize("row", TAMPER_ROWS, ids=[r["name"] for r in TAMPER_ROWS])
def test_tampered_eep_fails_the_named_signature_with_the_expected_class(
    built: Built, row: dict[str, str]
) -> None:
    data = _tampered(built.data, row["element"], row["action"], row["value"])
    pkg = parse_eep(data, LIMITS)
    expected = {"电子签名": row["signature"] or None, "锁定签名": row["lock"] or None}
    assert _outcomes(pkg, [built.signer.certificate_der]) == expected
    first = row["signature"] or row["lock"]
    with pytest.raises(getattr(eep_signatures, first)):
        eep_signatures.verify_eep_signatures(pkg, roots=[built.signer.certificate_der], at=NOW)


# ---------------------------------------------------------------- refusals
def test_record_from_a_package_that_did_not_pass_is_refused(built: Built) -> None:
    gap = Problem("sequence_gap", "顺序号不连续：缺少 3", "GD-2-6")
    failed = dataclasses.replace(built.report, problems=[*built.report.problems, gap])
    with pytest.raises(EepRecordNotValid) as info:
        eep_record_from_package(built.package, failed)
    assert info.value.code == "eep_record_not_valid"


def test_record_whose_documents_disagree_on_the_volume_number_is_refused(built: Built) -> None:
    entries = list(built.report.entries)
    parts = entries[1].archival_code.split("-")
    parts[3] = "9999"
    entries[1] = dataclasses.replace(entries[1], archival_code="-".join(parts))
    with pytest.raises(EepRecordInconsistent):
        eep_record_from_package(built.package, dataclasses.replace(built.report, entries=entries))


def test_record_with_a_file_outside_the_court_layout_is_refused(built: Built, tmp_path: Path) -> None:
    extra = dataclasses.replace(built.package.files[0], path="其他/说明.txt")
    package = StagedPackage(
        root=built.package.root,
        files=(*built.package.files, extra),
        source_name="x",
        source_kind="folder",
        source_digest="0",
    )
    with pytest.raises(EepRecordUnmappedFile):
        eep_record_from_package(package, built.report)


def test_record_over_package_bytes_is_refused_before_reading_files(built: Built) -> None:
    chars = built.record.base64_chars
    unreadable = dataclasses.replace(
        built.record,
        files=tuple(dataclasses.replace(f, local=f.local.with_name("absent")) for f in built.record.files),
    )
    with pytest.raises(EepRecordTooLarge) as info:
        _build(unreadable, built.signer, limits=Limits(package_bytes=chars - 1))
    assert info.value.code == "eep_record_too_large"
    assert str(chars) in info.value.message
    assert _build(built.record, built.signer, limits=Limits(package_bytes=chars)) == built.data


def test_staged_file_changed_after_reading_the_record_is_refused(built: Built, tmp_path: Path) -> None:
    f = built.record.files[1]
    copy = tmp_path / "copy.pdf"
    raw = bytearray(f.local.read_bytes())
    raw[100] ^= 0xFF
    copy.write_bytes(bytes(raw))
    changed = dataclasses.replace(built.record, files=(dataclasses.replace(f, local=copy),))
    with pytest.raises(EepSourceChanged) as info:
        _build(changed, built.signer)
    assert f.sha256 in info.value.message


def test_naive_creation_time_is_a_caller_bug(built: Built) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _build(built.record, built.signer, created_at=NOW.replace(tzinfo=None))


# ---------------------------------------------------------------- odd values and files
def test_markup_characters_empty_file_and_no_extension_survive_signing_and_decoding(
    built: Built, tmp_path: Path
) -> None:
    files = []
    for n, (name, body) in enumerate(
        [("0001-A&B<c>.pdf", b"%PDF-1.4\n"), ("0002-空.pdf", b""), ("0003-说明", b"x")], 1
    ):
        local = tmp_path / f"f{n}"
        local.write_bytes(body)
        files.append(
            EepFile(
                path=f"正卷/{name}", local=local, size=len(body), sha256=hashlib.sha256(body).hexdigest(),
                sm3=None, document_id=f"正卷-{n:04d}", title=f"题名 & <{n}> \"'", role="主文档",
                format="PDF", creating_program=None,
            )
        )  # fmt: skip
    step = EepStep("归档", NOW, "张三 & 李四", "说明 <含标记>", "J001-SS·2024-Y-0001-0001")
    record = dataclasses.replace(built.record, title='A&B <案卷> "引号"', steps=(step,), files=tuple(files))
    data = _build(record, built.signer)
    pkg = parse_eep(data, LIMITS)
    assert eep_profile_problems(pkg) == []
    assert _outcomes(pkg, [built.signer.certificate_der]) == {"电子签名": None, "锁定签名": None}
    assert pkg.metadata["内容描述/题名"] == record.title
    (tmp_path / "odd.xml").write_bytes(data)
    decoded = decode_eep_files(tmp_path / "odd.xml", tmp_path / "decoded", LIMITS)
    paths = {court_path(f.path): f.digests["sha256"] for f in decoded.files}
    assert paths == {None: hashlib.sha256(data).hexdigest(), **{f.path: f.sha256 for f in files}}


@pytest.mark.parametrize(
    ("decoded", "expected"),
    [
        ("文件数据/正卷-0001/0001-起诉状.pdf", "正卷/0001-起诉状.pdf"),
        ("文件数据/副卷-0012/0012-合议笔录.pdf", "副卷/0012-合议笔录.pdf"),
        ("文件数据/元数据-0003/0003.xml", "元数据/0003.xml"),
        ("文件数据/说明文件/说明文件.xml", "说明文件.xml"),
        ("文件数据/目录文件/目录文件.xml", "目录文件.xml"),
        ("J-record.xml", None),
    ],
)
def test_court_path_maps_document_identifiers_to_the_layout(decoded: str, expected: str | None) -> None:
    assert court_path(decoded) == expected


@pytest.mark.parametrize(
    "decoded",
    ["文件数据/其他-0001/a.pdf", "文件数据/说明文件/目录文件.xml", "文件数据/正卷/a.pdf", "正卷/0001-a.pdf"],
)
def test_court_path_refuses_identifiers_outside_the_convention(decoded: str) -> None:
    with pytest.raises(EepLayoutUnknown):
        court_path(decoded)
