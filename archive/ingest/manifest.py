"""The AIP manifest: a canonical-JSON description of exactly what was archived (pure).

The manifest is derived only from the accepted package – never from the clock – so a retried
ingest after a crash writes byte-identical objects under the same keys. The time of archiving is
recorded in the catalog and in the ``dossier.archived`` ledger leaf, which names the manifest's
SHA-256; that digest is what binds the stored files to the signed ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from integrity.canonical import canonical_json
from standards.court_package import (
    CATALOG_FILE,
    DESCRIPTION_FILE,
    CatalogEntry,
    DossierDescription,
    metadata_path,
)
from standards.package import StagedFile

MANIFEST_FORMAT = "edossier.aip.manifest/1"


def inventory_digest(files: Iterable[StagedFile]) -> str:
    """SHA-256 (hex) over the sorted lines ``path\\tsize\\tsha256\\n`` of a package's files.

    The same content gives the same digest whether it arrived as a ZIP or a folder, so it is what
    identifies "the identical package" on re-submission (DA/T 70 GD-1-14, package digest).
    """
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path.encode("utf-8")):
        h.update(f"{f.path}\t{f.size}\t{f.digests['sha256']}\n".encode())
    return h.hexdigest()


def archive_id_for(case_number: str, package_digest: str) -> str:
    """Deterministic archive id: a retried ingest of the same package gets the same id.

    >>> archive_id_for("（2024）粤0306民初1234号", "00" * 32)[:8]
    'ED-2024-'
    """
    year = case_number[1:5] if len(case_number) > 5 and case_number[1:5].isdigit() else "0000"
    tag = hashlib.sha256(f"{case_number}\n{package_digest}".encode()).hexdigest()[:16]
    return f"ED-{year}-{tag}"


@dataclass(frozen=True)
class Manifest:
    """The manifest value and its canonical bytes and digest."""

    body: Mapping[str, Any]
    data: bytes
    sha256: str


def _file_record(f: StagedFile) -> dict[str, Any]:
    return {"path": f.path, "size": f.size, "digests": dict(sorted(f.digests.items()))}


def build_manifest(
    *,
    archive_id: str,
    version: int,
    description: DossierDescription,
    entries: Iterable[CatalogEntry],
    files: Iterable[StagedFile],
    package_digest: str,
) -> Manifest:
    """Build the manifest of one AIP version.

    ``files`` are all files of the package (content, metadata, 说明文件, 目录文件); the manifest
    lists every one with size and digests, and the documents with their catalogue identity.

    Raises:
        ValueError: a catalogue entry names a file that is not among ``files`` (a caller bug:
            validation must have run first).
    """
    by_path = {f.path: f for f in files}
    documents: list[dict[str, Any]] = []
    for e in sorted(entries, key=lambda e: e.sequence):
        content = by_path.get(e.file_path)
        meta = by_path.get(metadata_path(e.sequence))
        if content is None or meta is None:
            raise ValueError(
                f"document {e.sequence} refers to a file missing from the package: {e.file_path}"
            )
        documents.append(
            {
                "sequence": e.sequence,
                "archival_code": e.archival_code,
                "title": e.title,
                "volume": e.volume,
                "retention": e.retention,
                "content": _file_record(content),
                "metadata": _file_record(meta),
            }
        )
    body: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "archive_id": archive_id,
        "version": version,
        "case_number": description.case_number,
        "court_name": description.court_name,
        "case_type": description.case_type,
        "year": description.year,
        "closing_date": description.closing_date.isoformat(),
        "department": description.department,
        "fonds_code": description.fonds_code,
        "retention": description.retention,
        "package_digest": {"sha256": package_digest},
        "description_file": _file_record(by_path[DESCRIPTION_FILE]),
        "catalog_file": _file_record(by_path[CATALOG_FILE]),
        "documents": documents,
        "files": [_file_record(f) for f in sorted(by_path.values(), key=lambda f: f.path.encode("utf-8"))],
    }
    data = canonical_json(body)
    return Manifest(body=body, data=data, sha256=hashlib.sha256(data).hexdigest())
