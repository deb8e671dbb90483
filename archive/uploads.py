"""Packages received over HTTP: staged while they stream in (limits enforced as bytes arrive), then ingested.

:class:`UploadWriter` writes the request body to ``staging/uploads/<id>.zip`` chunk by chunk,
hashing as it goes, and refuses the upload the moment it passes the limit (nothing half-written
stays behind). :func:`record_upload` and :func:`process_upload` are the service around it: the
second runs the same ingest as ``edossier ingest`` (a job on PostgreSQL, an in-process thread on
SQLite), stores its ``--json`` answer and removes the staged file. The same package sent twice gets
the same answer, because ingest recognises an archived package by its digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import Submission, Upload
from standards.errors import BadInput, StorageUnavailable

if TYPE_CHECKING:
    from api.wiring import Installation

log = logging.getLogger(__name__)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


class UploadTooLarge(BadInput):
    """The body passed the upload limit while it streamed in (HTTP 413)."""

    code = "request_too_large"


class UploadNotFound(BadInput):
    """No upload has this id (or the caller may not see it)."""

    code = "submission_not_found"


class DeclaredDigestInvalid(BadInput):
    """The sender's digest header is not 64 hex digits."""

    code = "declared_digest_invalid"


@dataclass(frozen=True)
class StagedFile:
    path: Path
    size: int
    sha256: str


def declared_digest(value: str | None) -> str | None:
    """The sender's package SHA-256 (lower-case hex) or ``None``.

    Raises:
        DeclaredDigestInvalid: not 64 hex digits.
    """
    if value is None or not value.strip():
        return None
    digest = value.strip().lower()
    if not _HEX64.fullmatch(digest):
        raise DeclaredDigestInvalid("X-Package-SHA256: expected 64 hex digits")
    return digest


def safe_filename(name: str | None) -> str:
    """A display name for the upload (never used as a path)."""
    cleaned = _SAFE_NAME.sub("_", (name or "package.zip").strip())[:200]
    return cleaned or "package.zip"


class UploadWriter:
    """Writes one upload to ``folder/<id>.zip``, hashing, and stops at ``limit`` bytes."""

    def __init__(self, folder: Path, limit: int, upload_id: str | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.id = upload_id or str(uuid.uuid4())
        self.limit = limit
        self.path = folder / f"{self.id}.zip"
        self.size = 0
        self._hash = hashlib.sha256()
        self._file = self.path.open("xb")

    def write(self, chunk: bytes) -> None:
        """Append a chunk.

        Raises:
            UploadTooLarge: the upload passed the limit (the partial file is removed).
        """
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise UploadTooLarge(f"upload: larger than the limit of {self.limit} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> StagedFile:
        """Flush to disk and close; the staged file."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return StagedFile(self.path, self.size, self._hash.hexdigest())

    def abort(self) -> None:
        """Close and remove the partial file (idempotent)."""
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


def record_upload(
    inst: Installation,
    upload_id: str,
    staged: StagedFile,
    *,
    submitted_by: str,
    filename: str,
    declared: str | None,
    now: dt.datetime,
) -> None:
    """Commit the upload row (status ``queued``).

    Raises:
        DatabaseUnavailable: the database failed (the caller removes the staged file).
    """
    try:
        with inst.write_sessions() as session, session.begin():
            session.add(
                Upload(
                    id=upload_id,
                    received_at=now,
                    submitted_by=submitted_by,
                    filename=filename,
                    size=staged.size,
                    sha256=staged.sha256,
                    declared_sha256=declared,
                    path=str(staged.path),
                    status="queued",
                )
            )
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"recording the upload: {type(exc).__name__}") from exc


def _set(inst: Installation, upload_id: str, **values: Any) -> None:
    with inst.write_sessions() as session, session.begin():
        session.execute(update(Upload).where(Upload.id == upload_id).values(**values))


def process_upload(inst: Installation, upload_id: str) -> dict[str, Any] | None:
    """Ingest a staged upload and store the answer; the ``ingest --json`` object (``None``: nothing to do).

    An upload already answered is left alone. An outage marks it ``failed`` and is raised again, so
    the job engine retries; the staged file is kept for that.

    Raises:
        StorageUnavailable: the store or database is down.
    """
    with inst.sessions() as session:
        upload = session.get(Upload, upload_id)
        if upload is None or upload.status == "done":
            return None
        path, declared, who = Path(upload.path), upload.declared_sha256, upload.submitted_by
    _set(inst, upload_id, status="processing", error=None)
    try:
        outcome = inst.ingest_service(actor=f"api:{who}").ingest(path, declared_sha256=declared)
    except StorageUnavailable as error:
        _set(inst, upload_id, status="failed", error=f"{error.code}: {error.message}")
        raise
    result = outcome.as_json()
    with inst.write_sessions() as session, session.begin():
        session.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(
                status="done",
                result_json=json.dumps(result, ensure_ascii=False),
                finished_at=dt.datetime.now(dt.UTC),
            )
        )
        session.execute(
            update(Submission).where(Submission.id == outcome.submission_id).values(submitted_by=who)
        )
    path.unlink(missing_ok=True)
    log.info("upload %s: %s %s", upload_id, outcome.status, outcome.archive_id or "")
    return result


def upload_view(upload: Upload) -> dict[str, Any]:
    """The JSON a submitter sees about an upload (the ingest answer once there is one).

    ``status`` is ``queued``, ``processing``, ``failed`` (retried) or, once answered, the ingest's
    own: ``archived``, ``already_archived`` or ``rejected`` (then ``result`` holds every problem).
    """
    result = json.loads(upload.result_json) if upload.result_json else None
    return {
        "submission_id": upload.id,
        "status": result["status"] if result else upload.status,
        "received_at": upload.received_at.isoformat(),
        "filename": upload.filename,
        "size": upload.size,
        "sha256": upload.sha256,
        "result": result,
        "error": upload.error,
    }
