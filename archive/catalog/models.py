"""SQLAlchemy 2 models of the catalog and the ledger tables.

The catalog (submissions, dossiers, documents, blobs, events) and the ledger (leaves, tree nodes,
checkpoints) live in one database so that ingest can commit the catalog rows and the
``dossier.archived`` leaf in one transaction. Schema changes go through Alembic
(``archive/migrations``); never ``create_all`` outside tests of the migrations themselves.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops offsets; we store UTC, read UTC).

    Naive datetimes are refused: every time edossier records must say which instant it means.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; pass a timezone-aware time")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Submission(Base):
    """Every package handed to ingest, accepted or not."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4 text
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    source_name: Mapped[str] = mapped_column(String(512))
    source_kind: Mapped[str] = mapped_column(String(16))  # zip | folder
    source_digest: Mapped[str] = mapped_column(String(64), index=True)  # sha256 hex of the package
    status: Mapped[str] = mapped_column(String(32))  # archived | already_archived | rejected
    case_number: Mapped[str | None] = mapped_column(String(64), index=True)
    archive_id: Mapped[str | None] = mapped_column(String(64))
    problems_json: Mapped[str] = mapped_column(Text, default="[]")  # list of {code,item,path,line,message}
    submitted_by: Mapped[str | None] = mapped_column(String(128), index=True)  # API token id; None: CLI


class Dossier(Base):
    """One archived case dossier (an AIP)."""

    __tablename__ = "dossiers"

    archive_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    court_name: Mapped[str] = mapped_column(String(128))
    case_type: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer, index=True)
    closing_date: Mapped[dt.date] = mapped_column(Date)
    department: Mapped[str] = mapped_column(String(128), index=True)
    judge: Mapped[str] = mapped_column(String(64))
    fonds_code: Mapped[str] = mapped_column(String(32))
    retention: Mapped[str] = mapped_column(String(16))
    document_count: Mapped[int] = mapped_column(Integer)
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    manifest_key: Mapped[str] = mapped_column(String(256))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    package_digest: Mapped[str] = mapped_column(String(64))  # inventory digest of the accepted package
    archived_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    leaf_index: Mapped[int] = mapped_column(BigInteger)

    documents: Mapped[list[Document]] = relationship(
        back_populates="dossier", order_by="Document.sequence", cascade="all, delete-orphan"
    )


class Document(Base):
    """One document (one content file) of a dossier, as catalogued in 目录文件."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("archive_id", "sequence", name="uq_documents_archive_sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    archive_id: Mapped[str] = mapped_column(ForeignKey("dossiers.archive_id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    archival_code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(512))
    author: Mapped[str] = mapped_column(String(256))
    date: Mapped[dt.date] = mapped_column(Date)
    retention: Mapped[str] = mapped_column(String(16))
    classification: Mapped[str] = mapped_column(String(16))
    pages: Mapped[int] = mapped_column(Integer)
    volume: Mapped[str] = mapped_column(String(8))  # 正卷 | 副卷
    origin: Mapped[str] = mapped_column(String(16))
    paper_location: Mapped[str | None] = mapped_column(String(256))
    file_path: Mapped[str] = mapped_column(String(512))
    file_size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    sm3: Mapped[str] = mapped_column(String(64))
    metadata_sha256: Mapped[str] = mapped_column(
        ForeignKey("blobs.sha256"), index=True
    )  # the 元数据/<n>.xml blob

    dossier: Mapped[Dossier] = relationship(back_populates="documents")


class Blob(Base):
    """A content-addressed object in the store (``blobs/sha256/ab/cd/<hex>``)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    sm3: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    store_key: Mapped[str] = mapped_column(String(256), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class Event(Base):
    """Operational history (process metadata): what happened to which dossier, when, by whom."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)  # dossier.archived, submission.rejected, ...
    archive_id: Mapped[str | None] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    payload_json: Mapped[str] = mapped_column(Text)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger)  # set when the event is also a ledger leaf


class LedgerLeaf(Base):
    """One leaf of the RFC 9162 log: the canonical JSON event and its leaf hash H(0x00 || data)."""

    __tablename__ = "ledger_leaves"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)  # RFC 8785 canonical JSON bytes
    kind: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LedgerNode(Base):
    """A hash of a complete (perfect) subtree: level 0 = leaf hashes, level k covers 2**k leaves.

    Node (level, index) covers leaves [index * 2**level, (index + 1) * 2**level). Nodes are
    written once, when their subtree completes, so the root of any size and any proof need only
    O(log n) reads.
    """

    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    """The single row holding the current tree size and root; locked (FOR UPDATE) to serialise appends."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class Checkpoint(Base):
    """A signed checkpoint (C2SP tlog-checkpoint body in a C2SP signed note)."""

    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(256))
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)  # the whole signed note text
    key_id: Mapped[str] = mapped_column(String(8))  # hex of the 4-byte key id
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class CheckpointTimestamp(Base):
    """An RFC 3161 time-stamp token over a checkpoint's signed body (the note text before the blank line).

    The token is kept verbatim (DER) so auditors can re-verify it offline; ``gen_time`` and ``serial``
    are copied out of the verified TSTInfo for queries.
    """

    __tablename__ = "checkpoint_timestamps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"), index=True)
    tsa_url: Mapped[str] = mapped_column(String(512))
    token: Mapped[bytes] = mapped_column(LargeBinary)  # DER ContentInfo (RFC 3161 §2.4.2 TimeStampToken)
    gen_time: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    serial: Mapped[str] = mapped_column(String(64))  # TSTInfo serialNumber, decimal (up to 160 bits)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class DetectionReportRow(Base):
    """A stored four-property detection report (DA/T 70-2018 检测报告), one per detection run.

    ``report_json`` is :meth:`integrity.checks.model.DetectionReport.as_dict` as JSON text;
    :mod:`integrity.reports.store` writes and reads it. ``subject`` repeats the report's subject;
    ``case_number``, ``archive_id`` and ``submission_id`` are what the report can be found by.
    """

    __tablename__ = "detection_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4 text
    stage: Mapped[str] = mapped_column(String(2))  # GD | YJ | BC
    subject: Mapped[str] = mapped_column(String(256))
    case_number: Mapped[str | None] = mapped_column(String(64))
    archive_id: Mapped[str | None] = mapped_column(String(64), index=True)
    submission_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    passed: Mapped[bool] = mapped_column(Boolean)
    report_json: Mapped[str] = mapped_column(Text)


class ClosedCase(Base):
    """A closed case reported by the case management system (案件台账), tracked until it is archived.

    ``archive_id`` / ``archived_at`` are copied from the :class:`Dossier` with the same 案号 once one
    exists (no foreign key: a case is reported before, and independently of, its dossier). Overdue
    archiving (结案后逾期未归档) is decided by :func:`archive.cases.is_overdue`; rows are written by
    :func:`archive.cases.import_cases` and linked by :func:`archive.cases.refresh_archived`.
    """

    __tablename__ = "closed_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    court_name: Mapped[str | None] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(128), index=True)  # 承办部门
    judge: Mapped[str] = mapped_column(String(64))  # 承办人
    closing_date: Mapped[dt.date] = mapped_column(Date, index=True)  # 结案日期
    source: Mapped[str] = mapped_column(String(256))  # import file name, or "api"
    reported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())  # first reported
    archive_id: Mapped[str | None] = mapped_column(String(64))
    archived_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class AuditRun(Base):
    """One run of the integrity audit (issue 5): what was checked, the verdict and its ledger leaf.

    ``counts_json`` holds the totals by outcome and check; ``results_sha256`` is the SHA-256 of the
    canonical JSON of every :class:`AuditResult` of the run (named in the ``audit.completed`` leaf at
    ``leaf_index``). Written only by :func:`integrity.audit.runner.run_audit`.
    """

    __tablename__ = "audit_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4 text
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    scope: Mapped[str] = mapped_column(String(16))  # fixity | full | sample | reconcile
    status: Mapped[str] = mapped_column(String(16), index=True)  # running | passed | failed | unreachable
    counts_json: Mapped[str] = mapped_column(Text, default="{}")
    results_sha256: Mapped[str | None] = mapped_column(String(64))
    leaf_index: Mapped[int | None] = mapped_column(BigInteger)
    tool_version: Mapped[str] = mapped_column(String(32))


class AuditResult(Base):
    """The outcome of one check of one object in one audit run, with its evidence.

    ``(run_id, object_key, check)`` is unique, so a resumed run never records a result twice.
    ``check`` is ``fixity``, ``reconcile``, ``ledger`` or a DA/T 70 BC item id; ``outcome`` is
    ``ok``, ``incident`` (evidence of loss or tampering) or ``unreachable`` (an outage, not tampering).
    """

    __tablename__ = "audit_results"
    __table_args__ = (
        UniqueConstraint("run_id", "object_key", "check", name="uq_audit_results_run_key_check"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("audit_runs.id"), index=True)
    object_key: Mapped[str] = mapped_column(String(1024), index=True)
    archive_id: Mapped[str | None] = mapped_column(String(64), index=True)
    check: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # ok | incident | unreachable
    evidence_json: Mapped[str] = mapped_column(Text, default="{}")
    checked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class AuditBatch(Base):
    """One batch of an audit run: the objects one job checks (issue 5, item 2).

    A run is planned as batches (:func:`integrity.audit.batching.plan_batches`); each batch names the
    dossiers whose manifest, AIP files and ledger binding it checks (``archive_ids_json``), the blobs
    whose fixity it checks (``blob_keys_json``; a blob shared by several dossiers is in exactly one
    batch) and the dossiers that get the BC stage (``bc_ids_json``). ``status`` goes from ``pending``
    to ``done`` (or ``unreachable`` when the store was down) exactly once; ``worker`` names who did it.
    Written only by :mod:`integrity.audit.runner`.
    """

    __tablename__ = "audit_batches"

    run_id: Mapped[str] = mapped_column(ForeignKey("audit_runs.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | done | unreachable
    archive_ids_json: Mapped[str] = mapped_column(Text, default="[]")
    blob_keys_json: Mapped[str] = mapped_column(Text, default="[]")
    bc_ids_json: Mapped[str] = mapped_column(Text, default="[]")
    objects: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(128))
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class ApiToken(Base):
    """An API token (issue 6): shown once when created, stored as the SHA-256 of its secret part.

    The token text is ``edt_<id>_<secret>``; ``id`` is public (logs, audit trails), the secret is
    32 random bytes. ``role`` is submitter | archivist | auditor | admin. A token is usable while
    ``revoked_at`` is empty and ``expires_at`` is empty or in the future. Written by :mod:`archive.tokens`.
    """

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class Upload(Base):
    """A package received over HTTP (issue 6, item 5), from the upload to the ingest's answer.

    ``status``: ``queued`` (bytes staged, waiting for a worker), ``processing``, ``done`` (the ingest
    answered: archived, already archived or rejected — ``result_json`` is the ``ingest --json``
    object) or ``failed`` (an outage; ``error`` says why, the job is retried). ``path`` is the staged
    ZIP, removed once the ingest answered. Written by :mod:`archive.uploads`.
    """

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4 text: the submission id given out
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    submitted_by: Mapped[str] = mapped_column(String(128), index=True)  # token id
    filename: Mapped[str] = mapped_column(String(256))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16), index=True)
    result_json: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class Alert(Base):
    """An alert the dispatcher raised (issue 6), kept for the archivists' dashboard until acknowledged.

    One row per raised alert, except that a repeat of an alert still open (same ``dedupe_key``, not
    acknowledged) is not added again. ``details_json`` is the alert's ``details`` as a JSON object;
    ``acknowledged_by`` is the API token id of who acknowledged it. Written by
    :mod:`integrity.alerts.catalog`; delivery to channels is the dispatcher's (:mod:`integrity.alerts`).
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # integrity.alerts.model.AlertKind
    severity: Mapped[str] = mapped_column(String(16))  # critical | warning | info
    subject: Mapped[str] = mapped_column(String(1024))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    evidence_link: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(1024), index=True)
    details_json: Mapped[str] = mapped_column(Text, default="{}")
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
