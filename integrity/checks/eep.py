"""DA/T 70 BC-1-15, BC-1-16 and BC-2-10 for packages that are DA/T 48-2009 EEPs (电子档案封装包).

:func:`gather_eep_facts` is the I/O shell: it looks at every ``.xml`` file of the staged package, and
for each whose root is 电子文件封装包 in the DA/T 48 namespace it parses (hardened, ``limits.xml_bytes``),
validates (``eep/eep.xsd``), applies the profile rules, lists missing mandatory metadata and verifies
every signature (:mod:`integrity.eep_signatures`). It returns one fact::

    "eep": None                       # no EEP in the package → the checks answer not_applicable
    "eep": {"roots_checked": bool,    # certificates were checked against configured roots
            "files": [{"path": str,
                       "not_checked": str | None,      # e.g. larger than limits.xml_bytes
                       "read_error": {"code", "message", "line"} | None,
                       "schema_violations": [{"message", "line"}],
                       "profile_problems": [Problem.as_dict()],
                       "missing_metadata": [{"element", "number", "line"}],
                       "signatures": [SignatureOutcome.as_dict()] | None,
                       "signatures_skipped": str | None,
                       "documents": int, "encodings": int}]}

The checks are pure over that fact:

* :func:`check_eep_structure` (BC-1-15, 电子档案封装包规范性检测): schema-valid against DA/T 48 Annex B
  (our XSD) and the rules XSD cannot state (eep版本 = 版本, 封装包类型 ↔ branch, Base64 decodes to
  计算机文件大小, lock reference) → ``pass``; otherwise ``fail``.
* :func:`check_eep_signatures` (BC-1-16, 电子签名有效性检测): every 电子签名 and the 锁定签名 verify →
  ``pass``; any fails → ``fail``; no signature at all → ``warn`` (DA/T 48 makes the block optional, so the
  package is conformant but its authenticity rests on other fixity information); signatures not verified
  because the EEP is unreadable or not schema-valid → ``not_run``. Without configured roots the trust of
  the certificates is not checked and the evidence says so.
* :func:`check_eep_metadata` (BC-2-10, 信息包元数据完整性检测, EEP part): every mandatory encapsulation
  element of DA/T 48 Annex C / DA/T 46 (standards.eep.missing_metadata) is present and non-empty.

Several EEPs in one package are checked one by one: any ``fail`` fails the item; otherwise any
``not_run`` makes it ``not_run`` (never ``pass`` for something not checked); otherwise any ``warn``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from integrity import eep_signatures
from integrity.checks.model import CheckContext, Evidence, ItemResult, Status
from standards.eep import (
    EepSchemaInvalid,
    eep_profile_problems,
    is_eep_root,
    looks_like_eep,
    missing_metadata,
    read_eep,
)
from standards.errors import BadInput
from standards.limits import Limits
from standards.package import StagedPackage
from standards.problems import Problem
from standards.xml_parser import XmlTooLargeError, parse_xml

if TYPE_CHECKING:
    from archive.settings import Settings

SNIFF_BYTES = 64 * 1024
NOT_EEP = "信息包不是电子文件封装包(EEP)"
NO_FACTS = "未收集 EEP 事实（gather_eep_facts 未运行或失败）"
MAX_LISTED = 10


# ---------------------------------------------------------------- gatherer (I/O)
def load_roots(path: Path | None) -> list[bytes]:
    """DER certificates from a PEM bundle or a single DER file (empty list for None).

    Raises:
        OSError: the file cannot be read.
        ValueError: the file holds neither PEM certificates nor one DER certificate.
    """
    if path is None:
        return []
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    data = path.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" in data:
        return [c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(data)]
    return [x509.load_der_x509_certificate(data).public_bytes(Encoding.DER)]


def _eep_file_facts(
    path: str, data: bytes, limits: Limits, roots: Sequence[bytes], now: dt.datetime
) -> dict[str, Any] | None:
    facts: dict[str, Any] = {
        "path": path,
        "not_checked": None,
        "read_error": None,
        "schema_violations": [],
        "profile_problems": [],
        "missing_metadata": [],
        "signatures": None,
        "signatures_skipped": None,
        "documents": 0,
        "encodings": 0,
    }
    try:
        root = parse_xml(data, limits=limits, path=path)
    except XmlTooLargeError as exc:
        facts["not_checked"] = f"EEP 大于 limits.xml_bytes（{limits.xml_bytes} 字节），未检测：{exc.message}"
        return facts
    except BadInput as exc:  # XmlSyntaxError, XmlDoctypeForbiddenError
        facts["read_error"] = {"code": exc.code, "message": exc.message, "line": getattr(exc, "line", None)}
        return facts
    if not is_eep_root(root):
        return None
    facts["missing_metadata"] = [asdict(m) for m in missing_metadata(root)]
    try:
        pkg = read_eep(root, path=path)
    except EepSchemaInvalid as exc:
        facts["schema_violations"] = [{"message": v.message, "line": v.line} for v in exc.violations]
        facts["signatures_skipped"] = "EEP 不符合 Schema，电子签名未验证（见 BC-1-15）"
        return facts
    facts["documents"] = len(pkg.documents)
    facts["encodings"] = len(pkg.encodings)
    facts["profile_problems"] = [p.as_dict() for p in eep_profile_problems(pkg, path=path)]
    outcomes = eep_signatures.check_eep_signatures(pkg, roots=roots, at=now)
    facts["signatures"] = [o.as_dict() for o in outcomes]
    return facts


def gather_eep_facts(
    package: StagedPackage,
    settings: Settings,
    stage: str,
    *,
    roots: Sequence[bytes] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Find the EEPs of ``package`` and gather what BC-1-15/1-16/2-10 need (see the module docstring).

    ``roots`` are trusted DER certificates; by default they come from ``settings.eep_trusted_roots``
    (a PEM bundle or DER file) when the installation has that setting. ``now`` is when certificates
    must be valid for signatures without 签名时间 (default: the current time).

    Raises:
        OSError: a staged file cannot be read (the runner records it under ``gatherer_errors``).
    """
    if roots is None:
        roots = load_roots(getattr(settings, "eep_trusted_roots", None))
    at = now or dt.datetime.now(dt.UTC)
    found: list[dict[str, Any]] = []
    for file in package.files:
        if not file.path.lower().endswith(".xml"):
            continue
        local = package.local_path(file.path)
        with open(local, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
            if not looks_like_eep(head):
                continue
            data = head + fh.read(
                max(0, settings.limits.xml_bytes + 1 - len(head))
            )  # enough to see "too large"
        facts = _eep_file_facts(file.path, data, settings.limits, roots, at)
        if facts is not None:
            found.append(facts)
    return {"eep": {"roots_checked": bool(roots), "files": found} if found else None}


# ---------------------------------------------------------------- pure checks
def _eep_files(ctx: CheckContext, item: str) -> list[Mapping[str, Any]] | ItemResult:
    if "eep" not in ctx.facts:
        return ItemResult(item=item, status="not_run", summary="未检测：缺少 EEP 事实", reason=NO_FACTS)
    eep = ctx.facts["eep"]
    if eep is None:
        return ItemResult(item=item, status="not_applicable", summary=NOT_EEP, reason=NOT_EEP)
    files: list[Mapping[str, Any]] = list(eep["files"])
    return files


def _combine(statuses: Sequence[Status]) -> Status:
    order: tuple[Status, ...] = ("fail", "not_run", "warn")
    for status in order:
        if status in statuses:
            return status
    return "pass"


def _listed(items: Sequence[str]) -> str:
    shown = "；".join(items[:MAX_LISTED])
    return shown + (f"；等共 {len(items)} 项" if len(items) > MAX_LISTED else "")


def check_eep_structure(ctx: CheckContext) -> ItemResult:
    """BC-1-15 电子档案封装包规范性检测 (DA/T 70 §5.3, DA/T 48-2009 Annex B)."""
    item = ctx.item_id("1-15")
    files = _eep_files(ctx, item)
    if isinstance(files, ItemResult):
        return files
    statuses: list[Status] = []
    evidence: list[Evidence] = []
    problems: list[Problem] = []
    reasons: list[str] = []
    expected = (
        "符合 DA/T 48-2009 附录B Schema（eep/eep.xsd）及封装规则"
        "（eep版本=版本、类型与内容一致、编码数据解码长度=计算机文件大小）"
    )
    for f in files:
        path = f["path"]
        if f["not_checked"]:
            statuses.append("not_run")
            reasons.append(f"{path}：{f['not_checked']}")
            evidence.append(Evidence(read=path, expected=expected, found="未检测"))
            continue
        found: list[str] = []
        if f["read_error"]:
            err = f["read_error"]
            problems.append(
                Problem(
                    code=err["code"],
                    item=item,
                    path=path,
                    line=err["line"],
                    message=f"EEP 无法解析：{err['message']}",
                )
            )
            found.append(f"无法解析：{err['message']}")
        for v in f["schema_violations"]:
            problems.append(
                Problem(
                    code="eep_schema_invalid", item=item, path=path, line=v["line"],
                    message=f"EEP 不符合 DA/T 48 Schema：{v['message']}",
                )
            )  # fmt: skip
        if f["schema_violations"]:
            found.append(
                f"{len(f['schema_violations'])} 处 Schema 错误，首处：{f['schema_violations'][0]['message']}"
            )
        for p in f["profile_problems"]:
            problems.append(
                Problem(code=p["code"], item=item, path=path, line=p["line"], message=p["message"])
            )
            found.append(p["message"])
        statuses.append("fail" if found else "pass")
        evidence.append(Evidence(read=path, expected=expected, found=_listed(found) if found else "符合"))
    status = _combine(statuses)
    summary = {
        "pass": f"{len(files)} 个电子文件封装包符合 DA/T 48-2009 Schema 与封装规则",
        "fail": f"电子文件封装包不符合 DA/T 48-2009：{len(problems)} 处问题",
        "not_run": "部分电子文件封装包未能检测",
    }.get(status, "")
    return ItemResult(
        item=item, status=status, summary=summary, evidence=tuple(evidence), problems=tuple(problems),
        reason=_listed(reasons) if status == "not_run" else None,
    )  # fmt: skip


def check_eep_signatures(ctx: CheckContext) -> ItemResult:
    """BC-1-16 电子档案封装包电子签名有效性检测 (DA/T 70 §5.3; DA/T 48 电子签名块, 锁定签名)."""
    item = ctx.item_id("1-16")
    files = _eep_files(ctx, item)
    if isinstance(files, ItemResult):
        return files
    roots_checked = bool(ctx.facts["eep"].get("roots_checked"))
    statuses: list[Status] = []
    evidence: list[Evidence] = []
    problems: list[Problem] = []
    reasons: list[str] = []
    for f in files:
        path = f["path"]
        skipped = (
            f["not_checked"]
            or f["signatures_skipped"]
            or (f"EEP 无法解析，电子签名未验证：{f['read_error']['message']}" if f["read_error"] else None)
        )
        if skipped or f["signatures"] is None:
            statuses.append("not_run")
            reasons.append(f"{path}：{skipped or '电子签名未验证'}")
            continue
        if not f["signatures"]:
            statuses.append("warn")
            problems.append(
                Problem(
                    code="eep_no_signatures",
                    item=item,
                    path=path,
                    message="电子文件封装包未带电子签名块，无签名可验证",
                )
            )
            evidence.append(
                Evidence(read=f"{path} 电子签名块", expected="至少一个有效的电子签名", found="无电子签名")
            )
            continue
        bad = 0
        for s in f["signatures"]:
            label = f"{path} {s['kind']}[{s['id']}]"
            target = "被锁定的电子签名" if s["kind"] == "锁定签名" else "被签名对象"
            expected = f"{s['algorithm']} 签名对 {target} 的 exclusive C14N 字节验证通过"
            if s["ok"]:
                evidence.append(
                    Evidence(read=label, expected=expected, found=f"通过（证书：{s['subject']}）")
                )
            else:
                bad += 1
                evidence.append(Evidence(read=label, expected=expected, found=f"未通过：{s['error']}"))
                problems.append(
                    Problem(code=s["code"] or "eep_signature_error", item=item, path=path,
                            message=f"{s['kind']} {s['id']} 验证未通过（{s['error']}）：{s['message']}")
                )  # fmt: skip
        statuses.append("fail" if bad else "pass")
    evidence.append(
        Evidence(
            read="证书信任链",
            expected="签名证书链至配置的信任根，且签名时在有效期内",
            found="已检查"
            if roots_checked
            else "未配置信任根（eep_trusted_roots），仅用封装包内证书验证签名",
        )
    )
    status = _combine(statuses)
    summary = {
        "pass": "电子文件封装包的全部电子签名与锁定签名验证通过",
        "fail": f"电子文件封装包电子签名验证未通过：{len(problems)} 处",
        "warn": "电子文件封装包未带电子签名",
        "not_run": "电子文件封装包电子签名未能验证",
    }[status]
    return ItemResult(
        item=item, status=status, summary=summary, evidence=tuple(evidence), problems=tuple(problems),
        reason=_listed(reasons) if status == "not_run" else None,
    )  # fmt: skip


def check_eep_metadata(ctx: CheckContext) -> ItemResult:
    """BC-2-10 信息包元数据完整性检测, EEP part (DA/T 48-2009 Annex C 表C.1; DA/T 46 必填项)."""
    item = ctx.item_id("2-10")
    files = _eep_files(ctx, item)
    if isinstance(files, ItemResult):
        return files
    statuses: list[Status] = []
    evidence: list[Evidence] = []
    problems: list[Problem] = []
    reasons: list[str] = []
    expected = "DA/T 48 附录C 封装元数据及 DA/T 46 必填项均存在且非空"
    for f in files:
        path = f["path"]
        if f["not_checked"] or f["read_error"]:
            statuses.append("not_run")
            reasons.append(f"{path}：{f['not_checked'] or '无法解析：' + f['read_error']['message']}")
            continue
        missing = f["missing_metadata"]
        for m in missing:
            number = f"（{m['number']}）" if m["number"] else ""
            problems.append(
                Problem(code="eep_metadata_missing", item=item, path=path, line=m["line"],
                        message=f"必填封装元数据 {m['element']}{number} 缺失或为空")
            )  # fmt: skip
        statuses.append("fail" if missing else "pass")
        found = _listed([f"{m['element']}" for m in missing]) if missing else "齐全"
        evidence.append(Evidence(read=path, expected=expected, found=f"缺失：{found}" if missing else found))
    status = _combine(statuses)
    summary = {
        "pass": "电子文件封装包的封装元数据齐全",
        "fail": f"电子文件封装包缺少必填封装元数据：{len(problems)} 项",
        "not_run": "电子文件封装包的封装元数据未能检测",
    }.get(status, "")
    return ItemResult(
        item=item, status=status, summary=summary, evidence=tuple(evidence), problems=tuple(problems),
        reason=_listed(reasons) if status == "not_run" else None,
    )  # fmt: skip
