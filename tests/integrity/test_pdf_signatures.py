"""Embedded PDF signatures for DA/T 70 x-1-1 (固化信息有效性检测): finding, verifying, folding into 1-1.

Vectors come from ``tests/vectors/pdfsig/make_pdfsig.py`` (test CA + Ed25519 signer, pyHanko-signed);
``expected.json`` records what each PDF must verify to and the error class a finding must carry.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from archive.settings import Settings
from integrity import pdf_signatures as ps
from integrity.checks.model import CheckContext, Evidence, ItemResult
from integrity.checks.pdf_signature_facts import apply_pdf_signatures, gather_pdf_signature_facts
from standards.package import StagedFile, StagedPackage

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "pdfsig"
EXPECTED: dict[str, dict[str, Any]] = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def _der(name: str) -> bytes:
    return x509.load_pem_x509_certificate((VECTORS / name).read_bytes()).public_bytes(Encoding.DER)


CA = _der("ca.pem")
OTHER_CA = _der("other-ca.pem")


# ---------------------------------------------------------------- finding
def test_find_pdf_signatures_lists_the_signed_field() -> None:
    fields = ps.find_pdf_signatures(VECTORS / "valid" / "signed.pdf")
    assert [(f.name, f.sig_type) for f in fields] == [("Signature1", "/Sig")]


def test_find_pdf_signatures_returns_nothing_for_an_unsigned_pdf() -> None:
    assert ps.find_pdf_signatures(VECTORS / "valid" / "unsigned.pdf") == []


def test_find_pdf_signatures_rejects_a_file_that_is_not_a_pdf(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\nthis is not a pdf body\n")
    with pytest.raises(ps.PdfUnreadable):
        ps.find_pdf_signatures(bad)


# ---------------------------------------------------------------- verifying
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_verify_pdf_signatures_matches_the_recorded_vector(name: str) -> None:
    outcomes = ps.verify_pdf_signatures(VECTORS / name, [CA], at=NOW)
    want = EXPECTED[name]["signatures"]
    assert len(outcomes) == len(want)
    for outcome, expected in zip(outcomes, want, strict=True):
        assert outcome.error is None
        for key, value in expected.items():
            assert getattr(outcome, key) == value, key
        assert outcome.signing_time == "2024-03-01T09:30:00+00:00"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_assess_outcome_names_the_recorded_error_class(name: str) -> None:
    outcomes = ps.verify_pdf_signatures(VECTORS / name, [CA], at=NOW)
    found = [type(e).__name__ for o in outcomes for group in ps.assess_outcome(o) for e in group]
    expected_class = EXPECTED[name].get("error_class")
    assert found == ([expected_class] if expected_class else [])


def test_verify_reports_trust_unchecked_without_roots() -> None:
    (outcome,) = ps.verify_pdf_signatures(VECTORS / "valid" / "signed.pdf", [], at=NOW)
    assert (outcome.intact, outcome.valid, outcome.trusted) == (True, True, None)
    assert ps.assess_outcome(outcome) == ([], [])


def test_verify_reports_untrusted_for_an_unrelated_root() -> None:
    (outcome,) = ps.verify_pdf_signatures(VECTORS / "valid" / "signed.pdf", [OTHER_CA], at=NOW)
    assert (outcome.intact, outcome.valid, outcome.trusted) == (True, True, False)
    fails, warns = ps.assess_outcome(outcome)
    assert fails == [] and [type(w) for w in warns] == [ps.PdfSignatureUntrusted]


def test_verify_reports_untrusted_when_the_certificate_is_not_yet_valid() -> None:
    (outcome,) = ps.verify_pdf_signatures(
        VECTORS / "valid" / "signed.pdf", [CA], at=dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
    )
    assert outcome.trusted is False


def test_assess_outcome_warns_when_a_signature_could_not_be_verified() -> None:
    outcome = ps.PdfSignatureOutcome(field="Sig", kind="signature", error="NotImplementedError: SM2")
    fails, warns = ps.assess_outcome(outcome)
    assert fails == [] and [type(w) for w in warns] == [ps.PdfSignatureUnverifiable]


def test_outcome_round_trips_through_its_dict() -> None:
    (outcome,) = ps.verify_pdf_signatures(VECTORS / "valid" / "signed.pdf", [CA], at=NOW)
    assert ps.PdfSignatureOutcome.from_dict(outcome.as_dict()) == outcome


# ---------------------------------------------------------------- gatherer
def _package(tmp_path: Path, files: dict[str, bytes]) -> StagedPackage:
    staged = []
    for rel, data in files.items():
        target = tmp_path.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        staged.append(StagedFile(rel, len(data), {}))
    return StagedPackage(tmp_path, tuple(staged), "test", "folder", "0" * 64)


def _vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def test_gather_pdf_signature_facts_covers_every_pdf_by_magic_bytes(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "正卷/0001-判决书.pdf": _vector("valid/signed.pdf"),
            "正卷/0002-起诉状.bin": _vector("invalid/signed-byte-flipped.pdf"),  # PDF by content, not name
            "正卷/0003-笔录.pdf": _vector("valid/unsigned.pdf"),
            "正卷/0004-损坏.pdf": b"%PDF-1.7\nbroken\n",
            "目录文件.xml": b"<x/>",
        },
    )
    facts = gather_pdf_signature_facts(package, Settings(data_dir=tmp_path), "GD", roots=[CA], now=NOW)
    sigs = facts["pdf_signatures"]
    assert sorted(sigs) == [
        "正卷/0001-判决书.pdf",
        "正卷/0002-起诉状.bin",
        "正卷/0003-笔录.pdf",
        "正卷/0004-损坏.pdf",
    ]
    assert sigs["正卷/0003-笔录.pdf"] == []
    assert sigs["正卷/0001-判决书.pdf"][0]["trusted"] is True
    assert sigs["正卷/0002-起诉状.bin"][0]["intact"] is False
    (broken,) = sigs["正卷/0004-损坏.pdf"]
    assert broken["kind"] == "file" and broken["error"]
    assert facts["pdf_signature_roots"] == {"configured": True, "error": None}


def test_gather_records_an_unreadable_roots_file_instead_of_raising(tmp_path: Path) -> None:
    class _Settings:
        pdf_trusted_roots = tmp_path / "missing.pem"

    package = _package(tmp_path, {"a.pdf": _vector("valid/signed.pdf")})
    facts = gather_pdf_signature_facts(package, _Settings(), "GD", now=NOW)  # type: ignore[arg-type]
    assert facts["pdf_signature_roots"]["configured"] is False
    assert "missing.pem" in facts["pdf_signature_roots"]["error"]
    assert facts["pdf_signatures"]["a.pdf"][0]["trusted"] is None


# ---------------------------------------------------------------- folding into x-1-1
def _digest_pass(stage: str = "GD") -> ItemResult:
    return ItemResult(
        f"{stage}-1-1", "pass", "固化信息有效性检测通过", evidence=(Evidence("摘要", "一致", "一致"),)
    )


def _ctx(tmp_path: Path, files: dict[str, bytes], stage: str = "GD") -> CheckContext:
    package = _package(tmp_path, files)
    facts = gather_pdf_signature_facts(package, Settings(data_dir=tmp_path), stage, roots=[CA], now=NOW)
    return CheckContext(stage=stage, now=NOW, package=package, facts=facts)  # type: ignore[arg-type]


def test_fixity_stays_pass_when_every_signature_verifies(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, {"a.pdf": _vector("valid/signed.pdf"), "b.pdf": _vector("valid/unsigned.pdf")})
    result = apply_pdf_signatures(ctx, _digest_pass())
    assert result.status == "pass"
    assert "2 个 PDF 文件中 1 个含签名，共 1 个签名" in result.evidence[-1].found


def test_fixity_fails_when_a_signed_byte_changed(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, {"a.pdf": _vector("invalid/signed-byte-flipped.pdf")}, stage="BC")
    result = apply_pdf_signatures(ctx, _digest_pass("BC"))
    assert result.status == "fail"
    assert [(p.code, p.item, p.path) for p in result.problems] == [
        ("pdf_signature_not_intact", "BC-1-1", "a.pdf")
    ]


def test_fixity_warns_on_an_update_after_signing(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, {"a.pdf": _vector("warning/signed-then-updated.pdf")})
    result = apply_pdf_signatures(ctx, _digest_pass())
    assert result.status == "warn"
    assert [p.code for p in result.problems] == ["pdf_signature_partial_coverage"]


def test_fixity_warns_on_an_unreadable_pdf(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, {"a.pdf": b"%PDF-1.7\nbroken\n"})
    assert apply_pdf_signatures(ctx, _digest_pass()).status == "warn"


def test_fixity_keeps_its_status_and_says_so_without_pdf_facts() -> None:
    ctx = CheckContext(stage="GD", now=NOW)
    result = apply_pdf_signatures(ctx, _digest_pass())
    assert result.status == "pass"
    assert "未检测" in result.evidence[-1].found


def test_generator_reproduces_the_committed_vectors(tmp_path: Path) -> None:
    copy = tmp_path / "pdfsig"
    shutil.copytree(VECTORS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    import runpy

    runpy.run_path(str(copy / "make_pdfsig.py"), run_name="__main__")
    for path in sorted(VECTORS.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            assert (copy / path.relative_to(VECTORS)).read_bytes() == path.read_bytes(), path.name
