"""The receiver's checks of trust and of the sender's signed 登记表 (DA/T 93-2022 Annex C; DA/T 70 YJ-1-1).

* :func:`trust_roots` — the certificates the sender's key must chain to: ``--trust`` or
  ``Settings.eep_trusted_roots`` (none: the trust is reported as unverified, never as a pass);
* :func:`shipped_certificate` — ``其他/签名证书.pem`` of the package (what signatures are checked with);
* :func:`check_register` — the detached signature over ``其他/登记表.xml`` (YJ-1-1), the digests the form
  names (说明文件, 目录文件, 移交清单, 固化信息, 签名证书; YJ-1-14), its counts against 说明文件 (YJ-2-1,
  YJ-2-2), and that the sender's own four-property results passed (YJ-1-12).

Problems become findings; nothing here raises for a bad package. Reads only the staged copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from archive.transfer.documents import TransferDescription, TransferDocuments
from archive.transfer.errors import RegisterSignatureInvalid, TransferDocumentInvalid
from archive.transfer.findings import Finding
from archive.transfer.layout import CERTIFICATE, DESCRIPTION, FIXITY, REGISTER, REGISTER_SIGNATURE
from archive.transfer.register import Register, parse_register, verify_register_signature
from integrity.checks.eep import load_roots
from standards.limits import Limits
from standards.package import StagedPackage

if TYPE_CHECKING:
    from api.wiring import Installation


def trust_roots(inst: Installation, trust: Path | None) -> list[bytes]:
    """DER roots from ``--trust`` or ``Settings.eep_trusted_roots`` (empty: none configured).

    Raises:
        OSError, ValueError: the file cannot be read or holds no certificate.
    """
    path = trust or inst.settings.eep_trusted_roots
    return load_roots(path) if path is not None else []


def shipped_certificate(staged: StagedPackage, findings: list[Finding]) -> bytes | None:
    if staged.get(CERTIFICATE) is None:
        return None
    try:
        return x509.load_pem_x509_certificate(staged.read_bytes(CERTIFICATE)).public_bytes(Encoding.DER)
    except ValueError:
        findings.append(
            Finding(
                "YJ-1-1",
                "transfer_certificate_unreadable",
                f"{CERTIFICATE} 不是 PEM 格式的 X.509 证书",
                f"{CERTIFICATE} is not a PEM X.509 certificate",
                CERTIFICATE,
            )
        )
        return None


@dataclass(frozen=True)
class SenderRegister:
    """The sender's 登记表 as read: the form (None when unreadable), its SHA-256, the signature state."""

    register: Register | None
    sha256: str | None
    signature: str  # valid | invalid | not_checked


def check_register(
    staged: StagedPackage,
    docs: TransferDocuments,
    certificate: bytes | None,
    roots: Sequence[bytes],
    limits: Limits,
    findings: list[Finding],
) -> SenderRegister:
    """Verify and read the sender's signed 登记表; add what is wrong to ``findings``."""
    if staged.get(REGISTER) is None or staged.get(REGISTER_SIGNATURE) is None:
        return SenderRegister(None, None, "not_checked")  # check_transfer reported the missing files
    data = staged.read_bytes(REGISTER)
    sha = hashlib.sha256(data).hexdigest()
    state = "not_checked"
    if certificate is not None:
        try:
            verify_register_signature(data, staged.read_bytes(REGISTER_SIGNATURE), certificate, roots=roots)
            state = "valid"
        except RegisterSignatureInvalid as error:
            state = "invalid"
            findings.append(
                Finding(
                    "YJ-1-1",
                    error.code,
                    f"登记表签名验证失败：{error.message}",
                    error.message,
                    REGISTER_SIGNATURE,
                )
            )
    try:
        register = parse_register(data, limits=limits)
    except TransferDocumentInvalid as error:
        findings.append(
            Finding(
                "YJ-1-12", error.code, f"登记表无法读取或不符合规范：{error.message}", error.message, REGISTER
            )
        )
        return SenderRegister(None, sha, state)
    findings += _register_findings(register, staged, docs.description)
    sender = register.inspection("移交单位")
    listed = {e.archival_code for e in docs.catalog or []}
    if (
        sender is not None
        and docs.catalog is not None
        and {r.archival_code for r in sender.records} != listed
    ):
        findings.append(
            Finding(
                "YJ-1-12",
                "transfer_register_records_mismatch",
                "登记表中移交单位检验的档案与目录文件登记的档案不一致",
                f"{REGISTER}: the sender's record lines do not name the records of the catalogue",
                REGISTER,
            )
        )
    return SenderRegister(register, sha, state)


def _register_findings(reg: Register, staged: StagedPackage, d: TransferDescription | None) -> list[Finding]:
    out: list[Finding] = []
    named = dict(reg.digests)
    if FIXITY not in named:
        out.append(
            Finding(
                "YJ-1-14",
                "transfer_register_without_fixity",
                "登记表未登记固化信息的摘要",
                f"{REGISTER} names no digest of {FIXITY}",
                REGISTER,
            )
        )
    for path, sha in reg.digests:
        f = staged.get(path)
        found = f.digests.get("sha256") if f is not None else None
        if found != sha:
            out.append(
                Finding(
                    "YJ-1-14",
                    "transfer_register_digest_mismatch",
                    f"登记表记载 {path} 的 SHA-256 为 {sha}，实际为 {found or '（文件缺失）'}",
                    f"{REGISTER}: {path} sha256 expected {sha}, found {found}",
                    path,
                )
            )
    sender = reg.inspection("移交单位")
    if sender is None or not sender.passed:
        failed = [
            f"{tag}：{v.conclusion}"
            for tag, v in zip(
                ("真实性", "完整性", "可用性", "安全性"), sender.properties if sender else (), strict=False
            )
            if v.conclusion != "通过"
        ]
        out.append(
            Finding(
                "YJ-1-12",
                "transfer_sender_checks_failed",
                f"登记表中移交单位的检验结论不是通过（{'、'.join(failed) or '缺少移交单位检验'}）",
                f"{REGISTER}: the sender's own checks did not pass",
                REGISTER,
            )
        )
    if d is not None:
        if reg.transfer_id != d.transfer_id:
            out.append(
                Finding(
                    "YJ-1-12",
                    "transfer_id_mismatch",
                    "登记表的移交标识与说明文件不符",
                    f"{REGISTER}: transfer id differs from {DESCRIPTION}",
                    REGISTER,
                )
            )
        for label, a, b, item in (
            ("案卷数", reg.record_count, d.record_count, "YJ-2-1"),
            ("文件数", reg.document_count, d.document_count, "YJ-2-1"),
            ("计算机文件数", reg.file_count, d.file_count, "YJ-2-1"),
            ("总字节数", reg.total_bytes, d.total_bytes, "YJ-2-2"),
        ):
            if a != b:
                out.append(
                    Finding(
                        item,
                        "transfer_register_count_mismatch",
                        f"登记表记载{label} {a}，说明文件为 {b}",
                        f"{REGISTER}: {label} {a} != {b}",
                        REGISTER,
                    )
                )
    return out
