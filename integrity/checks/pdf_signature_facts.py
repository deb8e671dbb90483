"""Embedded PDF signatures as part of DA/T 70 x-1-1 固化信息有效性检测 (GD-1-1, YJ-1-1, BC-1-1).

:func:`gather_pdf_signature_facts` is the I/O shell. It looks at every staged file whose first 1,024
bytes hold the PDF header ``%PDF-`` (ISO 32000-2 §7.5.2; readers accept it within that window), lists
the signed signature fields with pikepdf and, only when there are any, verifies them with pyHanko
(:mod:`integrity.pdf_signatures`). It never raises; it returns two facts::

    "pdf_signatures": {path: [PdfSignatureOutcome.as_dict()]}   # [] = a PDF with no signature
    "pdf_signature_roots": {"configured": bool, "error": str | None}

A PDF that cannot be read gets one outcome with ``kind`` "file", ``field`` "" and ``error`` set (so
"could not look" is never mistaken for "no signature").

:func:`apply_pdf_signatures` is pure: it folds those facts into the digest result of
:func:`integrity.checks.court.check_fixity` — any signature not intact or not valid fails the item;
an unverifiable, untrusted or partially covering signature turns a ``pass`` into ``warn``. Without the
facts (gatherer not registered) the result keeps its status and the evidence says PDF signatures were
not checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from integrity.checks.model import CheckContext, Evidence, ItemResult
from integrity.pdf_signatures import (
    PdfSignatureOutcome,
    PdfUnreadable,
    assess_outcome,
    find_pdf_signatures,
    unmatched_fields,
    verify_pdf_signatures,
)
from standards.package import StagedPackage
from standards.problems import Problem

if TYPE_CHECKING:
    from archive.settings import Settings

PDF_MAGIC = b"%PDF-"
HEADER_WINDOW = 1024
FACT = "pdf_signatures"
ROOTS_FACT = "pdf_signature_roots"
ROOTS_SETTING = "pdf_trusted_roots"  # archive.settings.Settings field (PEM bundle or DER file)
NOT_GATHERED = "未收集 PDF 内嵌签名事实（gather_pdf_signature_facts 未运行），PDF 内嵌签名未检测"
_SHOWN = 3


# ---------------------------------------------------------------- gatherer (I/O)
def _is_pdf(head: bytes) -> bool:
    return PDF_MAGIC in head[:HEADER_WINDOW]


def _file_error(message: str) -> list[dict[str, Any]]:
    return [PdfSignatureOutcome(field="", kind="file", error=message).as_dict()]


def pdf_file_facts(local: Path, roots: Sequence[bytes], at: dt.datetime | None) -> list[dict[str, Any]]:
    """Outcome dicts for one PDF file on disk; never raises (errors become a ``kind`` "file" outcome)."""
    try:
        fields = find_pdf_signatures(local)
        if not fields:
            return []
        outcomes = verify_pdf_signatures(local, roots, at=at)
    except PdfUnreadable as exc:
        return _file_error(exc.message)
    except Exception as exc:  # OSError, or anything a hostile file provokes in pikepdf/pyHanko
        return _file_error(f"{type(exc).__name__}: {exc}")
    outcomes += unmatched_fields(fields, outcomes)
    return [o.as_dict() for o in outcomes]


def gather_pdf_signature_facts(
    package: StagedPackage,
    settings: Settings,
    stage: str,
    *,
    roots: Sequence[bytes] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Verify the embedded signatures of every PDF content file of ``package`` (see the module docstring).

    ``roots`` are trusted DER certificates; by default they come from ``settings.pdf_trusted_roots``
    when the installation has that setting (none → trust not checked). ``now`` is when certificates
    must be valid (default: the current time). Never raises: per-file errors are recorded as outcomes.
    """
    from integrity.checks.eep import load_roots

    roots_fact: dict[str, Any] = {"configured": False, "error": None}
    if roots is None:
        source = getattr(settings, ROOTS_SETTING, None)
        try:
            roots = load_roots(source)
        except (OSError, ValueError) as exc:
            roots_fact["error"] = f"信任根证书 {source} 无法读取：{type(exc).__name__}: {exc}"
            roots = []
    roots_fact["configured"] = bool(roots)
    found: dict[str, list[dict[str, Any]]] = {}
    for file in package.files:
        local = package.local_path(file.path)
        try:
            with open(local, "rb") as fh:
                head = fh.read(HEADER_WINDOW)
        except OSError as exc:
            if file.path.lower().endswith(".pdf"):
                found[file.path] = _file_error(f"{type(exc).__name__}: {exc}")
            continue
        if _is_pdf(head):
            found[file.path] = pdf_file_facts(local, roots, now)
    return {FACT: found, ROOTS_FACT: roots_fact}


# ---------------------------------------------------------------- folding into x-1-1 (pure)
@dataclasses.dataclass(frozen=True)
class PdfSignatureAssessment:
    """Failures and warnings (as Problems of the stage-item) and one Evidence line."""

    failures: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    evidence: Evidence


def assess_pdf_signatures(ctx: CheckContext, number: str = "1-1") -> PdfSignatureAssessment | None:
    """Read the ``pdf_signatures`` fact of ``ctx``; None when it was not gathered."""
    files = ctx.facts.get(FACT)
    if not isinstance(files, Mapping):
        return None
    item = ctx.item_id(number)
    failures: list[Problem] = []
    warnings: list[Problem] = []
    signed_files = signatures = 0
    for path, outcomes in sorted(files.items()):
        real = [PdfSignatureOutcome.from_dict(o) for o in outcomes]
        if any(o.kind != "file" for o in real):
            signed_files += 1
        for outcome in real:
            signatures += outcome.kind != "file"
            fails, warns = assess_outcome(outcome)
            failures += [Problem(e.code, f"“{path}”{e.message}", item, path) for e in fails]
            warnings += [Problem(e.code, f"“{path}”{e.message}", item, path) for e in warns]
    roots = ctx.facts.get(ROOTS_FACT)
    roots_text = (
        "已按配置的信任根证书检查证书链"
        if isinstance(roots, Mapping) and roots.get("configured")
        else "未配置信任根证书，未检查证书链"
    )
    if isinstance(roots, Mapping) and roots.get("error"):
        roots_text = str(roots["error"])
    problems = failures + warnings
    shown = "；".join(p.message for p in problems[:_SHOWN])
    more = f"；另有 {len(problems) - _SHOWN} 个" if len(problems) > _SHOWN else ""
    found = (
        f"{len(files)} 个 PDF 文件中 {signed_files} 个含签名，共 {signatures} 个签名；"
        + (f"发现 {len(problems)} 个问题：{shown}{more}" if problems else "全部完整、有效且覆盖整个文件")
        + f"（{roots_text}）"
    )
    evidence = Evidence(
        read=f"{len(files)} 个 PDF 文件的内嵌电子签名（/AcroForm 签名域，pyHanko 验证，不联网）",
        expected="签名覆盖的字节未改动、签名值有效、签名覆盖整个文件、证书链接到信任根",
        found=found,
    )
    return PdfSignatureAssessment(tuple(failures), tuple(warnings), evidence)


def apply_pdf_signatures(
    ctx: CheckContext, result: ItemResult, name: str = "固化信息有效性检测"
) -> ItemResult:
    """Fold the PDF signature findings into the x-1-1 result (DA/T 70 1-1: signatures are fixity information).

    Failures make the result ``fail`` whatever it was; warnings turn a ``pass`` into ``warn``; the
    evidence always gains a line on PDF signatures (or on their not being checked).
    """
    assessment = assess_pdf_signatures(ctx)
    if assessment is None:
        note = Evidence("PDF 内嵌电子签名", "逐一验证", NOT_GATHERED)
        return dataclasses.replace(result, evidence=(*result.evidence, note))
    evidence = (*result.evidence, assessment.evidence)
    if assessment.failures:
        problems = result.problems + assessment.failures + assessment.warnings
        summary = f"{name}不通过：发现 {len(problems)} 个问题"
        return dataclasses.replace(
            result, status="fail", summary=summary, evidence=evidence, problems=problems, reason=None
        )
    if assessment.warnings and result.status == "pass":
        summary = f"{name}警告：PDF 内嵌签名有 {len(assessment.warnings)} 个需关注的问题"
        return dataclasses.replace(
            result,
            status="warn",
            summary=summary,
            evidence=evidence,
            problems=result.problems + assessment.warnings,
        )
    return dataclasses.replace(result, evidence=evidence, problems=result.problems + assessment.warnings)
