"""Test helpers: a valid court package as dataclasses, written to a folder as a real StagedPackage."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from integrity.hashing import digest_bytes
from standards.court_package import (
    CATALOG_FILE,
    DESCRIPTION_FILE,
    CatalogEntry,
    DocumentMetadata,
    DossierDescription,
    Environment,
    ProcessStep,
    metadata_path,
)
from standards.court_xml import render_catalog, render_description, render_document_metadata
from standards.package import StagedFile, StagedPackage

CASE = "（2024）粤0306民初1234号"
TZ = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.date(2025, 3, 1)

CONTENTS: list[tuple[str, str, str, bytes]] = [
    # (volume, title, format/ext, bytes)
    ("正卷", "起诉状", "PDF", b"%PDF-1.7 complaint\n"),
    ("正卷", "民事判决书", "OFD", b"PK ofd judgment bytes"),
    ("副卷", "合议庭评议笔录", "PDF", b"%PDF-1.7 deliberation\n"),
]


def entry_for(seq: int, volume: str, title: str, fmt: str, data: bytes) -> CatalogEntry:
    d = digest_bytes(data)
    ext = {"PDF": "pdf", "OFD": "ofd"}[fmt]
    return CatalogEntry(
        sequence=seq,
        archival_code=f"J001-SS·2024-Y-0012-{seq:04d}",
        title=title,
        author="深圳市南山区人民法院",
        date=dt.date(2024, 6, seq),
        retention="永久",
        classification="公开" if volume == "正卷" else "内部",
        pages=3,
        volume=volume,
        origin="电子原件",
        paper_location=None,
        file_path=f"{volume}/{seq:04d}-{title}.{ext}",
        file_size=len(data),
        format=fmt,
        sha256=d["sha256"],
        sm3=d["sm3"],
    )


def metadata_for(e: CatalogEntry, case_number: str = CASE) -> DocumentMetadata:
    return DocumentMetadata(
        case_number=case_number,
        sequence=e.sequence,
        archival_code=e.archival_code,
        fonds_code="J001",
        archive_unit="深圳市南山区人民法院",
        title=e.title,
        author=e.author,
        date=e.date,
        classification=e.classification,
        document_number="",
        retention=e.retention,
        volume=e.volume,
        pages=e.pages,
        language="汉语",
        format=e.format,
        file_name=e.file_path.rsplit("/", 1)[-1],
        file_size=e.file_size,
        creating_software="某法院电子卷宗系统 3.2",
        origin=e.origin,
        paper_location=e.paper_location,
        scan_resolution=None,
        scan_colour=None,
        sha256=e.sha256,
        sm3=e.sm3,
        history=(
            ProcessStep("收文", dt.datetime(2024, 6, e.sequence, 9, 0, tzinfo=TZ), "张书记员"),
            ProcessStep("归档", dt.datetime(2025, 1, 10, 9, 0, tzinfo=TZ), "张书记员", "随案归档"),
        ),
    )


def description_for(entries: list[CatalogEntry], case_number: str = CASE) -> DossierDescription:
    return DossierDescription(
        case_number=case_number,
        court_name="深圳市南山区人民法院",
        case_type="民事",
        year=2024,
        closing_date=dt.date(2024, 12, 20),
        department="民事审判第一庭",
        judge="李法官",
        fonds_code="J001",
        submitter="张书记员",
        submitted_at=dt.datetime(2025, 1, 10, 10, 30, tzinfo=TZ),
        document_count=len(entries),
        total_bytes=sum(e.file_size for e in entries),
        digest_algorithms=("SHA-256", "SM3"),
        environment=Environment("某法院电子卷宗系统 3.2", "麒麟 V10", "x86_64 服务器"),
        retention="永久",
    )


@dataclasses.dataclass
class PackageSpec:
    """A mutable recipe: change any part, then ``write`` it."""

    description: DossierDescription
    entries: list[CatalogEntry]
    metadata: dict[int, DocumentMetadata]
    contents: dict[str, bytes]  # path → bytes
    catalog_case_number: str = CASE
    raw: dict[str, bytes] = dataclasses.field(default_factory=dict)  # path → bytes overriding rendering
    drop: set[str] = dataclasses.field(default_factory=set)

    def files(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {
            DESCRIPTION_FILE: render_description(self.description),
            CATALOG_FILE: render_catalog(self.catalog_case_number, self.entries),
        }
        for seq, m in self.metadata.items():
            out[metadata_path(seq)] = render_document_metadata(m)
        out.update(self.contents)
        out.update(self.raw)
        return {p: b for p, b in out.items() if p not in self.drop}

    def write(self, root: Path) -> StagedPackage:
        return stage(root, self.files())

    def replace_entry(self, seq: int, fix_metadata: bool = True, **changes: object) -> None:
        i = next(i for i, e in enumerate(self.entries) if e.sequence == seq)
        self.entries[i] = dataclasses.replace(self.entries[i], **changes)  # type: ignore[arg-type]
        if fix_metadata:
            self.metadata[seq] = metadata_for(self.entries[i], self.metadata[seq].case_number)


def valid_spec() -> PackageSpec:
    entries = [entry_for(i, *c) for i, c in enumerate(CONTENTS, start=1)]
    contents = {e.file_path: c[3] for e, c in zip(entries, CONTENTS, strict=True)}
    return PackageSpec(
        description=description_for(entries),
        entries=entries,
        metadata={e.sequence: metadata_for(e) for e in entries},
        contents=contents,
    )


def stage(root: Path, files: Mapping[str, bytes]) -> StagedPackage:
    """Write ``files`` under ``root`` and build a StagedPackage with real digests."""
    staged = []
    for path, data in sorted(files.items()):
        target = root.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        staged.append(StagedFile(path, len(data), digest_bytes(data)))
    return StagedPackage(root, tuple(staged), "test", "folder", "0" * 64)


Mutation = Callable[[PackageSpec], None]
