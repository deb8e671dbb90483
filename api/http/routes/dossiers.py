"""Archived dossiers: search and detail. 副卷 documents are listed only to archivists and admins."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import OPERATORS, READERS, Inst, allow
from api.http.errors import NotFound
from archive.access.errors import AccessDigestMismatch
from archive.access.service import open_document, report_mismatch
from archive.catalog import queries
from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import Document, Dossier
from archive.tokens import Principal, Role
from standards.errors import StorageError

router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers"])
Reader = Annotated[Principal, Depends(allow(*READERS))]
Operator = Annotated[Principal, Depends(allow(*OPERATORS))]
MEDIA_TYPES = {
    "PDF": "application/pdf",
    "OFD": "application/ofd",
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "TIFF": "image/tiff",
    "XML": "application/xml",
    "WAV": "audio/wav",
    "MP3": "audio/mpeg",
    "MP4": "video/mp4",
}
SECONDARY_VOLUME = "副卷"
MAX_PAGE = 200
MAX_OFFSET = 10**9


def sees_secondary(role: Role) -> bool:
    """Whether ``role`` may see 副卷 documents at all (content and metadata)."""
    return role in OPERATORS


def dossier_summary(d: Dossier) -> dict[str, Any]:
    return {
        "archive_id": d.archive_id,
        "case_number": d.case_number,
        "court": d.court_name,
        "case_type": d.case_type,
        "year": d.year,
        "department": d.department,
        "judge": d.judge,
        "closing_date": d.closing_date.isoformat(),
        "retention": d.retention,
        "archived_at": d.archived_at.isoformat(),
        "leaf_index": d.leaf_index,
    }


def document_view(doc: Document) -> dict[str, Any]:
    return {
        "sequence": doc.sequence,
        "archival_code": doc.archival_code,
        "title": doc.title,
        "author": doc.author,
        "date": doc.date.isoformat(),
        "volume": doc.volume,
        "pages": doc.pages,
        "format": doc.format,
        "size": doc.file_size,
        "sha256": doc.sha256,
        "retention": doc.retention,
        "classification": doc.classification,
    }


@router.get("", summary="Search archived dossiers by 案号, court, department, year")
def search(
    inst: Inst,
    who: Reader,
    case_number: Annotated[str | None, Query(max_length=64, description="案号 (exact) ")] = None,
    court: Annotated[str | None, Query(max_length=128)] = None,
    department: Annotated[str | None, Query(max_length=128)] = None,
    year: Annotated[int | None, Query(ge=1949, le=9999)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    query = select(Dossier)
    if case_number:
        query = query.where(Dossier.case_number == case_number.strip())
    if court:
        query = query.where(Dossier.court_name == court)
    if department:
        query = query.where(Dossier.department == department)
    if year is not None:
        query = query.where(Dossier.year == year)
    try:
        with inst.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(Dossier.archived_at.desc(), Dossier.archive_id).limit(limit).offset(offset)
            )
            items = [dossier_summary(d) for d in rows]
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"dossier search: {type(exc).__name__}") from exc
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}


@router.get("/{archive_id}", summary="One dossier with its documents (by archive id or 案号)")
def detail(archive_id: str, inst: Inst, who: Reader) -> dict[str, Any]:
    try:
        with inst.sessions() as session:
            dossier = queries.find_dossier(session, archive_id)
            if dossier is None:
                raise NotFound(f"dossier {archive_id!r}: not archived")
            documents = [
                document_view(doc)
                for doc in dossier.documents
                if doc.volume != SECONDARY_VOLUME or sees_secondary(who.role)
            ]
            body = dossier_summary(dossier) | {
                "document_count": len(documents),
                "documents": documents,
                "manifest_sha256": dossier.manifest_sha256,
            }
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"dossier detail: {type(exc).__name__}") from exc
    return body


@router.get(
    "/{archive_id}/documents/{sequence}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The document's bytes"}},
    summary="Download a document (利用): re-verified while streaming, logged in the ledger first",
)
def download(
    archive_id: str,
    inst: Inst,
    who: Operator,
    sequence: Annotated[int, PathParam(ge=1, le=100_000)],
    purpose: Annotated[str | None, Query(max_length=500, description="利用目的 (required for 副卷)")] = None,
) -> StreamingResponse:
    """The bytes are checked against the catalog digest as they stream; the last chunk is sent only
    after the whole file matched, so a client never receives a complete wrong file. A mismatch stops
    the response and raises an incident. ``dossier.accessed`` is appended before the first byte."""
    opened = open_document(
        inst, archive_id, sequence, actor=f"{who.name} ({who.token_id})", role=who.role, purpose=purpose
    )
    doc = opened.document

    def body() -> Iterator[bytes]:
        try:
            yield from opened.chunks
        except (AccessDigestMismatch, StorageError) as error:
            report_mismatch(inst, doc.archive_id, doc.store_key, error)
            raise
        finally:
            close = getattr(opened.chunks, "close", None)
            if close is not None:
                close()

    name = doc.file_path.rsplit("/", 1)[-1]
    headers = {
        "Content-Length": str(doc.size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Ledger-Leaf": str(opened.leaf_index),
        "Digest": f"sha-256={base64.b64encode(bytes.fromhex(doc.sha256)).decode()}",
    }
    return StreamingResponse(
        body(), media_type=MEDIA_TYPES.get(doc.format.upper(), "application/octet-stream"), headers=headers
    )
