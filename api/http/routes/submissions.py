"""Submitting dossiers: a ZIP streamed in (limits enforced while reading), 202 with an id, then its status.

``POST /api/v1/submissions`` takes the ZIP as the raw request body (``Content-Type:
application/zip``; optional ``X-Package-SHA256`` = the sender's digest, DA/T 70 GD-1-14, and
``?filename=``). The body is staged chunk by chunk and refused with 413 the moment it passes the
limit. The ingest (the GD stage) runs as a job; ``GET /api/v1/submissions/{id}`` answers ``queued``,
``processing``, then the ingest's verdict with the full item-by-item report. A submitter sees only
its own submissions.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import Inst, allow
from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import Upload
from archive.tokens import Principal
from archive.uploads import (
    UploadNotFound,
    UploadTooLarge,
    UploadWriter,
    declared_digest,
    record_upload,
    safe_filename,
    upload_view,
)

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])
Submitter = Annotated[Principal, Depends(allow("submitter", "archivist", "admin"))]


def _limit(inst: Inst) -> int:
    return inst.settings.api.max_upload_bytes or inst.settings.limits.package_bytes


@router.post(
    "",
    status_code=202,
    summary="Submit a closed dossier (ZIP as the request body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def submit(
    request: Request,
    inst: Inst,
    who: Submitter,
    filename: Annotated[str | None, Query(max_length=256)] = None,
    x_package_sha256: Annotated[
        str,
        Header(pattern=r"^([0-9a-fA-F]{64})?$", description="The sender's SHA-256 of the ZIP (DA/T 70 GD-1-14)"),
    ] = "",
) -> JSONResponse:
    declared = declared_digest(x_package_sha256)
    limit = _limit(inst)
    declared_length = request.headers.get("content-length", "")
    if declared_length.isdigit() and int(declared_length) > limit:
        raise UploadTooLarge(f"upload: Content-Length {declared_length} is over the limit of {limit} bytes")
    writer = UploadWriter(inst.settings.staging_dir / "uploads", limit)
    try:
        async for chunk in request.stream():
            writer.write(chunk)
        staged = writer.finish()
        record_upload(
            inst,
            writer.id,
            staged,
            submitted_by=who.token_id,
            filename=safe_filename(filename),
            declared=declared,
            now=dt.datetime.now(dt.UTC),
        )
    except BaseException:
        writer.abort()
        raise
    await request.app.state.dispatcher.submit(writer.id)
    status_url = f"/api/v1/submissions/{writer.id}"
    body: dict[str, Any] = {
        "submission_id": writer.id,
        "status": "queued",
        "size": staged.size,
        "sha256": staged.sha256,
        "status_url": status_url,
    }
    return JSONResponse(body, status_code=202, headers={"Location": status_url})


def _visible(upload: Upload | None, who: Principal) -> Upload:
    if upload is None or (who.role == "submitter" and upload.submitted_by != who.token_id):
        raise UploadNotFound("submission: no such submission")  # the same answer for someone else's
    return upload


@router.get("/{submission_id}", summary="Status of a submission; the ingest's answer once it has one")
def status(submission_id: str, inst: Inst, who: Submitter) -> dict[str, Any]:
    try:
        with inst.sessions() as session:
            return upload_view(_visible(session.get(Upload, submission_id), who))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"submission status: {type(exc).__name__}") from exc


@router.get("", summary="Recent submissions (a submitter's own)")
def recent(inst: Inst, who: Submitter, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    query = select(Upload).order_by(Upload.received_at.desc()).limit(limit)
    if who.role == "submitter":
        query = query.where(Upload.submitted_by == who.token_id)
    try:
        with inst.sessions() as session:
            items = [upload_view(u) | {"result": None} for u in session.scalars(query)]
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"submissions: {type(exc).__name__}") from exc
    return {"items": items}
