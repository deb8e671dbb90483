"""integrity.checks.eep: gather_eep_facts + BC-1-15 / BC-1-16 / BC-2-10 over the EEP vectors.

expected.json (tests/vectors/eep) records the status each item must get for each vector.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from archive.settings import Settings
from integrity.checks.eep import (
    NOT_EEP,
    check_eep_metadata,
    check_eep_signatures,
    check_eep_structure,
    gather_eep_facts,
    load_roots,
)
from integrity.checks.model import CheckContext, ItemResult
from integrity.hashing import digest_bytes
from standards.limits import Limits
from standards.package import StagedFile, StagedPackage

VECTORS = Path(__file__).parents[2] / "vectors" / "eep"
EXPECTED: dict[str, dict[str, Any]] = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CHECKS = {"BC-1-15": check_eep_structure, "BC-1-16": check_eep_signatures, "BC-2-10": check_eep_metadata}
ROOTS = [(VECTORS / "certs" / n).read_bytes() for n in ("root-p256.der", "sm2-self-signed.der")]


def _package(tmp_path: Path, files: dict[str, bytes]) -> StagedPackage:
    staged = []
    for rel, data in files.items():
        dest = tmp_path.joinpath(*rel.split("/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        staged.append(StagedFile(path=rel, size=len(data), digests=digest_bytes(data)))
    return StagedPackage(
        root=tmp_path, files=tuple(staged), source_name="t", source_kind="folder", source_digest="0"
    )


def _ctx(facts: dict[str, Any]) -> CheckContext:
    return CheckContext(stage="BC", now=NOW, facts=facts)


def _run(tmp_path: Path, rel: str, settings: Settings | None = None, **kw: Any) -> dict[str, ItemResult]:
    package = _package(tmp_path, {"封装包/案卷.xml": (VECTORS / rel).read_bytes(), "说明.txt": b"x"})
    facts = gather_eep_facts(package, settings or Settings(), "BC", now=NOW, **kw)
    json.dumps(facts, ensure_ascii=False)  # facts are plain values
    return {item: check(_ctx(facts)) for item, check in CHECKS.items()}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_eep_vector_gets_expected_statuses(rel: str, tmp_path: Path) -> None:
    results = _run(tmp_path, rel, roots=ROOTS)
    assert {item: r.status for item, r in results.items()} == {item: EXPECTED[rel][item] for item in CHECKS}
    for item, result in results.items():
        assert result.item == item
        assert result.summary
        if result.status in ("fail", "warn"):
            assert result.problems
            assert all(p.item == item and p.path == "封装包/案卷.xml" for p in result.problems)


def test_signature_failure_names_signature_and_error_class(tmp_path: Path) -> None:
    result = _run(tmp_path, "invalid/broken-lock-signature.xml")["BC-1-16"]
    assert [p.code for p in result.problems] == ["eep_lock_signature_invalid"]
    assert "LockSignatureInvalid" in result.problems[0].message


def test_pass_without_roots_says_trust_was_not_checked(tmp_path: Path) -> None:
    result = _run(tmp_path, "valid/signed-sm2.xml", roots=[])["BC-1-16"]
    assert result.status == "pass"
    assert "未配置信任根" in result.evidence[-1].found


def test_schema_invalid_eep_leaves_signatures_not_run_with_reason(tmp_path: Path) -> None:
    result = _run(tmp_path, "invalid/not-schema-valid.xml")["BC-1-16"]
    assert result.status == "not_run"
    assert result.reason
    assert "Schema" in result.reason


def test_package_without_eep_is_not_applicable(tmp_path: Path) -> None:
    package = _package(tmp_path, {"目录文件.xml": '<?xml version="1.0"?><目录 xmlns="urn:court"/>'.encode()})
    facts = gather_eep_facts(package, Settings(), "BC", roots=[])
    assert facts == {"eep": None}
    for check in CHECKS.values():
        result = check(_ctx(facts))
        assert (result.status, result.reason) == ("not_applicable", NOT_EEP)


def test_missing_facts_are_not_run_never_pass() -> None:
    for check in CHECKS.values():
        result = check(_ctx({}))
        assert result.status == "not_run"
        assert result.reason


def test_eep_over_xml_limit_is_not_run(tmp_path: Path) -> None:
    settings = Settings(limits=Limits(xml_bytes=2_000))
    results = _run(tmp_path, "valid/signed-rsa.xml", settings=settings, roots=[])
    assert {r.status for r in results.values()} == {"not_run"}
    assert all(r.reason and "xml_bytes" in r.reason for r in results.values())


def test_unreadable_eep_fails_structure(tmp_path: Path) -> None:
    data = (VECTORS / "valid/signed-ecdsa.xml").read_bytes()[:-40]  # truncated
    package = _package(tmp_path, {"a.xml": data})
    facts = gather_eep_facts(package, Settings(), "BC", roots=[])
    assert _ctx(facts) and check_eep_structure(_ctx(facts)).status == "fail"
    assert check_eep_signatures(_ctx(facts)).status == "not_run"
    assert check_eep_metadata(_ctx(facts)).status == "not_run"


def test_one_failing_eep_fails_the_item_for_the_package(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "a.xml": (VECTORS / "valid/signed-rsa.xml").read_bytes(),
            "b.xml": (VECTORS / "invalid/changed-metadata.xml").read_bytes(),
        },
    )
    facts = gather_eep_facts(package, Settings(), "BC", roots=[])
    result = check_eep_signatures(_ctx(facts))
    assert result.status == "fail"
    assert {p.path for p in result.problems} == {"b.xml"}


def test_load_roots_reads_der_and_pem(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    pem = b"".join(x509.load_der_x509_certificate(r).public_bytes(Encoding.PEM) for r in ROOTS[:1])
    (tmp_path / "roots.pem").write_bytes(pem)
    shutil.copy(VECTORS / "certs" / "root-p256.der", tmp_path / "root.der")
    assert load_roots(tmp_path / "roots.pem") == ROOTS[:1]
    assert load_roots(tmp_path / "root.der") == ROOTS[:1]
    assert load_roots(None) == []
