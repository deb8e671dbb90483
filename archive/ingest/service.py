"""The ingest service: one orchestrator that owns the transaction.

Steps, each with typed inputs and outputs:

1. ``stage``     source path → :class:`StagedPackage` (intake: safe copy + SHA-256/SM3 in one pass)
2. ``validate``  staged package → :class:`ValidationReport` (XSD + court profile rules)
3. ``decide``    report + catalog → archive id, or a duplicate/idempotent outcome (DA/T 70 GD-1-8)
4. ``write``     blobs (content-addressed, idempotent; the filesystem store takes staged files over
                 without a second copy) + manifest + original metadata → object store
5. ``commit``    ONE database transaction: blob, dossier, document, event and submission rows, the
                 ``dossier.archived`` ledger leaf and a signed checkpoint covering it

Objects are written before the commit; their keys depend only on content (blobs) or on the
deterministic archive id and manifest (AIP files), so a crash between 4 and 5 leaves only
unreferenced objects that a retry reuses and reconciliation reports. Staging is always removed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from archive.catalog import queries
from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import Blob, Document, Dossier, Event, Submission
from archive.ingest.detection import detect_gd, rejection_problems
from archive.ingest.manifest import Manifest, archive_id_for, build_manifest, inventory_digest
from archive.ingest.outcome import IngestOutcome, Receipt
from archive.ingest.rejections import problem_from_error
from archive.ingest.retention import retain_until
from archive.intake import open_package
from archive.settings import Settings
from archive.stores import ObjectStore
from archive.stores.keys import aip_file_key, blob_key, manifest_key
from integrity import events
from integrity.checks.model import DetectionReport
from integrity.ledger.publication import CheckpointPublisher
from integrity.ledger.store import LedgerStore
from integrity.reports.store import save_report
from integrity.signed_note import NoteSigner
from standards.court_package import CATALOG_FILE, DESCRIPTION_FILE, metadata_path
from standards.errors import BadInput
from standards.package import StagedFile, StagedPackage
from standards.problems import Problem
from standards.validation import ValidationReport, validate_court_package

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
AIP_VERSION = 1


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Accepted:
    """A validated package that is not archived yet: everything the write and commit steps need."""

    staged: StagedPackage
    report: ValidationReport
    archive_id: str
    package_digest: str
    manifest: Manifest


class IngestService:
    """Archives court packages. One instance per process; safe to call ``ingest`` repeatedly."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[Session],
        write_sessions: sessionmaker[Session] | None = None,
        store: ObjectStore,
        signers: Sequence[NoteSigner],
        publisher: CheckpointPublisher | None = None,
        clock: Clock = utcnow,
        actor: str = "edossier",
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        # Transactions that write begin as writers (SQLite: BEGIN IMMEDIATE) so two ingests queue
        # instead of failing when a read transaction would have to become a write transaction.
        self.write_sessions = write_sessions or sessions
        self.store = store
        if not signers:
            raise ValueError("IngestService needs at least one checkpoint signer")
        self.signers = list(signers)
        self.publisher = publisher
        self.clock = clock
        self.actor = actor
        self.ledger = LedgerStore()

    # ------------------------------------------------------------------ orchestrator
    def ingest(self, source: Path, *, declared_sha256: str | None = None) -> IngestOutcome:
        """Archive the package at ``source`` (ZIP file or folder) or say precisely why not.

        ``declared_sha256`` is the package digest the sender computed before sending (DA/T 70
        GD-1-14): of the ZIP file's bytes, or of a folder's sorted ``path\tsize\tsha256`` lines.
        Without it GD-1-14 is not_run; with a different digest the package is rejected.

        Raises:
            StorageUnavailable: the object store or the database cannot be reached (nothing is
                recorded as archived; retry later).
        """
        try:
            return self._ingest(source, declared_sha256)
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as error:
            log.warning("database unavailable during ingest of %s: %s", source, error)
            raise DatabaseUnavailable(f"database unavailable during ingest: {error.orig}") from None

    def _ingest(self, source: Path, declared_sha256: str | None = None) -> IngestOutcome:
        submission_id = str(uuid.uuid4())
        received_at = self.clock()
        try:
            staged = self.stage(source)
        except BadInput as error:
            log.info("submission %s refused while opening %s: %s", submission_id, source, error)
            problem = problem_from_error(error)
            return self._record_rejection(
                submission_id, received_at, source, "unreadable", "", [problem], None
            )
        flusher = self._flush_in_background(staged)
        try:
            validation = self.validate(staged)
            package_digest = inventory_digest(staged.files)
            case_number = validation.description.case_number if validation.description else None
            decided: Accepted | IngestOutcome | None = None
            if not validation.problems and validation.description is not None:
                decided = self.decide(staged, validation, package_digest)
                if isinstance(decided, IngestOutcome) and decided.status == "already_archived":
                    return self._record_decision(decided, received_at, source, staged)
            detection = self.detect(staged, validation, case_number, decided, declared_sha256)
            problems = rejection_problems(
                validation.problems, detection, decided.errors if isinstance(decided, IngestOutcome) else ()
            )
            if not isinstance(decided, Accepted) or problems or not detection.passed:
                return self._record_rejection(
                    submission_id,
                    received_at,
                    source,
                    staged.source_kind,
                    staged.source_digest,
                    problems,
                    case_number,
                    detection,
                )
            self.write(decided)
            return self.commit(decided, submission_id, received_at, source, detection)
        finally:
            if flusher is not None:
                flusher.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(staged.root, ignore_errors=True)

    # ------------------------------------------------------------------ steps
    def stage(self, source: Path) -> StagedPackage:
        """Step 1: copy the submission into staging while hashing it (never touching the input)."""
        self.settings.staging_dir.mkdir(parents=True, exist_ok=True)
        return open_package(
            source,
            self.settings.staging_dir,
            limits=self.settings.limits,
            algorithms=self.settings.digest_algorithms,
            workers=self.settings.ingest_workers,
        )

    def validate(self, staged: StagedPackage) -> ValidationReport:
        """Step 2: XSD validation and the court profile rules (every problem, not the first)."""
        return validate_court_package(staged, limits=self.settings.limits, today=self.clock().date())

    def decide(
        self, staged: StagedPackage, report: ValidationReport, package_digest: str
    ) -> Accepted | IngestOutcome:
        """Step 3: new dossier, identical re-submission, or a different package for an archived 案号."""
        assert report.description is not None
        case_number = report.description.case_number
        with self._session() as session:
            existing = queries.find_dossier(session, case_number)
            if existing is not None:
                return self._duplicate_outcome(existing, package_digest, case_number)
        archive_id = archive_id_for(case_number, package_digest)
        manifest = build_manifest(
            archive_id=archive_id,
            version=AIP_VERSION,
            description=report.description,
            entries=report.entries,
            files=staged.files,
            package_digest=package_digest,
        )
        return Accepted(staged, report, archive_id, package_digest, manifest)

    def detect(
        self,
        staged: StagedPackage,
        validation: ValidationReport,
        case_number: str | None,
        decided: Accepted | IngestOutcome | None,
        declared_sha256: str | None = None,
    ) -> DetectionReport:
        """Step 3b: DA/T 70 GD stage (every stage-item); the catalog facts come from a real read."""
        known: dict[str, Any] = {
            "actor": self.actor,
            "transport": "local",  # the CLI reads a path on this machine; the HTTP API will say https
            "audit_logged": True,  # every submission is recorded; archiving appends a ledger leaf
        }
        if declared_sha256:  # GD-1-14: the sender's digest before sending vs ours on receipt
            known["package_digest_before"] = declared_sha256.strip().lower()
            known["package_digest_after"] = staged.source_digest
        if case_number is not None:
            with self._session() as session:
                existing = queries.find_dossier(session, case_number)
            known["catalog_readable"] = True
            known["catalog_detail"] = "dossiers 表按案号查询成功"
            known["duplicate_archives"] = [existing.archive_id] if existing is not None else []
        return detect_gd(staged, validation, self.settings, now=self.clock(), known=known)

    def write(self, accepted: Accepted) -> None:
        """Step 4: blobs, then the manifest and the original 说明文件/目录文件 beside it.

        Blobs are written on ``ingest_workers`` threads (I/O and hashing release the GIL).
        """
        assert accepted.report.description is not None
        until = retain_until(accepted.report.description.retention, self.clock(), self.settings.retention)
        staged = accepted.staged

        def put_blob(f: StagedFile) -> None:
            self.store.adopt_file(
                blob_key(f.digests["sha256"]),
                staged.local_path(f.path),
                sha256=f.digests["sha256"],
                size=f.size,
                retain_until=until,
            )

        unique: dict[str, StagedFile] = {}
        for f in staged.files:
            unique.setdefault(f.digests["sha256"], f)
        biggest_first = sorted(unique.values(), key=lambda f: -f.size)  # keeps both workers busy to the end
        with ThreadPoolExecutor(max_workers=self.settings.ingest_workers) as pool:
            for future in [pool.submit(put_blob, f) for f in biggest_first]:
                future.result()
        for name in (DESCRIPTION_FILE, CATALOG_FILE):
            self.store.put_bytes(
                aip_file_key(accepted.archive_id, AIP_VERSION, name),
                staged.read_bytes(name),
                retain_until=until,
                content_type="application/xml",
            )
        self.store.put_bytes(
            manifest_key(accepted.archive_id, AIP_VERSION),
            accepted.manifest.data,
            retain_until=until,
            content_type="application/json",
        )

    def commit(
        self,
        accepted: Accepted,
        submission_id: str,
        received_at: dt.datetime,
        source: Path,
        detection: DetectionReport | None = None,
    ) -> IngestOutcome:
        """Step 5: catalog rows, ledger leaf and checkpoint in one transaction."""
        description = accepted.report.description
        assert description is not None
        now = self.clock()
        staged = accepted.staged
        try:
            with self._session(write=True) as session, session.begin():
                known = queries.known_blobs(session, [f.digests["sha256"] for f in staged.files])
                for f in staged.files:
                    sha = f.digests["sha256"]
                    if sha in known:
                        continue
                    known.add(sha)
                    session.add(
                        Blob(
                            sha256=sha,
                            sm3=f.digests.get("sm3", ""),
                            size=f.size,
                            store_key=blob_key(sha),
                            created_at=now,
                        )
                    )
                session.flush()
                leaf_event = events.dossier_archived(
                    archive_id=accepted.archive_id,
                    case_number=description.case_number,
                    manifest_sha256_hex=accepted.manifest.sha256,
                    package_digest_hex=accepted.package_digest,
                    archived_at=now,
                    document_count=len(accepted.report.entries),
                    total_bytes=sum(e.file_size for e in accepted.report.entries),
                )
                leaf = self.ledger.append(session, leaf_event, now)
                dossier = self._dossier_row(accepted, now, leaf.index)
                session.add(dossier)
                session.flush()
                for entry in accepted.report.entries:
                    meta = staged.get(metadata_path(entry.sequence))
                    assert meta is not None
                    session.add(
                        Document(
                            archive_id=accepted.archive_id,
                            sequence=entry.sequence,
                            archival_code=entry.archival_code,
                            title=entry.title,
                            author=entry.author,
                            date=entry.date,
                            retention=entry.retention,
                            classification=entry.classification,
                            pages=entry.pages,
                            volume=entry.volume,
                            origin=entry.origin,
                            paper_location=entry.paper_location,
                            file_path=entry.file_path,
                            file_size=entry.file_size,
                            format=entry.format,
                            sha256=entry.sha256,
                            sm3=entry.sm3,
                            metadata_sha256=meta.digests["sha256"],
                        )
                    )
                session.add(
                    Event(
                        kind="dossier.archived",
                        archive_id=accepted.archive_id,
                        actor=self.actor,
                        created_at=now,
                        payload_json=json.dumps(leaf_event, ensure_ascii=False),
                        leaf_index=leaf.index,
                    )
                )
                session.add(
                    Submission(
                        id=submission_id,
                        received_at=received_at,
                        source_name=source.name,
                        source_kind=staged.source_kind,
                        source_digest=staged.source_digest,
                        status="archived",
                        case_number=description.case_number,
                        archive_id=accepted.archive_id,
                        problems_json="[]",
                    )
                )
                note = self.ledger.sign_checkpoint(session, self.signers, self.settings.ledger_origin, now)
                checkpoint = self.ledger.latest_checkpoint(session)
                report_id = (
                    save_report(
                        session,
                        dataclasses.replace(detection, ledger_position=leaf.index),
                        case_number=description.case_number,
                        archive_id=accepted.archive_id,
                        submission_id=submission_id,
                    )
                    if detection is not None
                    else None
                )
        except sa_exc.IntegrityError:
            # Another ingest of the same 案号 committed first: answer as if we had come second.
            log.info("concurrent ingest of %s; re-deciding", description.case_number)
            decided = self.decide(staged, accepted.report, accepted.package_digest)
            if isinstance(decided, IngestOutcome):
                return self._record_decision(decided, received_at, source, staged)
            raise
        if self.publisher is not None and checkpoint is not None:
            self.publisher.after_commit(checkpoint)  # timestamp + witnesses, best effort after commit
        return IngestOutcome(
            status="archived",
            submission_id=submission_id,
            archive_id=accepted.archive_id,
            case_number=description.case_number,
            manifest_sha256=accepted.manifest.sha256,
            leaf_index=leaf.index,
            detection=detection,
            report_id=report_id,
            receipt=Receipt(
                leaf_index=leaf.index,
                leaf_hash_hex=leaf.leaf_hash.hex(),
                tree_size=leaf.size,
                root_hex=leaf.root.hex(),
                checkpoint=note,
            ),
        )

    # ------------------------------------------------------------------ helpers
    def _flush_in_background(self, staged: StagedPackage) -> ThreadPoolExecutor | None:
        """Start writing staged files to disk while validation runs (filesystem store only).

        The filesystem store takes staged files over (``adopt_file``) and must fsync them before
        publishing; starting the fsyncs now overlaps the disk writes with the CPU-bound validation,
        so the publish step finds them already durable. Errors are left to the store's own fsync.
        """
        if self.store.name != "fs":
            return None
        pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="staging-fsync")
        for f in sorted(staged.files, key=lambda f: -f.size):
            pool.submit(_fsync_quietly, staged.local_path(f.path))
        return pool

    def _session(self, *, write: bool = False) -> Session:
        try:
            return (self.write_sessions if write else self.sessions)()
        except sa_exc.OperationalError as error:  # pragma: no cover - engines connect lazily
            raise DatabaseUnavailable(f"cannot open a database session: {error.orig}") from None

    def _dossier_row(self, accepted: Accepted, now: dt.datetime, leaf_index: int) -> Dossier:
        d = accepted.report.description
        assert d is not None
        return Dossier(
            archive_id=accepted.archive_id,
            case_number=d.case_number,
            court_name=d.court_name,
            case_type=d.case_type,
            year=d.year,
            closing_date=d.closing_date,
            department=d.department,
            judge=d.judge,
            fonds_code=d.fonds_code,
            retention=d.retention,
            document_count=len(accepted.report.entries),
            total_bytes=sum(e.file_size for e in accepted.report.entries),
            manifest_key=manifest_key(accepted.archive_id, AIP_VERSION),
            manifest_sha256=accepted.manifest.sha256,
            package_digest=accepted.package_digest,
            archived_at=now,
            leaf_index=leaf_index,
        )

    def _duplicate_outcome(self, existing: Dossier, package_digest: str, case_number: str) -> IngestOutcome:
        if existing.package_digest == package_digest:
            return IngestOutcome(
                status="already_archived",
                submission_id="",
                archive_id=existing.archive_id,
                case_number=case_number,
                manifest_sha256=existing.manifest_sha256,
                leaf_index=existing.leaf_index,
            )
        problem = Problem(
            code="case_already_archived",
            item="GD-1-8",
            path=DESCRIPTION_FILE,
            line=None,
            message=(
                f"案号 {case_number} 已归档（档案标识 {existing.archive_id}），本次提交的内容与已归档内容不同，"
                "不得重复归档；如需更正请走元数据修改流程"
            ),
        )
        return IngestOutcome(
            status="rejected",
            submission_id="",
            archive_id=existing.archive_id,
            case_number=case_number,
            errors=(problem,),
        )

    def _record_decision(
        self, outcome: IngestOutcome, received_at: dt.datetime, source: Path, staged: StagedPackage
    ) -> IngestOutcome:
        submission_id = str(uuid.uuid4())
        self._add_submission(
            Submission(
                id=submission_id,
                received_at=received_at,
                source_name=source.name,
                source_kind=staged.source_kind,
                source_digest=staged.source_digest,
                status=outcome.status,
                case_number=outcome.case_number,
                archive_id=outcome.archive_id,
                problems_json=_problems_json(outcome.errors),
            )
        )
        return IngestOutcome(
            status=outcome.status,
            submission_id=submission_id,
            archive_id=outcome.archive_id,
            case_number=outcome.case_number,
            manifest_sha256=outcome.manifest_sha256,
            leaf_index=outcome.leaf_index,
            errors=outcome.errors,
        )

    def _record_rejection(
        self,
        submission_id: str,
        received_at: dt.datetime,
        source: Path,
        kind: str,
        digest: str,
        problems: Sequence[Problem],
        case_number: str | None,
        detection: DetectionReport | None = None,
    ) -> IngestOutcome:
        report_id = self._add_submission(
            Submission(
                id=submission_id,
                received_at=received_at,
                source_name=source.name[:512],
                source_kind=kind,
                source_digest=digest,
                status="rejected",
                case_number=case_number,
                archive_id=None,
                problems_json=_problems_json(problems),
            ),
            detection,
        )
        return IngestOutcome(
            status="rejected",
            submission_id=submission_id,
            case_number=case_number,
            errors=tuple(problems),
            detection=detection,
            report_id=report_id,
        )

    def _add_submission(self, row: Submission, detection: DetectionReport | None = None) -> str | None:
        """Record a submission (and its detection report, in the same transaction); the report id."""
        try:
            with self._session(write=True) as session, session.begin():
                session.add(row)
                if detection is None:
                    return None
                return save_report(session, detection, case_number=row.case_number, submission_id=row.id)
        except sa_exc.OperationalError as error:
            raise DatabaseUnavailable(f"cannot record the submission: {error.orig}") from None


def _fsync_quietly(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _problems_json(problems: Sequence[Problem]) -> str:
    return json.dumps([p.as_dict() for p in problems], ensure_ascii=False)
