"""Serve a document for use (利用): check the policy, log the access in the ledger, stream verified bytes.

:func:`open_document` is the one service that owns the access transaction. In order:

1. read the document, its blob and the 案号 from the catalog (a read session);
2. decide the request with :mod:`archive.access.policy` (a refusal raises and writes nothing);
3. in one write transaction append ``dossier.accessed`` (who, how, why, which 顺序号) and sign a
   checkpoint over it — so the access is on record *before* a byte is served; after the commit the
   checkpoint is published (timestamp, witnesses) best effort;
4. return the metadata and a generator that opens the object lazily and yields it through
   :func:`archive.access.verify.verified_chunks` (the last chunk only after the digest matched).

When the generator raises, the caller (the HTTP layer) stops the response and calls
:func:`report_mismatch`, which raises the alert and never raises itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.access.errors import DocumentNotFound
from archive.access.incidents import access_alert
from archive.access.policy import MAX_PURPOSE_CHARS, AccessRequest, decide, refusal
from archive.access.verify import DEFAULT_CHUNK, verified_chunks
from archive.catalog.models import Blob, Document, Dossier
from archive.stores import ObjectStore, StoreUnavailable
from integrity.alerts.factory import dispatcher_from_settings
from integrity.ledger.events_api import dossier_accessed
from integrity.ledger.store import AppendedLeaf, LedgerStore, StoredCheckpoint
from standards.errors import EdossierError, StorageError, StorageUnavailable

if TYPE_CHECKING:
    from api.wiring import Installation

log = logging.getLogger(__name__)

#: Written as ``purpose`` in the ledger when a 正卷 access gives none (the event requires the field).
PURPOSE_NOT_GIVEN = "未填写"


@dataclass(frozen=True)
class DocumentInfo:
    """What the catalog says about one document and the blob holding its content."""

    archive_id: str
    case_number: str
    sequence: int
    archival_code: str
    title: str
    volume: str
    classification: str
    file_path: str
    format: str
    sha256: str
    sm3: str
    size: int
    store_key: str

    @property
    def subject(self) -> str:
        """How archivists name the document: ``<案号> 第<顺序号>件``."""
        return f"{self.case_number} 第{self.sequence}件"


@dataclass(frozen=True)
class OpenedDocument:
    """A logged access: the document, the ``dossier.accessed`` leaf, the signed checkpoint and the bytes.

    ``chunks`` reads the object opened before the access was logged and closes it when exhausted or
    closed; it raises :class:`~archive.access.errors.AccessDigestMismatch` before its last chunk when the stored
    bytes differ from the catalog, and ``ObjectNotFound`` / ``StoreUnavailable`` when the store fails.
    """

    document: DocumentInfo
    purpose: str | None
    leaf_index: int
    checkpoint: str
    chunks: Iterator[bytes]


@contextmanager
def _db_errors(action: str) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        raise StorageUnavailable(
            f"access {action}: database unavailable ({type(exc.orig).__name__})"
        ) from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"access {action}: database error ({type(exc).__name__})") from exc


def find_document(session: Session, archive_id: str, sequence: int) -> DocumentInfo | None:
    """The document ``sequence`` (顺序号) of dossier ``archive_id`` with its blob, or ``None``.

    Raises:
        StorageError, StorageUnavailable: the database failed.
    """
    stmt = (
        select(Document, Blob.store_key, Blob.size, Dossier.case_number)
        .join(Blob, Blob.sha256 == Document.sha256)
        .join(Dossier, Dossier.archive_id == Document.archive_id)
        .where(Document.archive_id == archive_id, Document.sequence == sequence)
    )
    with _db_errors("find document"):
        row = session.execute(stmt).one_or_none()
    if row is None:
        return None
    doc, store_key, size, case_number = row
    return DocumentInfo(
        archive_id=doc.archive_id,
        case_number=case_number,
        sequence=doc.sequence,
        archival_code=doc.archival_code,
        title=doc.title,
        volume=doc.volume,
        classification=doc.classification,
        file_path=doc.file_path,
        format=doc.format,
        sha256=doc.sha256,
        sm3=doc.sm3,
        size=int(size),
        store_key=store_key,
    )


class _VerifiedStream:
    """The verified bytes of an object opened before the response starts; ``close`` releases it.

    The object is opened by :func:`_open_object` before the access is logged, so an outage or a
    missing object is an error the caller can answer (HTTP 503/404) instead of a broken body after
    ``200``. Closing works whether or not iteration started (a generator never started would not run
    its ``finally``, and the connection would stay open).
    """

    def __init__(self, stack: ExitStack, reader: BinaryIO, info: DocumentInfo, chunk_size: int) -> None:
        self._stack = stack
        self._info = info
        self._chunks = verified_chunks(reader, info.sha256, info.size, chunk_size, key=info.store_key)

    def __iter__(self) -> _VerifiedStream:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except (StopIteration, EdossierError):
            self.close()
            raise
        except Exception as exc:  # a backend read failing mid-stream (reset, timeout, protocol error)
            self.close()
            raise StoreUnavailable(
                f"object {self._info.store_key!r}: reading failed mid-stream ({type(exc).__name__})",
                path=self._info.store_key,
            ) from exc

    def close(self) -> None:
        self._stack.close()


def _open_object(store: ObjectStore, info: DocumentInfo) -> tuple[ExitStack, BinaryIO]:
    """Open the document's object now (raises ``StorageError`` subclasses, never a backend type)."""
    stack = ExitStack()
    try:
        return stack, stack.enter_context(store.open(info.store_key))
    except EdossierError:
        stack.close()
        raise
    except Exception as exc:
        stack.close()
        raise StoreUnavailable(
            f"object {info.store_key!r}: opening failed ({type(exc).__name__})", path=info.store_key
        ) from exc


def open_document(
    inst: Installation,
    archive_id: str,
    sequence: int,
    *,
    actor: str,
    role: str,
    purpose: str | None,
    access: str = "download",
    now: dt.datetime | None = None,
    request_id: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    max_purpose_chars: int = MAX_PURPOSE_CHARS,
) -> OpenedDocument:
    """Check, log and open document ``sequence`` of ``archive_id`` for ``actor`` in ``role``.

    ``access`` is how the content is used (``view``, ``download``, ``print`` or ``export``, as in
    the ``dossier.accessed`` event); ``now`` defaults to the current UTC time. The access is
    committed to the ledger and a checkpoint is signed before this returns.

    Raises:
        DocumentNotFound: no such document (or its blob row is missing).
        AccessDenied, PurposeRequired, PurposeTooLong: the policy refused (nothing is written).
        EventFieldInvalid: ``actor`` or ``request_id`` is empty.
        InconsistentCheckpoint, LedgerHeadMismatch, LedgerNodeMissing: the ledger is damaged and
            refuses to record or sign (nothing is served).
        StorageError, StorageUnavailable: the database failed.
        ObjectNotFound, StoreUnavailable: the object cannot be opened (an alert is raised: a missing
            object is an incident, an outage is ``unreachable``); nothing is logged as accessed.
        ValueError: an unknown ``role`` or ``access``, a naive ``now`` or a bad ``chunk_size``.
    """
    if access == "metadata":
        raise ValueError("open_document serves content: access must be view, download, print or export")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be > 0, found {chunk_size}")
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    with inst.sessions() as session:
        info = find_document(session, archive_id, sequence)
    if info is None:
        raise DocumentNotFound(
            f"document: expected archive id {archive_id!r} sequence {sequence} in the catalog, found none",
            path=f"{archive_id}#{sequence}",
        )
    decision = decide(AccessRequest(role, info.volume, purpose, access), max_purpose_chars=max_purpose_chars)
    if not decision.allowed:
        log.warning(
            "access refused: actor=%s role=%s archive_id=%s sequence=%d volume=%s code=%s",
            actor,
            role,
            archive_id,
            sequence,
            info.volume,
            decision.code,
        )
        raise refusal(decision, subject=info.subject)

    # open before logging: an access that cannot be served is not recorded as made, and the caller
    # can still answer with an error status (an outage: 503; a missing object: an incident)
    try:
        stack, reader = _open_object(inst.store, info)
    except StorageError as error:
        report_mismatch(inst, archive_id, info.store_key, error)
        raise
    try:
        leaf, note, checkpoint = _log_access(
            inst, info, archive_id, sequence, access, decision.purpose, moment, actor, request_id, role
        )
    except BaseException:
        stack.close()
        raise
    if checkpoint is not None:
        try:
            inst.publisher.after_commit(checkpoint)
        except Exception:  # publication is best effort after commit (timestamps, witnesses)
            log.exception("access: publishing checkpoint failed")
    log.info(
        "access logged: actor=%s role=%s archive_id=%s sequence=%d access=%s leaf=%d",
        actor,
        role,
        archive_id,
        sequence,
        access,
        leaf.index,
    )
    return OpenedDocument(
        info, decision.purpose, leaf.index, note, _VerifiedStream(stack, reader, info, chunk_size)
    )


def _log_access(
    inst: Installation,
    info: DocumentInfo,
    archive_id: str,
    sequence: int,
    access: str,
    purpose: str | None,
    moment: dt.datetime,
    actor: str,
    request_id: str | None,
    role: str,
) -> tuple[AppendedLeaf, str, StoredCheckpoint | None]:
    """Append ``dossier.accessed`` and sign a checkpoint in one transaction (raises as open_document)."""
    ledger = LedgerStore()
    with _db_errors("record access"), inst.write_sessions() as session, session.begin():
        leaf = dossier_accessed(
            session,
            archive_id,
            access=access,
            purpose=purpose or PURPOSE_NOT_GIVEN,
            now=moment,
            actor=actor,
            documents=[sequence],
            request_id=request_id,
            role=role,
            volume=info.volume,
            ledger=ledger,
        )
        note = ledger.sign_checkpoint(
            session, inst.signers or [inst.signer], inst.settings.ledger_origin, moment
        )
        checkpoint = ledger.latest_checkpoint(session)
    return leaf, note, checkpoint


def report_mismatch(
    inst: Installation, archive_id: str, key: str, error: BaseException, *, now: dt.datetime | None = None
) -> None:
    """Raise the alert for a download of ``key`` that failed with ``error``; never raises.

    A digest mismatch or a missing object is an incident; an outage is an ``unreachable`` alert
    (see :mod:`archive.access.incidents`). Delivery goes through the installation's channels.
    """
    try:
        moment = now if now is not None else dt.datetime.now(dt.UTC)
        link = inst.settings.alerts.evidence_link(archive_id)
        alert = access_alert(archive_id, key, error, moment, evidence_link=link)
        dispatcher = dispatcher_from_settings(
            inst.settings.alerts, inst.settings.data_dir, sessions=inst.write_sessions
        )
        dispatcher.raise_alert(alert)
        dispatcher.flush()
    except Exception:  # alerting is best effort: the response is already stopped
        log.exception("access: raising the alert for %s (%s) failed", key, archive_id)
