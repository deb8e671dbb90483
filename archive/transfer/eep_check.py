"""Check one record's DA/T 48 EEP (``<档号>.eep.xml``) in a transfer package.

The EEP is the record's signed, self-contained copy. A receiver checks that:

* it parses (hardened, no DOCTYPE, bounded by ``limits.package_bytes``: :func:`parse_large_xml`) and is
  schema-valid (DA/T 48 Annex B; YJ-1-1 — without that its signatures cannot be read), and its profile
  rules hold (decoded sizes; YJ-1-14);
* its 电子签名 and 锁定签名 verify (:mod:`integrity.eep_signatures`; YJ-1-1) and the signer's certificate
  chains to a trusted root: ``--trust`` / ``Settings.eep_trusted_roots``. With no root configured the
  signatures are verified against the certificate shipped in ``其他/签名证书.pem`` and the trust is
  reported as **unverified** (a ``warn`` of YJ-1-1), never as a pass;
* its 电子文件号 is the folder's 档号 (YJ-1-7);
* decoded (:func:`standards.eep.decode_eep_files`, streaming) it holds exactly the files of the folder,
  byte for byte (same paths via :func:`standards.eep_writer.court_path`, same size and SHA-256; YJ-1-14).

Everything found is a :class:`~archive.transfer.findings.Finding` for the record; the outcome also
says in words what the signatures and the trust came to (for ``--json`` and the 登记表).
"""

from __future__ import annotations

import datetime as dt
import hmac
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from archive.transfer.findings import Finding
from archive.transfer.inspect import RecordPlan
from integrity.eep_signatures import CertificateNotValidAtSigning, CertificateUntrusted, check_eep_signatures
from standards.eep import EepPackage, decode_eep_files, eep_profile_problems, read_eep
from standards.eep_writer import court_path
from standards.errors import BadInput
from standards.limits import Limits
from standards.xml_parser import parse_xml

Trust = Literal["verified", "unverified", "failed", "not_checked"]
SignatureState = Literal["valid", "invalid", "missing", "not_checked"]


@dataclass(frozen=True)
class EepOutcome:
    """What one record's EEP came to."""

    record: str
    signatures: SignatureState = "not_checked"
    trust: Trust = "not_checked"
    files_match: bool | None = None
    signer: str | None = None
    findings: tuple[Finding, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "signatures": self.signatures,
            "trust": self.trust,
            "files_match": self.files_match,
            "signer": self.signer,
        }


def _finding(item: str, code: str, zh: str, en: str, plan: RecordPlan, severity: str = "fail") -> Finding:
    return Finding(
        item, code, zh, en, plan.code.eep_path, plan.code.text, "warn" if severity == "warn" else "fail"
    )


def _signatures(
    pkg: EepPackage, plan: RecordPlan, roots: Sequence[bytes], trusted: bool, now: dt.datetime
) -> tuple[SignatureState, Trust, str | None, list[Finding]]:
    """Verify every signature; ``trusted`` says whether ``roots`` are configured trust roots."""
    name = plan.code.eep_name
    if not pkg.signatures:
        zh = f"封装包 {name} 没有电子签名"
        return (
            "missing",
            "failed",
            None,
            [_finding("YJ-1-1", "eep_signature_missing", zh, f"{name}: no 电子签名", plan)],
        )
    outcomes = check_eep_signatures(pkg, roots=roots, at=now)
    out: list[Finding] = []
    trust_failed = False
    for o in outcomes:
        if o.error is None:
            continue
        untrusted = isinstance(o.error, CertificateUntrusted | CertificateNotValidAtSigning)
        trust_failed = trust_failed or untrusted
        kind = "锁定签名" if o.is_lock else "电子签名"
        zh = (
            f"封装包 {name} 的{kind} {o.identifier} 的证书不可信：{o.error}"
            if untrusted
            else f"封装包 {name} 的{kind} {o.identifier} 验证失败：{o.error}"
        )
        out.append(
            _finding(
                "YJ-1-1",
                "eep_certificate_untrusted" if untrusted else "eep_signature_invalid",
                zh,
                f"{name}: {kind} {o.identifier}: {o.error}",
                plan,
            )
        )
    signer = next((o.subject for o in outcomes if o.subject), None)
    invalid = any(
        o.error is not None and not isinstance(o.error, CertificateUntrusted | CertificateNotValidAtSigning)
        for o in outcomes
    )
    state: SignatureState = "invalid" if invalid else "valid"
    if invalid or trust_failed:
        return state, "failed" if trust_failed else "not_checked", signer, out
    if trusted:
        return state, "verified", signer, out
    zh = (
        f"封装包 {name} 的签名有效，但签名证书只以移交方随包提供的证书验证，未经可信根确认"
        "（请以 --trust 或 eep_trusted_roots 指定移交方证书）"
    )
    out.append(
        _finding(
            "YJ-1-1",
            "eep_trust_unverified",
            zh,
            f"{name}: signatures verify against the shipped certificate only; trust not established",
            plan,
            "warn",
        )
    )
    return state, "unverified", signer, out


def _files(
    decoded_root: Path, eep_local: Path, plan: RecordPlan, limits: Limits
) -> tuple[bool, list[Finding]]:
    """Decode the EEP and compare its files with the folder's (path, size, SHA-256)."""
    name = plan.code.eep_name
    try:
        decoded = decode_eep_files(eep_local, decoded_root, limits)
    except BadInput as error:
        zh = f"封装包 {name} 中的文件无法还原：{error.message}"
        return False, [_finding("YJ-1-14", error.code, zh, f"{name}: {error.message}", plan)]
    try:
        found: dict[str, tuple[int, str]] = {}
        for f in decoded.files:
            try:
                rel = court_path(f.path)
            except BadInput as error:
                zh = f"封装包 {name} 中的文件 {f.path} 在法院信息包中没有位置"
                return False, [_finding("YJ-1-14", error.code, zh, f"{name}: {error.message}", plan)]
            if rel is not None:
                found[rel] = (f.size, f.digests["sha256"])
    finally:
        shutil.rmtree(decoded_root, ignore_errors=True)
    expected = {f.path: (f.size, f.digests["sha256"]) for f in plan.files}
    out: list[Finding] = []
    for path in sorted(set(expected) | set(found)):
        want, got = expected.get(path), found.get(path)
        if (
            want is not None
            and got is not None
            and want[0] == got[0]
            and hmac.compare_digest(want[1], got[1])
        ):
            continue
        zh = (
            f"档案文件夹中的 {path} 不在封装包 {name} 中"
            if got is None
            else f"封装包 {name} 中的 {path} 在档案文件夹中没有"
            if want is None
            else f"封装包 {name} 中的 {path} 与档案文件夹中的不一致（SHA-256 {got[1]} ≠ {want[1]}）"
        )
        out.append(
            _finding(
                "YJ-1-14", "eep_files_differ", zh, f"{name}: {path} differs between EEP and folder", plan
            )
        )
    return not out, out


def parse_large_xml(data: bytes, *, limits: Limits, path: str) -> etree._Element:
    """Parse a whole EEP with the hardened parser, ``huge_tree`` on: one 编码数据 text node holds a whole
    file in Base64, beyond libxml2's 10 MB default, and a transfer's EEP is bounded by
    ``limits.package_bytes`` (the bound the EEP writer builds within) rather than ``limits.xml_bytes``.

    Raises:
        XmlTooLargeError: more than ``limits.package_bytes``.
        XmlDoctypeForbiddenError: a DOCTYPE (entity attacks, external fetches).
        XmlSyntaxError: not well-formed.
    """
    return parse_xml(data, limits=limits, path=path, huge_tree=True, max_bytes=limits.package_bytes)


def check_record_eep(
    eep_local: Path,
    plan: RecordPlan,
    *,
    scratch: Path,
    limits: Limits,
    roots: Sequence[bytes],
    trusted: bool,
    now: dt.datetime,
) -> EepOutcome:
    """Check the EEP at ``eep_local`` (a staged copy) of the record ``plan``; see the module docstring.

    ``scratch`` is a folder that does not exist yet (decoding happens there; it is removed again).

    Raises:
        OSError: the staged EEP or the scratch folder cannot be read or written.
    """
    record, name = plan.code.text, plan.code.eep_name
    size = eep_local.stat().st_size
    if size > limits.package_bytes:
        zh = f"封装包 {name} 大于 limits.package_bytes（{limits.package_bytes} 字节），无法验证签名"
        en = f"{name}: {size} bytes, larger than limits.package_bytes"
        return EepOutcome(record, findings=(_finding("YJ-1-1", "eep_too_large", zh, en, plan),))
    try:
        pkg = read_eep(parse_large_xml(eep_local.read_bytes(), limits=limits, path=name), path=name)
    except BadInput as error:
        zh = f"封装包 {name} 无法读取或不符合 DA/T 48-2009 Schema：{error.message}"
        finding = _finding("YJ-1-1", error.code, zh, f"{name}: {error.message}", plan)
        return EepOutcome(record, findings=(finding,))
    findings = [
        _finding("YJ-1-14", p.code, f"封装包 {name}：{p.message}", f"{name}: {p.code}", plan)
        for p in eep_profile_problems(pkg, path=name)
    ]
    state, trust, signer, signature_findings = _signatures(pkg, plan, roots, trusted, now)
    findings += signature_findings
    if pkg.metadata.get("电子文件号", "").strip() != record:
        zh = f"封装包 {name} 的电子文件号“{pkg.metadata.get('电子文件号', '')[:80]}”应为档号“{record}”"
        findings.append(
            _finding("YJ-1-7", "eep_record_code_mismatch", zh, f"{name}: 电子文件号 is not {record}", plan)
        )
    match, file_findings = _files(scratch, eep_local, plan, limits)
    findings += file_findings
    return EepOutcome(record, state, trust, match, signer, tuple(findings))
