"""The audit runner: a run is planned as batches, each batch is checked by one job, then the run is closed.

The one service that owns an audit's transactions (issue 5, items 2, 3, 5, 6). Three steps, each
callable on its own so the job engine (:mod:`api.jobs`) can spread them over workers, and
:func:`run_audit` chains them in-process (the embedded SQLite default, ``edossier audit run``):

1. :func:`start_run` creates an :class:`AuditRun` (status ``running``) and its
   :class:`AuditBatch` rows from the catalog (:func:`integrity.audit.batching.plan_batches`: every
   object in exactly one batch) in one transaction;
2. :func:`run_batch` checks one batch: per dossier the manifest against the catalog and its
   ``dossier.archived`` leaf (:mod:`integrity.audit.ledger_check`), then streams every blob, AIP
   manifest and 说明文件/目录文件 through :func:`integrity.audit.fixity.check_fixity` (threads with
   ``workers > 1``; hashlib releases the GIL), then with scope ``full`` the DA/T 70 BC stage
   (:mod:`integrity.audit.bc_stage`). Results are committed every ``batch_size`` results and the
   batch is marked done last, so a worker killed mid-batch loses nothing: the batch runs again,
   skips what is recorded, and ``(run_id, object_key, check)`` being unique keeps any result from
   being recorded twice. A batch already done is never run again;
3. :func:`finish_run`, once no batch is pending, verifies the whole ledger, reconciles the store
   (:func:`archive.reconcile.reconcile`), appends ``audit.completed`` (scope, counts, SHA-256 of the
   canonical JSON of all results) and signs a checkpoint in one transaction, publishes it after
   commit, and raises alerts (best effort). Finishing a finished run changes nothing.

Classify, don't cry wolf: a store that cannot be reached makes the batch (and the run)
``unreachable`` and records no incident for the objects it could not read; each of them (and each
dossier whose ledger binding was not checked) is recorded ``unreachable``, so the run says exactly
what it did not verify (issue 7, item 5).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.models import AuditBatch, AuditRun, Blob, Document, Dossier
from archive.reconcile import aip_keys, reconcile
from archive.stores.base import ObjectStore
from archive.stores.errors import StoreError, StoreUnavailable
from integrity.audit.alerting import alerts_for, raise_alerts
from integrity.audit.batching import OBJECTS_PER_BATCH, PlannedBatch, limits_for_workers, plan_batches
from integrity.audit.bc_stage import bc_results
from integrity.audit.fixity import ExpectedFixity, FixityResult, check_fixity
from integrity.audit.ledger_check import aip_file_expectations, check_dossier, check_whole_ledger
from integrity.audit.policy import AuditPolicy, throttle_delay
from integrity.audit.recorder import (
    IN_CHUNK,
    Recorder,
    all_recorded_keys,
    db_error,
    recorded_keys,
    result_from_row,
    stored_results,
)
from integrity.audit.results import (
    ASSEMBLE_CHECK,
    RECONCILE_KEY,
    STORE_KEY,
    AuditSummary,
    CheckResult,
    RunStatus,
    count_results,
    decide_status,
    from_findings,
    from_fixity,
    from_ledger,
    results_digest,
)
from integrity.checks.registry import items_for
from integrity.ledger.events_api import audit_completed
from integrity.ledger.rotation import load_known_verifiers
from integrity.ledger.store import LedgerStore, StoredCheckpoint
from integrity.reports.header import installed_version
from standards.errors import BadInput, StorageError, StorageUnavailable, VerificationFailed

if TYPE_CHECKING:
    from api.wiring import Installation
    from archive.settings import Settings

__all__ = [
    "ASSEMBLE_CHECK",
    "SCOPES",
    "AuditSummary",
    "CheckResult",
    "alerts_for",
    "complete_run",
    "finish_run",
    "result_from_row",
    "results_digest",
    "run_audit",
    "run_batch",
    "start_run",
]

log = logging.getLogger(__name__)

#: Scopes a person starts (``full`` adds the DA/T 70 BC stage); ``scheduled`` runs are planned by
#: :func:`integrity.audit.scheduled.start_due_run` from the policy.
SCOPES = ("fixity", "full")
PLANNED_SCOPES = (*SCOPES, "scheduled")
BATCH_SIZE = 200
ACTOR = "audit"
#: ``audit.completed`` result word for each run status.
LEDGER_RESULT = {"passed": "pass", "failed": "fail", "unreachable": "incomplete"}


class AuditRunNotFound(BadInput):
    """``resume`` (or a job) names no audit run."""

    code = "audit_run_not_found"


class AuditDossierNotFound(BadInput):
    """``dossiers`` names an archive id the catalog does not hold."""

    code = "audit_dossier_not_found"


class AuditRunFinished(BadInput):
    """``resume`` names an audit run that has already finished (a finished run is never changed)."""

    code = "audit_run_finished"


class AuditRunIncomplete(BadInput):
    """A run cannot be finished while some of its batches are still pending."""

    code = "audit_run_incomplete"


@dataclass(frozen=True)
class StartedRun:
    """A planned run: its id and how many batches it has."""

    run_id: str
    batches: int


def worker_name() -> str:
    """Who checks a batch: ``host:pid`` (recorded on the batch)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


# ---------------------------------------------------------------- 1. plan
def _dossier_blob_keys(session: Session) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Every dossier with the store keys of its content and metadata blobs; blobs no document uses."""
    key_of: dict[str, str] = {sha: key for sha, key in session.execute(select(Blob.sha256, Blob.store_key))}
    per: dict[str, list[str]] = {
        a: [] for a in session.scalars(select(Dossier.archive_id).order_by(Dossier.archive_id))
    }
    query = select(Document.archive_id, Document.sha256, Document.metadata_sha256).order_by(
        Document.archive_id, Document.sequence
    )
    used: set[str] = set()
    for archive_id, sha, metadata_sha in session.execute(query):
        for digest in (sha, metadata_sha):
            if digest is not None and digest in key_of:
                per[archive_id].append(key_of[digest])
                used.add(digest)
    loose = sorted(key for sha, key in key_of.items() if sha not in used)
    return list(per.items()), loose


def start_run(
    inst: Installation,
    scope: str = "fixity",
    now: dt.datetime | None = None,
    *,
    dossiers: Sequence[str] | None = None,
    objects_per_batch: int = OBJECTS_PER_BATCH,
    only: Sequence[str] | None = None,
    parallel: int = 1,
) -> StartedRun:
    """Create a run and its batches (one transaction); nothing is checked yet.

    With scope ``full``, ``dossiers`` (archive ids) limits the BC stage to those dossiers; fixity,
    ledger and reconciliation still cover everything. Scope ``scheduled`` checks the fixity of the
    dossiers in ``only`` (with the blobs no document uses) and runs the BC stage of ``dossiers``.
    ``parallel`` > 1 makes batches small enough for that many processes to share the run evenly
    (:func:`integrity.audit.batching.limits_for_workers`).

    Raises:
        ValueError: an unknown scope, a naive ``now``, ``objects_per_batch`` < 1, or ``dossiers``
            with a scope other than ``full``.
        AuditDossierNotFound: ``dossiers`` names an archive id the catalog does not hold.
        DatabaseUnavailable: the database failed.
    """
    if scope not in PLANNED_SCOPES:
        raise ValueError(f"audit scope: expected one of {', '.join(SCOPES)}, found {scope!r}")
    if dossiers is not None and scope == "fixity":
        raise ValueError(f"dossiers: only the scope full audits chosen dossiers, found scope {scope!r}")
    if (only is not None) != (scope == "scheduled"):
        raise ValueError("only: a scheduled run names its dossiers, other scopes check every dossier")
    now = now or dt.datetime.now(dt.UTC)
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    run_id = str(uuid.uuid4())
    try:
        with inst.write_sessions() as session, session.begin():
            per_dossier, loose = _dossier_blob_keys(session)
            known = {a for a, _ in per_dossier}
            if only is not None:
                per_dossier = [(a, keys) for a, keys in per_dossier if a in set(only)]
            if dossiers is not None:
                unknown = sorted(set(dossiers) - known)
                if unknown:
                    raise AuditDossierNotFound(
                        f"dossier: expected an archived archive id, found {', '.join(unknown)}"
                    )
            bc = (known if dossiers is None else set(dossiers)) if scope != "fixity" else set()
            sizes = {key: size for key, size in session.execute(select(Blob.store_key, Blob.size))}
            per_batch, bytes_per_batch = objects_per_batch, None
            if parallel > 1:
                objects = sum(len(keys) for _, keys in per_dossier) + len(loose)
                per_batch, bytes_per_batch = limits_for_workers(
                    objects, sum(sizes.values()), parallel, objects_per_batch
                )
            planned = plan_batches(
                per_dossier,
                loose,
                bc=bc,
                objects_per_batch=per_batch,
                sizes=sizes,
                bytes_per_batch=bytes_per_batch,
            )
            session.add(
                AuditRun(
                    id=run_id,
                    started_at=now,
                    scope=scope,
                    status="running",
                    counts_json="{}",
                    tool_version=installed_version()[:32],
                )
            )
            session.flush()
            session.add_all(_batch_row(run_id, b) for b in planned)
    except SQLAlchemyError as exc:
        raise db_error("planning the run")(exc) from exc
    log.info("audit %s: planned %d batch(es), scope %s", run_id, len(planned), scope)
    return StartedRun(run_id, len(planned))


def _batch_row(run_id: str, batch: PlannedBatch) -> AuditBatch:
    return AuditBatch(
        run_id=run_id,
        number=batch.number,
        status="pending",
        archive_ids_json=json.dumps(batch.archive_ids),
        blob_keys_json=json.dumps(batch.blob_keys),
        bc_ids_json=json.dumps(batch.bc_ids),
        objects=batch.objects,
    )


def pending_batches(inst: Installation, run_id: str) -> list[int]:
    """Numbers of the run's batches not yet checked.

    Raises:
        AuditRunNotFound: no such run.
        DatabaseUnavailable: the database failed.
    """
    try:
        with inst.sessions() as session:
            if session.get(AuditRun, run_id) is None:
                raise AuditRunNotFound(f"audit run {run_id!r}: no such run")
            query = select(AuditBatch.number).where(
                AuditBatch.run_id == run_id, AuditBatch.status == "pending"
            )
            return sorted(session.scalars(query))
    except SQLAlchemyError as exc:
        raise db_error("reading batches")(exc) from exc


# ---------------------------------------------------------------- 2. one batch
def fixity_algorithms(recorded: Sequence[str], policy: AuditPolicy, *, full: bool) -> tuple[str, ...]:
    """The digests a fixity check recomputes: SHA-256, plus SM3 on full checks or when the policy says.

    Only algorithms the installation records are recomputed.

    >>> fixity_algorithms(("sha256", "sm3"), AuditPolicy(), full=False)
    ('sha256',)
    >>> fixity_algorithms(("sha256", "sm3"), AuditPolicy(), full=True)
    ('sha256', 'sm3')
    """
    wanted = {"sha256"} | ({"sm3"} if full or policy.sm3_on_fixity else set())
    return tuple(a for a in recorded if a in wanted)


def _store_down(store: ObjectStore) -> StorageError | None:
    try:
        store.check_ready()
    except StoreUnavailable as error:
        return error
    except StoreError:
        return None  # reachable but misconfigured: reconciliation reports it as an incident
    return None


def _stream(
    store: ObjectStore, items: Sequence[ExpectedFixity], algorithms: Sequence[str], workers: int, batch: int
) -> Iterator[list[FixityResult]]:
    """Fixity results in chunks of ``batch`` (in item order); hashing runs on ``workers`` threads."""
    if workers <= 1:
        for start in range(0, len(items), batch):
            yield [check_fixity(store, e, algorithms=algorithms) for e in items[start : start + batch]]
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit-fixity") as pool:
        for start in range(0, len(items), batch):
            yield list(
                pool.map(
                    lambda e: check_fixity(store, e, algorithms=algorithms), items[start : start + batch]
                )
            )


def _blob_items(session: Session, keys: Sequence[str]) -> list[ExpectedFixity]:
    items: list[ExpectedFixity] = []
    for start in range(0, len(keys), IN_CHUNK):
        query = select(Blob.sha256, Blob.sm3, Blob.size, Blob.store_key).where(
            Blob.store_key.in_(list(keys[start : start + IN_CHUNK]))
        )
        items.extend(
            ExpectedFixity(key, {"sha256": sha, "sm3": sm3}, size, None, "blob")
            for sha, sm3, size, key in session.execute(query)
        )
    return sorted(items, key=lambda e: e.key)


def run_batch(
    inst: Installation,
    run_id: str,
    number: int,
    *,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    worker: str | None = None,
    io_budget: int | None = None,
) -> str:
    """Check batch ``number`` of run ``run_id``; return its status (``done`` or ``unreachable``).

    A batch that is not pending is left alone (its status is returned). ``now`` dates the BC
    reports; ``clock`` stamps each recorded result (default: the current time). ``io_budget``
    (bytes per second, the policy's) slows reading down: after every ``batch_size`` objects the
    batch pauses as long as :func:`integrity.audit.policy.throttle_delay` says.

    Raises:
        ValueError: ``workers`` or ``batch_size`` < 1.
        AuditRunNotFound: no such run or batch.
        AuditRunFinished: the run is finished.
        DatabaseUnavailable: the database failed (nothing is classified as tampering).
    """
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers and batch_size must be >= 1, found {workers} and {batch_size}")
    stamp = clock or (lambda: dt.datetime.now(dt.UTC))
    try:
        with inst.sessions() as session:
            run = session.get(AuditRun, run_id)
            batch = session.get(AuditBatch, (run_id, number))
            if run is None or batch is None:
                raise AuditRunNotFound(f"audit run {run_id!r}: no batch {number}")
            if run.status != "running":
                raise AuditRunFinished(f"audit run {run_id!r}: expected status running, found {run.status}")
            if batch.status != "pending":
                return batch.status
            scope = run.scope
            archive_ids: list[str] = json.loads(batch.archive_ids_json)
            blob_keys: list[str] = json.loads(batch.blob_keys_json)
            bc_ids: list[str] = json.loads(batch.bc_ids_json)
            done = recorded_keys(session, run_id, keys=blob_keys, archive_ids=archive_ids)
            recorder = Recorder(inst, run_id, done, batch_size, stamp)
            status = _check_batch(
                inst,
                session,
                recorder,
                number,
                archive_ids,
                blob_keys,
                workers,
                batch_size,
                io_budget,
                full=scope == "full" or bool(bc_ids),
            )
            if status == "done" and scope != "fixity":
                status = _check_bc(inst, session, recorder, bc_ids, now or stamp())
        recorder.flush()
        with inst.write_sessions() as session, session.begin():
            row = session.get(AuditBatch, (run_id, number))
            if row is not None and row.status == "pending":
                row.status = status
                row.worker = (worker or worker_name())[:128]
                row.finished_at = stamp()
    except SQLAlchemyError as exc:
        raise db_error("checking a batch")(exc) from exc
    log.info("audit %s: batch %d %s", run_id, number, status)
    return status


def _check_batch(
    inst: Installation,
    session: Session,
    recorder: Recorder,
    number: int,
    archive_ids: Sequence[str],
    blob_keys: Sequence[str],
    workers: int,
    batch_size: int,
    io_budget: int | None,
    *,
    full: bool,
) -> str:
    store = inst.store
    down = _store_down(store)
    if down is not None:
        evidence = {"error_code": down.code, "error": down.message, "batch": number}
        recorder.add(CheckResult(f"{STORE_KEY}#{number}", "fixity", "unreachable", evidence))
        _record_not_read(recorder, session, archive_ids, blob_keys, down, number)
        return "unreachable"
    algorithms = fixity_algorithms(inst.settings.digest_algorithms, inst.settings.audit, full=full)
    items = _blob_items(session, blob_keys)
    for dossier in session.scalars(select(Dossier).where(Dossier.archive_id.in_(list(archive_ids)))):
        checked = check_dossier(session, store, dossier)
        recorder.add(from_ledger(checked))
        items.append(
            ExpectedFixity(
                dossier.manifest_key,
                {"sha256": dossier.manifest_sha256},
                None,
                dossier.archive_id,
                "manifest",
            )
        )
        if checked.manifest is not None:
            items.extend(aip_file_expectations(dossier.archive_id, dossier.manifest_key, checked.manifest))
    todo = [e for e in items if (e.key, "fixity") not in recorder.done]
    started, read = time.monotonic(), 0
    for chunk in _stream(store, todo, algorithms, workers, batch_size):
        for result in chunk:
            recorder.add(from_fixity(result))
            read += int(result.evidence.get("found_size") or 0)
        if any(r.outcome == "unreachable" for r in chunk) and (down := _store_down(store)) is not None:
            log.warning("audit: store %s became unreachable; stopping batch %d", store.name, number)
            # the rest is recorded unread (the run is unreachable), never an incident
            _record_not_read(recorder, session, archive_ids, blob_keys, down, number)
            return "unreachable"
        pause = throttle_delay(read, time.monotonic() - started, io_budget)
        if pause > 0:
            recorder.flush()  # what was read is recorded before the pause
            time.sleep(pause)
    return "done"


def _record_not_read(
    recorder: Recorder,
    session: Session,
    archive_ids: Sequence[str],
    blob_keys: Sequence[str],
    down: StorageError,
    number: int,
) -> None:
    """Record ``unreachable`` for what the batch has not checked: the store went down (not tampering).

    Every blob, every AIP object (manifest, 说明文件, 目录文件) and every dossier's ledger binding
    without a result yet gets one (:meth:`Recorder.add` skips what is recorded).
    """
    evidence = {"error_code": down.code, "error": down.message, "batch": number, "not_read": True}
    unread = evidence | {"fixity": "unreachable"}
    for key in blob_keys:
        recorder.add(CheckResult(key, "fixity", "unreachable", unread | {"kind": "blob"}))
    query = select(Dossier.archive_id, Dossier.manifest_key).where(Dossier.archive_id.in_(list(archive_ids)))
    for archive_id, manifest_key in session.execute(query):
        recorder.add(CheckResult(manifest_key, "ledger", "unreachable", evidence, archive_id))
        for key, kind in zip(aip_keys(manifest_key), ("manifest", "aip-file", "aip-file"), strict=True):
            recorder.add(CheckResult(key, "fixity", "unreachable", unread | {"kind": kind}, archive_id))


def _check_bc(
    inst: Installation, session: Session, recorder: Recorder, bc_ids: Sequence[str], now: dt.datetime
) -> str:
    """DA/T 70 BC stage for the batch's dossiers; stops reading when the store goes down."""
    item_ids = [item.id for item in items_for("BC")]
    query = select(Dossier).where(Dossier.archive_id.in_(list(bc_ids))).order_by(Dossier.archive_id)
    for dossier in session.scalars(query).all():
        key = dossier.manifest_key
        if (key, ASSEMBLE_CHECK) in recorder.done and all((key, i) in recorder.done for i in item_ids):
            continue  # recorded before the batch was interrupted
        results = bc_results(inst, session, dossier, now)
        for result in results:
            recorder.add(result)
        if any(r.outcome == "unreachable" for r in results) and _store_down(inst.store) is not None:
            log.warning("audit: store %s became unreachable; stopping the BC stage", inst.store.name)
            return "unreachable"
    return "done"


# ---------------------------------------------------------------- 3. close the run
def run_level_results(inst: Installation, session: Session, now: dt.datetime) -> list[CheckResult]:
    """What is checked once per run, not per batch: the store reconciled with the catalog, the whole ledger.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed (the caller translates it).
    """
    settings = inst.settings
    results: list[CheckResult] = []
    down = _store_down(inst.store)
    if down is not None:
        evidence = {"error_code": down.code, "error": down.message}
        results.append(CheckResult(STORE_KEY, "reconcile", "unreachable", evidence))
    else:
        report = reconcile(session, inst.store, settings, now)
        results.extend(from_findings(report.findings, report.counts))
    verifiers = load_known_verifiers(settings.keys_dir)
    results.append(from_ledger(check_whole_ledger(session, verifiers, origin=settings.ledger_origin)))
    return results


def finish_run(
    inst: Installation,
    run_id: str,
    now: dt.datetime | None = None,
    *,
    alert: bool = True,
    run_level: Sequence[CheckResult] | None = None,
) -> AuditSummary:
    """Verify the ledger, reconcile, append ``audit.completed``; the run's summary.

    A run that is already finished is summarised from what it recorded, unchanged. ``run_level``
    passes :func:`run_level_results` computed meanwhile (while batches ran elsewhere).

    Raises:
        AuditRunNotFound: no such run.
        AuditRunIncomplete: some batch is still pending.
        DatabaseUnavailable: the database failed (the run stays ``running``; finishing it again
            completes it).
    """
    now = now or dt.datetime.now(dt.UTC)
    try:
        with inst.sessions() as session:
            run = session.get(AuditRun, run_id)
            if run is None:
                raise AuditRunNotFound(f"audit run {run_id!r}: no such run")
            if run.status != "running":
                return _summary_of_finished(session, run)
            scope = run.scope
            waiting = session.scalars(
                select(AuditBatch.number).where(AuditBatch.run_id == run_id, AuditBatch.status == "pending")
            ).all()
            if waiting:
                raise AuditRunIncomplete(
                    f"audit run {run_id!r}: {len(waiting)} batch(es) still pending (first: {waiting[0]})"
                )
            recorder = Recorder(inst, run_id, all_recorded_keys(session, run_id), BATCH_SIZE, lambda: now)
            if run_level is None and (RECONCILE_KEY, "reconcile") not in recorder.done:
                run_level = run_level_results(inst, session, now)
            for result in run_level or ():
                recorder.add(result)
        recorder.flush()
    except SQLAlchemyError as exc:
        raise db_error("finishing the run")(exc) from exc
    return _finish(inst, run_id, scope, now, alert)


def _summary_of_finished(session: Session, run: AuditRun) -> AuditSummary:
    results = stored_results(session, run.id)
    status: RunStatus = run.status  # type: ignore[assignment]  # a finished run's status is a RunStatus
    return AuditSummary(
        run.id, run.scope, status, count_results(results), results_digest(results), results, run.leaf_index
    )


def _finish(inst: Installation, run_id: str, scope: str, now: dt.datetime, alert: bool) -> AuditSummary:
    ledger = LedgerStore()
    checkpoint: StoredCheckpoint | None = None
    note: str | None = None
    leaf_index: int | None = None
    ledger_error: str | None = None
    try:
        with inst.sessions() as session:
            results = stored_results(session, run_id)
    except SQLAlchemyError as exc:
        raise db_error("reading results")(exc) from exc
    status = decide_status(results)
    counts = count_results(results)
    digest = results_digest(results)
    try:
        with inst.write_sessions() as session, session.begin():
            _claim_run(session, run_id)
            leaf = audit_completed(
                session,
                audit_id=run_id,
                scope=scope,
                checked=counts["checked"],
                failed=counts["incident"],
                result=LEDGER_RESULT[status],
                now=now,
                actor=ACTOR,
                report_sha256=digest,
                ledger=ledger,
            )
            note = ledger.sign_checkpoint(
                session, inst.signers or [inst.signer], inst.settings.ledger_origin, now
            )
            checkpoint = ledger.latest_checkpoint(session)
            leaf_index = leaf.index
            _close_run(session, run_id, status, counts, digest, leaf_index, now)
    except AuditRunFinished:
        # Another worker closed the run between our read and our write: report what it recorded.
        with inst.sessions() as session:
            run = session.get(AuditRun, run_id)
            assert run is not None
            return _summary_of_finished(session, run)
    except (VerificationFailed, StorageError) as error:
        if isinstance(error, StorageUnavailable):
            # The database dropped (an outage, not a refusal): nothing was committed and the run stays
            # running with every result recorded; finishing it again appends the leaf. Closing it here
            # would leave a run without its audit.completed leaf and raise a false signing alert.
            raise db_error("appending audit.completed")(error) from error
        # The ledger refused (a damaged tree never gets a new signed head): keep the verdict anyway.
        ledger_error = f"{error.code}: {error.message}"
        note = checkpoint = leaf_index = None
        if isinstance(error, VerificationFailed):
            status = "failed"
        _close_without_leaf(inst, run_id, status, counts, digest, now)
    if checkpoint is not None:
        try:
            inst.publisher.after_commit(checkpoint)
        except Exception:  # publication is best effort after commit (timestamps, witnesses)
            log.exception("audit: publishing checkpoint failed")
    summary = AuditSummary(run_id, scope, status, counts, digest, results, leaf_index, note, ledger_error)
    if alert:
        raise_alerts(inst, summary, now)
    return summary


def _claim_run(session: Session, run_id: str) -> None:
    """Lock the run row (PostgreSQL ``FOR UPDATE``; SQLite holds the write lock) and check it is running."""
    run = session.execute(
        select(AuditRun).where(AuditRun.id == run_id).with_for_update()
    ).scalar_one_or_none()
    if run is None:
        raise AuditRunNotFound(f"audit run {run_id!r} vanished")
    if run.status != "running":
        raise AuditRunFinished(f"audit run {run_id!r}: expected status running, found {run.status}")


def _close_run(
    session: Session,
    run_id: str,
    status: str,
    counts: dict[str, int],
    digest: str,
    leaf_index: int | None,
    now: dt.datetime,
) -> None:
    run = session.get(AuditRun, run_id)
    if run is None:  # pragma: no cover - created by this run
        raise AuditRunNotFound(f"audit run {run_id!r} vanished")
    run.status = status
    run.finished_at = now
    run.counts_json = json.dumps(counts, sort_keys=True)
    run.results_sha256 = digest
    run.leaf_index = leaf_index


def _close_without_leaf(
    inst: Installation, run_id: str, status: str, counts: dict[str, int], digest: str, now: dt.datetime
) -> None:
    try:
        with inst.write_sessions() as session, session.begin():
            _claim_run(session, run_id)
            _close_run(session, run_id, status, counts, digest, None, now)
    except AuditRunFinished:
        log.warning("audit %s: closed by another worker meanwhile", run_id)
    except SQLAlchemyError as exc:
        raise db_error("closing the run")(exc) from exc


# ---------------------------------------------------------------- in-process: all three steps
def run_audit(
    inst: Installation,
    scope: str = "fixity",
    now: dt.datetime | None = None,
    workers: int = 1,
    *,
    resume: str | None = None,
    batch_size: int = BATCH_SIZE,
    clock: Callable[[], dt.datetime] | None = None,
    alert: bool = True,
    dossiers: Sequence[str] | None = None,
    objects_per_batch: int = OBJECTS_PER_BATCH,
) -> AuditSummary:
    """Plan a run (or resume one), check every pending batch here, finish it: the same task functions
    the job engine runs on workers, executed in this process.

    ``now`` is the run's time (start, BC reports, ledger event); ``clock`` stamps each batch of
    results (default: ``now``). ``resume`` continues an interrupted run (status ``running``)
    without re-checking what it recorded.

    Raises:
        ValueError: an unknown scope, ``workers`` or ``batch_size`` < 1, a naive ``now``, or
            ``dossiers`` with a scope other than ``full``.
        AuditRunNotFound, AuditRunFinished: ``resume`` names no run, or a finished one.
        AuditDossierNotFound: ``dossiers`` names an archive id the catalog does not hold.
        DatabaseUnavailable, StorageError: the catalog database failed (nothing is classified as tampering).
    """
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers and batch_size must be >= 1, found {workers} and {batch_size}")
    now = now or dt.datetime.now(dt.UTC)
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    stamp = clock or (lambda: now)
    if scope not in SCOPES:
        raise ValueError(f"audit scope: expected one of {', '.join(SCOPES)}, found {scope!r}")
    if resume is None:
        run_id = start_run(
            inst, scope, now, dossiers=dossiers, objects_per_batch=objects_per_batch, parallel=workers
        ).run_id
    else:
        run_id = resume
        _require_running(inst, resume)
    return complete_run(inst, run_id, now, workers=workers, batch_size=batch_size, clock=stamp, alert=alert)


def complete_run(
    inst: Installation,
    run_id: str,
    now: dt.datetime,
    *,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    clock: Callable[[], dt.datetime] | None = None,
    alert: bool = True,
) -> AuditSummary:
    """Check every pending batch of a planned run here, then finish it.

    With ``workers`` > 1 and several batches, ``workers`` forked processes take the batches (each
    opens its own installation: the per-object work holds the GIL, threads would not scale);
    otherwise the batches run here one after the other, hashing on ``workers`` threads.
    ``clock`` stamps results only when the batches run in this process.
    """
    budget = inst.settings.audit.io_budget_bytes_per_s
    pending = pending_batches(inst, run_id)
    if workers > 1 and len(pending) > 1 and inst.settings.store != "memory" and _can_fork():
        run_level = batches_in_processes(
            inst, run_id, pending, workers, batch_size=batch_size, now=now, io_budget=budget
        )
        return finish_run(inst, run_id, now, alert=alert, run_level=run_level)
    for number in pending:
        run_batch(
            inst,
            run_id,
            number,
            workers=workers,
            batch_size=batch_size,
            now=now,
            clock=clock,
            io_budget=budget,
        )
    return finish_run(inst, run_id, now, alert=alert)


# ---------------------------------------------------------------- in-process: batches on forked processes
#: The installation of a forked batch process (opened once per process by :func:`_open_child`).
_CHILD: dict[str, Installation] = {}


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _open_child(settings: Settings) -> None:
    from api.wiring import open_installation

    _CHILD["inst"] = open_installation(settings)


def _child_batch(run_id: str, number: int, batch_size: int, now: dt.datetime, io_budget: int | None) -> str:
    return run_batch(_CHILD["inst"], run_id, number, batch_size=batch_size, now=now, io_budget=io_budget)


def batches_in_processes(
    inst: Installation,
    run_id: str,
    numbers: Sequence[int],
    workers: int,
    *,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime,
    io_budget: int | None = None,
) -> list[CheckResult]:
    """Check ``numbers`` on ``workers`` forked processes; meanwhile, the :func:`run_level_results`.

    The parent's connections are closed before forking (a child never uses an inherited one).

    Raises:
        DatabaseUnavailable, AuditRunNotFound, AuditRunFinished: as :func:`run_batch`, from a child.
    """
    inst.engine.dispose()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(numbers)),
        mp_context=context,
        initializer=_open_child,
        initargs=(inst.settings,),
    ) as pool:
        futures = [pool.submit(_child_batch, run_id, n, batch_size, now, io_budget) for n in numbers]
        try:
            with inst.sessions() as session:
                run_level = run_level_results(inst, session, now)
        except SQLAlchemyError as exc:
            raise db_error("reconciling")(exc) from exc
        for future in futures:
            future.result()  # a child's failure is raised here
    return run_level


def _require_running(inst: Installation, run_id: str) -> None:
    try:
        with inst.sessions() as session:
            run = session.get(AuditRun, run_id)
    except SQLAlchemyError as exc:
        raise db_error("reading the run")(exc) from exc
    if run is None:
        raise AuditRunNotFound(f"audit run {run_id!r}: no such run")
    if run.status != "running":
        raise AuditRunFinished(f"audit run {run_id!r}: expected status running, found {run.status}")
