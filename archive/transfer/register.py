"""The 电子档案移交接收登记表 (DA/T 93-2022 Annex C; 档发〔2012〕7号 附件3) and its detached signature (pure).

The form records the transfer (交接工作名称, 内容描述), its quantity (案卷数, 文件数), the data volume in
GB with 3 decimals, the carrier (在线 / folder, 载体起止顺序号), the digests of the package's description
files (数字摘要: 说明文件, 目录文件, 移交清单, 固化信息, 签名证书 — 固化信息 in turn covers every file), and for
each party (移交单位, 接收单位) the results of the four-property checks (真实性, 完整性, 可用性, 安全性
检验, DA/T 70 YJ) plus the manual 载体外观检验, with one line per record. 填表人/审核人 stay empty: people
sign the printed form.

The sender signs the exact bytes of ``其他/登记表.xml`` with the archive's EEP key; the signature file
``登记表.xml.sig`` is a small JSON object (algorithm, base64 signature, SHA-256 of the certificate and of
the signed bytes). The receiver never changes the sender's file: it writes its own copy with both
parties' results and the SHA-256 of the sender's form (``移交方登记表摘要``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509
from lxml import etree

from archive.transfer.documents import VERSION, parse_checked
from archive.transfer.errors import RegisterSignatureInvalid, TransferDocumentInvalid
from archive.transfer.layout import REGISTER, REGISTER_SIGNATURE, gigabytes
from integrity.checks.model import PROPERTIES, DetectionReport
from integrity.eep_signatures import EepSignatureError, algorithm_of, verify_certificate_path, verify_raw
from standards.errors import BadInput
from standards.limits import Limits
from standards.xml_parser import source_line

Party = Literal["移交单位", "接收单位"]
SIGNATURE_FORMAT = "edossier.transfer.register-signature/1"
PASSED, FAILED, NOT_CHECKED = "通过", "不通过", "未检验"
CARRIER_MANUAL = "人工检验"
CARRIER_TEXT = "在线或移动硬盘交接，由交接人员目视检查载体外观并在纸质登记表上签字"
PROPERTY_ROWS = ("真实性检验", "完整性检验", "可用性检验", "安全性检验")


@dataclass(frozen=True)
class Verdict:
    """One row of a party's 检验: 结论 (通过 / 不通过 / 未检验) and the text that explains it."""

    conclusion: str
    text: str


@dataclass(frozen=True)
class RecordLine:
    """One record's result for one party: 档号, 案号, 结论, SHA-256 of its YJ report, failed items."""

    archival_code: str
    case_number: str
    conclusion: str
    report_sha256: str
    failed_items: tuple[str, ...]


@dataclass(frozen=True)
class Inspection:
    """One party's 检验 column of the form."""

    party: Party
    unit: str
    properties: tuple[Verdict, Verdict, Verdict, Verdict]  # 真实性, 完整性, 可用性, 安全性
    carrier: Verdict
    checked_at: dt.datetime
    tool: str
    records: tuple[RecordLine, ...]

    @property
    def passed(self) -> bool:
        return bool(self.records) and all(v.conclusion == PASSED for v in self.properties)


@dataclass(frozen=True)
class Register:
    """The whole form."""

    transfer_id: str
    work_name: str  # 交接工作名称
    content: str  # 内容描述
    record_count: int
    document_count: int
    file_count: int
    total_bytes: int
    carrier_sequence: str  # 载体起止顺序号
    carrier_type: str  # 移交载体类型、规格
    digests: tuple[tuple[str, str], ...]  # (package path, sha256)
    inspections: tuple[Inspection, ...]
    sender_register_sha256: str | None = None

    def inspection(self, party: Party) -> Inspection | None:
        return next((i for i in self.inspections if i.party == party), None)


# ------------------------------------------------------------------ from detection reports
def _status_counts(reports: Sequence[DetectionReport], digit: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for report in reports:
        for r in report.results:
            if r.item.split("-")[1] == digit:
                counts[r.status] = counts.get(r.status, 0) + 1
    return counts


_STATUS_ZH = {
    "pass": "通过",
    "warn": "警告",
    "not_run": "未执行",
    "manual": "人工确认",
    "not_applicable": "不适用",
    "fail": "不通过",
}


def property_verdicts(reports: Sequence[DetectionReport]) -> tuple[Verdict, Verdict, Verdict, Verdict]:
    """The four property rows from the YJ reports of every record (any ``fail`` → 不通过)."""
    out: list[Verdict] = []
    for digit in ("1", "2", "3", "4"):
        counts = _status_counts(reports, digit)
        if not counts:
            out.append(Verdict(NOT_CHECKED, f"未执行{PROPERTIES[digit]}检测"))
            continue
        failed = sorted(
            {
                r.item
                for rep in reports
                for r in rep.results
                if r.status == "fail" and r.item.split("-")[1] == digit
            }
        )
        text = (
            f"{len(reports)} 卷按 DA/T 70-2018 移交与接收环节检测，共 {sum(counts.values())} 项次："
            + "，".join(f"{_STATUS_ZH[s]} {counts[s]}" for s in _STATUS_ZH if counts.get(s))
        )
        if failed:
            text += f"；未通过项：{'、'.join(failed)}"
        out.append(Verdict(FAILED if failed else PASSED, text))
    return out[0], out[1], out[2], out[3]


def report_sha256(report: DetectionReport) -> str:
    """SHA-256 of a report's canonical JSON (what the form and the ledger name)."""
    from integrity.canonical import canonical_json

    return hashlib.sha256(canonical_json(report.as_dict())).hexdigest()


def record_line(archival_code: str, case_number: str, report: DetectionReport) -> RecordLine:
    failed = tuple(r.item for r in report.results if r.status == "fail")
    return RecordLine(
        archival_code, case_number, PASSED if report.passed else FAILED, report_sha256(report), failed
    )


# ------------------------------------------------------------------ XML
def _sub(parent: etree._Element, tag: str, text: str | int | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _verdict(parent: etree._Element, tag: str, v: Verdict) -> None:
    _sub(parent, tag, v.text).set("结论", v.conclusion)


def render_register(reg: Register) -> bytes:
    root = etree.Element("电子档案移交接收登记表", {"版本": VERSION})
    _sub(root, "移交标识", reg.transfer_id)
    _sub(root, "交接工作名称", reg.work_name)
    _sub(root, "内容描述", reg.content)
    quantity = _sub(root, "移交电子档案数量")
    _sub(quantity, "案卷数", reg.record_count)
    _sub(quantity, "文件数", reg.document_count)
    _sub(quantity, "计算机文件数", reg.file_count)
    _sub(root, "移交数据量", gigabytes(reg.total_bytes)).set("单位", "GB")
    _sub(root, "总字节数", reg.total_bytes)
    _sub(root, "载体起止顺序号", reg.carrier_sequence)
    _sub(root, "移交载体类型规格", reg.carrier_type)
    digests = _sub(root, "数字摘要")
    for path, sha in reg.digests:
        el = _sub(digests, "摘要", sha)
        el.set("文件", path)
        el.set("算法", "SHA-256")
    for ins in reg.inspections:
        el = _sub(root, "检验")
        el.set("方", ins.party)
        _sub(el, "单位名称", ins.unit)
        for tag, v in zip(PROPERTY_ROWS, ins.properties, strict=True):
            _verdict(el, tag, v)
        _verdict(el, "载体外观检验", ins.carrier)
        _sub(el, "检验时间", ins.checked_at.isoformat())
        _sub(el, "检验工具", ins.tool)
        for line in ins.records:
            rec = _sub(el, "记录")
            _sub(rec, "档号", line.archival_code)
            _sub(rec, "案号", line.case_number)
            _sub(rec, "结论", line.conclusion)
            _sub(rec, "检测报告摘要", line.report_sha256).set("算法", "SHA-256")
            _sub(rec, "未通过项", "、".join(line.failed_items) or "无")
        _sub(el, "填表人", "")
        _sub(el, "审核人", "")
    if reg.sender_register_sha256:
        _sub(root, "移交方登记表摘要", reg.sender_register_sha256).set("算法", "SHA-256")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text(el: etree._Element, tag: str) -> str:
    found = el.find(tag)
    return (found.text or "") if found is not None else ""


def _int(el: etree._Element, tag: str, path: str) -> int:
    text = _text(el, tag).strip()
    if not text.isdigit():
        raise TransferDocumentInvalid(
            f"{path}: {tag} {text[:40]!r} is not a count", path=path, line=source_line(el)
        )
    return int(text)


def _read_verdict(el: etree._Element, tag: str) -> Verdict:
    found = el.find(tag)
    assert found is not None  # schema-valid
    return Verdict(found.get("结论", ""), found.text or "")


def parse_register(data: bytes, *, limits: Limits, path: str = REGISTER) -> Register:
    """Read a 登记表.

    Raises:
        TransferDocumentInvalid: unreadable or not valid against ``register.xsd``.
    """
    root = parse_checked(data, "register.xsd", limits=limits, path=path)
    inspections = []
    for el in root.iterfind("检验"):
        party = el.get("方", "")
        assert party in ("移交单位", "接收单位")  # schema enumeration
        props = tuple(_read_verdict(el, tag) for tag in PROPERTY_ROWS)
        try:
            when = dt.datetime.fromisoformat(_text(el, "检验时间"))
        except ValueError:
            raise TransferDocumentInvalid(f"{path}: 检验时间 cannot be read", path=path) from None
        inspections.append(
            Inspection(
                party="移交单位" if party == "移交单位" else "接收单位",
                unit=_text(el, "单位名称"),
                properties=(props[0], props[1], props[2], props[3]),
                carrier=_read_verdict(el, "载体外观检验"),
                checked_at=when,
                tool=_text(el, "检验工具"),
                records=tuple(
                    RecordLine(
                        _text(r, "档号"),
                        _text(r, "案号"),
                        _text(r, "结论"),
                        _text(r, "检测报告摘要"),
                        tuple(x for x in _text(r, "未通过项").split("、") if x and x != "无"),
                    )
                    for r in el.iterfind("记录")
                ),
            )
        )
    sender = root.find("移交方登记表摘要")
    return Register(
        transfer_id=_text(root, "移交标识"),
        work_name=_text(root, "交接工作名称"),
        content=_text(root, "内容描述"),
        record_count=_int(root, "移交电子档案数量/案卷数", path),
        document_count=_int(root, "移交电子档案数量/文件数", path),
        file_count=_int(root, "移交电子档案数量/计算机文件数", path),
        total_bytes=_int(root, "总字节数", path),
        carrier_sequence=_text(root, "载体起止顺序号"),
        carrier_type=_text(root, "移交载体类型规格"),
        digests=tuple((d.get("文件", ""), d.text or "") for d in root.iterfind("数字摘要/摘要")),
        inspections=tuple(inspections),
        sender_register_sha256=(sender.text or "") if sender is not None else None,
    )


# ------------------------------------------------------------------ detached signature
def sign_register(
    data: bytes,
    *,
    sign: Callable[[bytes], bytes],
    algorithm: str,
    certificate_der: bytes,
    now: dt.datetime,
    signed_file: str = REGISTER.rsplit("/", 1)[-1],
) -> bytes:
    """The signature file for the 登记表 bytes ``data`` (JSON, UTF-8); ``signed_file`` names them."""
    doc = {
        "format": SIGNATURE_FORMAT,
        "signed_file": signed_file,
        "signed_sha256": hashlib.sha256(data).hexdigest(),
        "algorithm": algorithm,
        "signature": base64.b64encode(sign(data)).decode("ascii"),
        "certificate_sha256": hashlib.sha256(certificate_der).hexdigest(),
        "signed_at": now.isoformat(),
    }
    return (json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def verify_register_signature(
    data: bytes,
    signature_file: bytes,
    certificate_der: bytes,
    *,
    roots: Sequence[bytes] = (),
) -> dt.datetime:
    """Verify the detached signature over the 登记表 bytes; return its signing time.

    ``roots`` (DER) the certificate must chain to, valid at the recorded signing time; empty: only the
    signature is checked (the caller reports the trust as unverified).

    Raises:
        RegisterSignatureInvalid: the signature file is malformed, names another certificate or other
            bytes, the algorithm is not accepted, the signature does not verify, or the certificate
            does not chain to ``roots`` / is not valid at the signing time.
    """
    try:
        doc: Any = json.loads(signature_file.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != SIGNATURE_FORMAT:
            raise ValueError("format")
        value = base64.b64decode(str(doc["signature"]), validate=True)
        algorithm = algorithm_of(str(doc["algorithm"]))
        signed_at = dt.datetime.fromisoformat(str(doc["signed_at"]))
    except (UnicodeDecodeError, ValueError, KeyError, binascii.Error, BadInput) as exc:
        raise RegisterSignatureInvalid(
            f"{REGISTER_SIGNATURE}: expected a {SIGNATURE_FORMAT} document, found one that cannot be read "
            f"({type(exc).__name__})"
        ) from None
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=dt.UTC)
    for key, actual in (
        ("signed_sha256", hashlib.sha256(data).hexdigest()),
        ("certificate_sha256", hashlib.sha256(certificate_der).hexdigest()),
    ):
        if not hmac.compare_digest(str(doc.get(key, "")).encode(), actual.encode()):
            raise RegisterSignatureInvalid(
                f"{REGISTER_SIGNATURE}: {key} expected {actual}, found {str(doc.get(key))[:64]}"
            )
    try:
        cert = asn1_x509.Certificate.load(certificate_der, strict=True)
        ok = verify_raw(algorithm, cert, data, value)
        if ok and roots:
            verify_certificate_path(cert, [], roots, signed_at)
    except (ValueError, TypeError, EepSignatureError, BadInput) as exc:
        message = getattr(exc, "message", type(exc).__name__)
        raise RegisterSignatureInvalid(f"{REGISTER_SIGNATURE}: {message}") from None
    if not ok:
        raise RegisterSignatureInvalid(
            f"{REGISTER_SIGNATURE}: {doc['algorithm']} signature does not verify over {REGISTER} "
            f"(sha256 {hashlib.sha256(data).hexdigest()})"
        )
    return signed_at


def digests_of(paths: Iterable[str], sha256_of: Callable[[str], str | None]) -> tuple[tuple[str, str], ...]:
    """``(path, sha256)`` for the 数字摘要 rows (files that exist)."""
    return tuple((p, d) for p in paths if (d := sha256_of(p)) is not None)
