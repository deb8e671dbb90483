"""standards.eep: parse + XSD (BC-1-15), profile rules, mandatory metadata (BC-2-10), streaming decode.

Vectors: tests/vectors/eep (regenerate with ``python -m tests.vectors.eep.make_eep``); expected.json
names, per vector, the error class parse / decode must raise (null: none).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from standards import eep
from standards.eep import (
    EepLimitExceeded,
    EepSizeMismatch,
    EepUnsafeFileName,
    NotAnEep,
    decode_base64_stream,
    decode_eep_files,
    eep_profile_problems,
    missing_metadata,
    parse_eep,
    restored_name,
)
from standards.limits import Limits
from standards.xml_parser import XmlDoctypeForbiddenError, parse_xml

VECTORS = Path(__file__).parents[1] / "vectors" / "eep"
EXPECTED: dict[str, dict[str, Any]] = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
LIMITS = Limits()


def _read(rel: str) -> bytes:
    return (VECTORS / rel).read_bytes()


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_parse_eep_vector_gives_expected_outcome(rel: str) -> None:
    expected = EXPECTED[rel]["parse"]
    if expected:
        with pytest.raises(getattr(eep, expected)) as info:
            parse_eep(_read(rel), LIMITS, path=rel)
        assert info.value.violations
        assert all(v.line for v in info.value.violations)
    else:
        pkg = parse_eep(_read(rel), LIMITS, path=rel)
        assert pkg.version == pkg.eep_version == "2009"


def test_parse_eep_reads_documents_encodings_and_signatures() -> None:
    pkg = parse_eep(_read("valid/signed-rsa-sm2-lock-ecdsa.xml"), LIMITS)
    assert pkg.package_type == "原始型"
    assert pkg.branch == "封装内容"
    assert pkg.metadata["内容描述/题名"] == "民事判决书"
    assert pkg.metadata["档号/保管期限"] == "永久"
    assert [d.identifier for d in pkg.documents] == ["DOC1", "DOC2"]
    first = pkg.documents[0].encodings[0]
    assert (first.file_name, first.format, first.reverse_key) == ("民事判决书.pdf", "PDF", "pdf")
    assert first.declared_size == first.decoded_size
    assert first.data_line and first.data_line > 1
    assert [s.identifier for s in pkg.signatures] == ["S1", "S2"]
    assert [s.algorithm for s in pkg.signatures] == ["sha256WithRSAEncryption", "SM3withSM2"]
    assert pkg.signatures[0].message is pkg.signatures[1].message  # one canonical form, shared
    assert pkg.lock is not None
    assert pkg.lock.locks == "S1"
    assert pkg.lock.message is not None
    assert pkg.lock.message.startswith("<电子签名".encode())


def test_parse_eep_rejects_other_xml_root() -> None:
    with pytest.raises(NotAnEep):
        parse_eep(b'<?xml version="1.0"?><root xmlns="urn:x"/>', LIMITS)


def test_parse_eep_rejects_doctype() -> None:
    data = _read("valid/signed-rsa.xml").replace(b"?>\n", b'?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n', 1)
    with pytest.raises(XmlDoctypeForbiddenError):
        parse_eep(data, LIMITS)


def test_profile_rules_find_declared_size_that_differs_from_content() -> None:
    pkg = parse_eep(_read("invalid/size-mismatch.xml"), LIMITS)
    problems = eep_profile_problems(pkg, item="BC-1-15", path="x.xml")
    assert [p.code for p in problems] == ["eep_size_mismatch"]
    assert problems[0].item == "BC-1-15"
    assert problems[0].line


def test_profile_rules_accept_valid_vectors() -> None:
    for rel in EXPECTED:
        if rel.startswith(("valid/", "warning/")):
            assert eep_profile_problems(parse_eep(_read(rel), LIMITS)) == [], rel


def test_missing_metadata_names_removed_mandatory_element_with_its_number() -> None:
    missing = missing_metadata(parse_xml(_read("invalid/not-schema-valid.xml"), limits=LIMITS))
    assert [(m.element, m.number) for m in missing] == [
        ("被签名对象/封装内容/文件实体块/文件实体/内容描述/密级", "M38")
    ]


def test_missing_metadata_finds_blank_values_and_missing_blocks() -> None:
    data = _read("valid/signed-rsa.xml").replace(
        "<责任者>某某市中级人民法院</责任者>".encode(), "<责任者> </责任者>".encode()
    )
    root = parse_xml(data, limits=LIMITS)
    blocks = root.find(f"{{{eep.EEP_NS}}}被签名对象/{{{eep.EEP_NS}}}封装内容")
    assert blocks is not None
    blocks.remove(blocks[1])  # 业务实体块
    found = {m.element: m.number for m in missing_metadata(root)}
    assert found == {
        "被签名对象/封装内容/文件实体块/文件实体/内容描述/责任者": "M32",
        "被签名对象/封装内容/业务实体块": "M225",
    }


def test_missing_metadata_is_empty_for_valid_vectors() -> None:
    for rel in EXPECTED:
        if rel.startswith("valid/"):
            assert missing_metadata(parse_xml(_read(rel), limits=LIMITS)) == [], rel


@pytest.mark.parametrize("rel", sorted(r for r in EXPECTED if not EXPECTED[r]["decode"]))
def test_decode_eep_files_stages_each_file_with_its_digest(rel: str, tmp_path: Path) -> None:
    staged = decode_eep_files(VECTORS / rel, tmp_path / "s", LIMITS)
    decoded = {f.path: f.digests["sha256"] for f in staged.files if f.path.startswith("文件数据/")}
    assert decoded == EXPECTED[rel]["files"]
    assert staged.source_kind == "eep"
    source = staged.get(Path(rel).name)
    assert source is not None
    assert source.size == (VECTORS / rel).stat().st_size
    assert staged.source_digest == source.digests["sha256"]
    for f in staged.files:
        assert staged.local_path(f.path).stat().st_size == f.size
        assert set(f.digests) == {"sha256", "sm3"}


def test_decode_eep_files_refuses_size_mismatch_and_removes_staging(tmp_path: Path) -> None:
    with pytest.raises(EepSizeMismatch):
        decode_eep_files(VECTORS / "invalid/size-mismatch.xml", tmp_path / "s", LIMITS)
    assert not (tmp_path / "s").exists()


def test_decode_eep_files_refuses_path_escape_in_file_name(tmp_path: Path) -> None:
    data = _read("valid/signed-ecdsa.xml").replace(
        "<计算机文件名>民事判决书.pdf".encode(), "<计算机文件名>../../x.pdf".encode()
    )
    (tmp_path / "evil.xml").write_bytes(data)
    with pytest.raises(EepUnsafeFileName):
        decode_eep_files(tmp_path / "evil.xml", tmp_path / "s", LIMITS)
    assert not (tmp_path / "x.pdf").exists()


def test_decode_eep_files_refuses_file_over_limit(tmp_path: Path) -> None:
    with pytest.raises(EepLimitExceeded):
        decode_eep_files(VECTORS / "valid/signed-ecdsa.xml", tmp_path / "s", Limits(file_bytes=100))


def test_decode_eep_files_never_reuses_staging(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    with pytest.raises(FileExistsError):
        decode_eep_files(VECTORS / "valid/signed-ecdsa.xml", tmp_path / "s", LIMITS)


def test_decode_base64_stream_handles_chunk_boundaries_and_line_breaks() -> None:
    body = os.urandom(3 * 1024 * 1024 + 7)  # several decode chunks, odd length → padding at the end
    out: list[bytes] = []
    decode_base64_stream(base64.encodebytes(body).decode("ascii"), out.append, what="t")
    assert b"".join(out) == body


def test_decode_base64_stream_rejects_padding_before_end() -> None:
    with pytest.raises(eep.EepBase64Invalid):
        decode_base64_stream("QQ==" + "A" * (4 * 256 * 1024) + "QUFB", lambda _: None, what="t")


def test_restored_name_appends_extension_from_reverse_key_only_when_missing() -> None:
    assert restored_name("起诉状", "pdf") == "起诉状.pdf"
    assert restored_name("起诉状.PDF", ".pdf") == "起诉状.PDF"
    assert restored_name("a.ofd", "不是扩展名") == "a.ofd"


def test_parse_eep_reads_a_file_beyond_libxml2s_10_mb_text_node_limit() -> None:
    """Regression: one scan over ~7.5 MB is one Base64 node over 10 MB, which parse_eep refused."""
    data = (VECTORS / "valid" / "signed-ecdsa.xml").read_bytes()
    start = data.index(b">", data.index("<编码数据 ".encode())) + 1
    end = data.index("</编码数据>".encode(), start)
    big = base64.b64encode(bytes(8_000_000))  # 10.7 MB of Base64 in one text node
    package = parse_eep(data[:start] + big + data[end:], Limits(xml_bytes=64 * 1024**2), path="big.xml")
    assert package.documents
