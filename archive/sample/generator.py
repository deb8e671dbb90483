"""Write a deterministic sample court package (folder or ZIP) for demos, tests and benchmarks.

:func:`generate_sample` plans a fictitious case (:mod:`archive.sample.plan`), renders each document
(text PDFs via :mod:`archive.sample.pdf`, scans via :mod:`archive.sample.scan`), hashes it with
:mod:`integrity.hashing`, and writes the court-package layout of :mod:`standards.court_package` with
its XML rendered only by :mod:`standards.court_xml`. Every value derives from the seed except the
提交时间 and the 归档 step, which are the caller's ``now``; the same seed and ``now`` give
byte-identical output. Output goes to a temporary sibling first and is renamed into place, so a
failure leaves no half-written package. Validation is left to :mod:`standards.validation`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from archive.sample.pdf import CREATOR, render_text_pdf, wrap_jpeg_pages
from archive.sample.plan import TZ, CasePlan, PlannedDocument, body_paragraphs, plan_case
from archive.sample.scan import A4_INCHES, ScanStyle, page_size, render_scan_page
from integrity.hashing import digest_bytes
from standards.court_package import (
    CATALOG_FILE,
    DESCRIPTION_FILE,
    ORIGIN_DIGITISED,
    CatalogEntry,
    DocumentMetadata,
    DossierDescription,
    Environment,
    ProcessStep,
    metadata_path,
)
from standards.court_xml import render_catalog, render_description, render_document_metadata
from standards.errors import BadInput

ENVIRONMENT = Environment(
    software="edossier 样例生成器 0.1（ReportLab, Pillow）",
    operating_system="Linux",
    hardware="通用 x86-64 服务器",
)
SCANNER_SOFTWARE = "edossier 样例扫描（Pillow）"
NOTE = "样例数据：由 edossier sample 生成的虚构案件，非真实案件材料。"
DEFAULT_SCAN = ScanStyle(dpi=150, noise=24, quality=80)
_BIG_NOISE, _BIG_QUALITY = 255, 95
_PDF_PAGE_ESTIMATE = 2_500  # bytes per text-PDF page, before any have been measured


class SampleTargetExists(BadInput):
    """The output folder is not empty, or the output ZIP file already exists."""

    code = "sample_target_exists"


@dataclass(frozen=True)
class SampleResult:
    """What :func:`generate_sample` wrote.

    ``path`` is the folder or ZIP file; ``documents`` and ``total_bytes`` are the 文件总数 and 总字节数
    of 说明文件.xml (content files only, without the XML files).
    """

    path: Path
    case_number: str
    documents: int
    total_bytes: int


class _Sink:
    """Writes package files either into a folder or into a deterministic ZIP (fixed timestamps)."""

    def __init__(self, tmp: Path, *, as_zip: bool, top: str, stamp: dt.datetime) -> None:
        self._tmp = tmp
        self._top = top
        self._stamp = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
        self._zip = zipfile.ZipFile(tmp, "w") if as_zip else None
        if self._zip is None:
            tmp.mkdir()

    def write(self, path: str, data: bytes) -> None:
        if self._zip is not None:
            info = zipfile.ZipInfo(f"{self._top}/{path}", date_time=self._stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            # JPEG is already compressed; everything else deflates (non-ASCII names set the UTF-8 flag)
            info.compress_type = zipfile.ZIP_STORED if path.endswith(".jpg") else zipfile.ZIP_DEFLATED
            self._zip.writestr(info, data)
            return
        target = self._tmp.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def __enter__(self) -> _Sink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._zip is not None:
            self._zip.close()


class _ScanBudget:
    """Chooses scan styles so the package reaches roughly ``target`` content bytes (benchmarks)."""

    def __init__(self, plan: CasePlan, target: int | None) -> None:
        self.target = target
        self.written = 0
        self._scan_pages_left = sum(d.pages for d in plan.documents if d.origin == ORIGIN_DIGITISED)
        self._text_pages_left = sum(d.pages for d in plan.documents if d.origin != ORIGIN_DIGITISED)
        self._text_bytes = 0
        self._text_pages = 0
        self._bytes_per_pixel: float | None = None

    def record(self, doc: PlannedDocument, size: int) -> None:
        self.written += size
        if doc.origin == ORIGIN_DIGITISED:
            self._scan_pages_left -= doc.pages
        else:
            self._text_pages_left -= doc.pages
            self._text_bytes += size
            self._text_pages += doc.pages

    def style(self, doc: PlannedDocument) -> ScanStyle:
        if self.target is None or self._scan_pages_left <= 0:
            return DEFAULT_SCAN
        per_text_page = self._text_bytes / self._text_pages if self._text_pages else _PDF_PAGE_ESTIMATE
        left = self.target - self.written - per_text_page * self._text_pages_left
        per_page = left / self._scan_pages_left
        if self._bytes_per_pixel is None:
            probe = ScanStyle(dpi=100, noise=_BIG_NOISE, quality=_BIG_QUALITY)
            w, h = page_size(probe.dpi)
            self._bytes_per_pixel = len(render_scan_page(0, 1, 1, probe)) / (w * h)
        dpi = math.sqrt(max(per_page, 0.0) / self._bytes_per_pixel / (A4_INCHES[0] * A4_INCHES[1]))
        return ScanStyle(dpi=min(1200, max(30, round(dpi))), noise=_BIG_NOISE, quality=_BIG_QUALITY)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _history(plan: CasePlan, doc: PlannedDocument, archived_at: dt.datetime) -> tuple[ProcessStep, ...]:
    """业务行为 of one document (DA/T 46 M80–M84; GB/T 18894 §6.2.2; DA/T 70 GD-2-5)."""
    minute = doc.sequence % 50
    if doc.kind.author in ("court", "judge", "clerk"):
        steps = [
            ProcessStep(
                "制作",
                _at(doc.date, 9, minute),
                plan.clerk if doc.kind.author == "clerk" else plan.judge,
                f"制作《{doc.title}》",
            ),
            ProcessStep("审核", _at(doc.date, 11, minute), plan.judge, "承办人审核"),
        ]
        if doc.kind.author == "court":
            steps += [
                ProcessStep("签发", _at(doc.date, 15, minute), plan.presiding, f"{plan.department}庭长签发"),
                ProcessStep("盖章", _at(doc.date, 16, minute), plan.clerk, "加盖院印"),
            ]
    else:
        how = "纸质材料，扫描数字化" if doc.origin == ORIGIN_DIGITISED else "网上立案/诉讼服务平台提交"
        steps = [
            ProcessStep(
                "收文", _at(doc.date, 10, minute), plan.clerk, f"收到{doc.author}提交的{doc.title}（{how}）"
            ),
            ProcessStep("审核", _at(doc.date, 14, minute), plan.judge, "承办人审查"),
        ]
    steps.append(ProcessStep("归档", archived_at, plan.clerk, "随案电子卷宗归档"))
    return tuple(steps)


def _render(plan: CasePlan, doc: PlannedDocument, style: ScanStyle) -> bytes:
    if doc.origin != ORIGIN_DIGITISED:
        return render_text_pdf(
            title=doc.title,
            case_number=plan.case_number,
            court_name=plan.court.name,
            author=doc.author,
            paragraphs=body_paragraphs(plan, doc),
            pages=doc.pages,
        )
    seed = plan.seed * 100_003 + doc.sequence
    jpegs = [render_scan_page(seed, page, doc.pages, style) for page in range(1, doc.pages + 1)]
    if doc.format == "JPEG":
        return jpegs[0]
    return wrap_jpeg_pages(jpegs, title=doc.title, author=doc.author, subject=plan.case_number)


def _records(
    plan: CasePlan, doc: PlannedDocument, data: bytes, style: ScanStyle, archived_at: dt.datetime
) -> tuple[CatalogEntry, DocumentMetadata]:
    digests = digest_bytes(data)
    scanned = doc.origin == ORIGIN_DIGITISED
    entry = CatalogEntry(
        sequence=doc.sequence,
        archival_code=plan.archival_code(doc),
        title=doc.title,
        author=doc.author,
        date=doc.date,
        retention=doc.retention,
        classification=doc.classification,
        pages=doc.pages,
        volume=doc.volume,
        origin=doc.origin,
        paper_location=doc.paper_location,
        file_path=doc.file_path,
        file_size=len(data),
        format=doc.format,
        sha256=digests["sha256"],
        sm3=digests["sm3"],
    )
    meta = DocumentMetadata(
        case_number=plan.case_number,
        sequence=doc.sequence,
        archival_code=entry.archival_code,
        fonds_code=plan.fonds_code,
        archive_unit=plan.court.name,
        title=doc.title,
        author=doc.author,
        date=doc.date,
        classification=doc.classification,
        document_number=doc.document_number,
        retention=doc.retention,
        volume=doc.volume,
        pages=doc.pages,
        language="汉语",
        format=doc.format,
        file_name=doc.file_path.rsplit("/", 1)[-1],
        file_size=len(data),
        creating_software=SCANNER_SOFTWARE if scanned else CREATOR,
        origin=doc.origin,
        paper_location=doc.paper_location,
        scan_resolution=style.dpi if scanned else None,
        scan_colour="灰度" if scanned else None,
        sha256=entry.sha256,
        sm3=entry.sm3,
        history=_history(plan, doc, archived_at),
    )
    return entry, meta


def _prepare_target(out: Path, as_zip: bool) -> tuple[Path, Path]:
    if as_zip:
        final = out if out.suffix.lower() == ".zip" else out.with_name(out.name + ".zip")
        if final.exists():
            raise SampleTargetExists(f"output ZIP: expected no file at {final}, found one", path=str(final))
    else:
        final = out
        if final.exists() and (not final.is_dir() or any(final.iterdir())):
            raise SampleTargetExists(
                f"output folder: expected an absent or empty folder at {final}, found "
                + ("a non-empty folder" if final.is_dir() else "a file"),
                path=str(final),
            )
    final.parent.mkdir(parents=True, exist_ok=True)
    return final, final.with_name(f".{final.name}.part-{os.getpid()}")


def generate_sample(
    out: Path,
    *,
    seed: int = 0,
    documents: int = 12,
    as_zip: bool = False,
    target_bytes: int | None = None,
    now: dt.datetime,
) -> SampleResult:
    """Write a sample court package for a fictitious case to ``out`` and describe what was written.

    ``now`` is the 提交时间 (and the time of every 归档 step); all other values derive from ``seed``.
    With ``as_zip`` the package is a ZIP at ``out`` (``.zip`` appended when missing) whose entries sit
    under a top folder named by the 案号. ``target_bytes`` scales the scans (resolution, noise, JPEG
    quality) so the content files total roughly that many bytes.

    Raises:
        SampleTargetExists: the folder ``out`` is not empty, or the ZIP file already exists.
        ValueError: ``documents`` < 1, ``target_bytes`` < 1, ``now`` is naive or not after the
            closing date of the planned case (all 2024 dates).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if target_bytes is not None and target_bytes < 1:
        raise ValueError(f"target_bytes must be >= 1, got {target_bytes}")
    plan = plan_case(seed, documents)
    if now <= _at(plan.closing_date, 23, 59):
        raise ValueError(
            f"now must be after the closing date {plan.closing_date.isoformat()}, got {now.isoformat()}"
        )
    now = now.astimezone(TZ)
    final, tmp = _prepare_target(out, as_zip)
    budget = _ScanBudget(plan, target_bytes)
    entries: list[CatalogEntry] = []
    try:
        with _Sink(tmp, as_zip=as_zip, top=plan.case_number, stamp=_at(plan.closing_date, 18)) as sink:
            for doc in plan.documents:
                style = budget.style(doc) if doc.origin == ORIGIN_DIGITISED else DEFAULT_SCAN
                data = _render(plan, doc, style)
                entry, meta = _records(plan, doc, data, style, now)
                sink.write(doc.file_path, data)
                sink.write(metadata_path(doc.sequence), render_document_metadata(meta))
                budget.record(doc, len(data))
                entries.append(entry)
            total = sum(e.file_size for e in entries)
            sink.write(CATALOG_FILE, render_catalog(plan.case_number, entries))
            sink.write(DESCRIPTION_FILE, render_description(_description(plan, now, len(entries), total)))
        if final.is_dir():
            final.rmdir()  # the caller's empty folder: replaced by the finished one
        os.replace(tmp, final)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise
    return SampleResult(path=final, case_number=plan.case_number, documents=len(entries), total_bytes=total)


def _description(plan: CasePlan, now: dt.datetime, count: int, total: int) -> DossierDescription:
    return DossierDescription(
        case_number=plan.case_number,
        court_name=plan.court.name,
        case_type=plan.case_type.case_type,
        year=plan.filed.year,
        closing_date=plan.closing_date,
        department=plan.department,
        judge=plan.judge,
        fonds_code=plan.fonds_code,
        submitter=plan.clerk,
        submitted_at=now,
        document_count=count,
        total_bytes=total,
        digest_algorithms=("SHA-256", "SM3"),
        environment=ENVIRONMENT,
        retention=plan.retention,
        note=NOTE,
    )
