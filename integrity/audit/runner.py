"""The audit runner: fixity of every stored object, ledger binding, reconciliation, one ledger leaf.

:func:`run_audit` is the one service that owns an audit's transactions (issue 5, items 3, 5, 6):

1. creates an :class:`AuditRun` (status ``running``) and commits it, or resumes one by id;
2. per dossier, checks the manifest against the catalog and its ``dossier.archived`` leaf
   (:mod:`integrity.audit.ledger_check`), then streams every catalogued blob, AIP manifest and
   说明文件/目录文件 through :func:`integrity.audit.fixity.check_fixity` (a thread pool with
   ``workers > 1``; hashlib releases the GIL), then verifies the whole ledger once and runs
   :func:`archive.reconcile.reconcile`;
3. records one :class:`AuditResult` per object and check, committing every ``batch_size`` results so
   a killed run keeps what it did; a resumed run skips what is recorded (and the unique constraint
   ``(run_id, object_key, check)`` makes a duplicate impossible);
4. with scope ``full``, per dossier (or the chosen ones) the DA/T 70 BC stage (长期保存, 32 items):
   re-assembles the AIP from the store into a scratch folder under ``settings.staging_dir``
   (:mod:`integrity.audit.assemble`, hashing while streaming), validates it, gathers the facts and
   runs :func:`integrity.checks.engine.run_stage`; stores the DetectionReport
   (:func:`integrity.reports.store.save_report`) and records one result per item (see
   :func:`from_bc_item`: ``fail`` is an incident, every other status is ``ok`` with the status in
   the evidence) plus one ``assemble`` result per dossier; the scratch folder is always removed;
5. appends ``audit.completed`` (scope, counts, SHA-256 of the canonical JSON of all results) and signs
   a checkpoint in the same transaction, then publishes it after commit;
6. raises alerts for incidents and outages (best effort: alerting never fails an audit).

Classify, don't cry wolf: a store that cannot be reached makes the run ``unreachable`` and records
no incident for the objects it could not read; the run stops reading once the store is down.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import AuditResult, AuditRun, Blob, Dossier
from archive.reconcile import Finding, reconcile
from archive.stores.base import ObjectStore
from archive.stores.errors import StoreError, StoreUnavailable
from integrity.alerts.factory import dispatcher_from_settings
from integrity.alerts.model import Alert, AlertKind
from integrity.audit.assemble import Assembly, ManifestUnusable, assemble_aip
from integrity.audit.fixity import ExpectedFixity, FixityResult, check_fixity
from integrity.audit.ledger_check import (
    LedgerCheckResult,
    aip_file_expectations,
    check_dossier,
    check_whole_ledger,
)
from integrity.canonical import canonical_json
from integrity.checks.engine import config_from_settings, gather_facts, run_stage
from integrity.checks.model import CheckContext, DetectionReport, ItemResult
from integrity.checks.registry import items_for
from integrity.ledger.events_api import audit_completed
from integrity.ledger.rotation import load_known_verifiers
from integrity.ledger.store import LedgerStore, StoredCheckpoint
from integrity.reports.header import installed_version
from integrity.reports.store import save_report
from standards.errors import BadInput, StorageError, VerificationFailed
from standards.validation import validate_court_package

if TYPE_CHECKING:
    from api.wiring import Installation

log = logging.getLogger(__name__)

Outcome = Literal["ok", "incident", "unreachable"]
RunStatus = Literal["running", "passed", "failed", "unreachable"]
#: Scopes this runner implements (``full`` adds the DA/T 70 BC stage; ``sample`` a policy's sample: elsewhere).
SCOPES = ("fixity", "full")
BATCH_SIZE = 200
ACTOR = "audit"
#: ``audit.completed`` result word for each run status.
LEDGER_RESULT = {"passed": "pass", "failed": "fail", "unreachable": "incomplete"}
STORE_KEY = "<store>"
RECONCILE_KEY = "<reconcile>"
#: Check name of the per-dossier AIP re-assembly result (scope ``full``).
ASSEMBLE_CHECK = "assemble"
#: How many problems / evidence lines of one BC item an audit result keeps (the counts are kept).
MAX_ITEM_EVIDENCE = 20


class AuditRunNotFound(BadInput):
    """``resume`` names no audit run."""

    code = "audit_run_not_found"


class AuditDossierNotFound(BadInput):
    """``dossiers`` names an archive id the catalog does not hold."""

    code = "audit_dossier_not_found"


class AuditRunFinished(BadInput):
    """``resume`` names an audit run that has already finished (a finished run is never changed)."""

    code = "audit_run_finished"


@dataclass(frozen=True)
class CheckResult:
    """One result as recorded: object, check, outcome and the evidence."""

    key: str
    check: str
    outcome: Outcome
    evidence: dict[str, Any]
    archive_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of a result (also what :func:`results_digest` hashes)."""
        return {
            "key": self.key,
            "check": self.check,
            "outcome": self.outcome,
            "archive_id": self.archive_id,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class AuditSummary:
    """What one audit run found: the verdict, counts, the incidents and the ledger leaf."""

    run_id: str
    scope: str
    status: RunStatus
    counts: dict[str, int]
    results_sha256: str
    results: list[CheckResult] = field(default_factory=list)
    leaf_index: int | None = None
    checkpoint: str | None = None
    ledger_error: str | None = None

    @property
    def incidents(self) -> list[CheckResult]:
        """Results that are evidence of loss or tampering."""
        return [r for r in self.results if r.outcome == "incident"]

    @property
    def unreachable(self) -> list[CheckResult]:
        """Results the store or database could not provide (outages)."""
        return [r for r in self.results if r.outcome == "unreachable"]

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``edossier audit run --json``."""
        return {
            "run_id": self.run_id,
            "scope": self.scope,
            "status": self.status,
            "counts": self.counts,
            "results_sha256": self.results_sha256,
            "leaf_index": self.leaf_index,
            "ledger_error": self.ledger_error,
            "incidents": [r.as_dict() for r in self.incidents],
            "results": [r.as_dict() for r in self.results],
        }


# ---------------------------------------------------------------- pure decisions
def from_fixity(result: FixityResult) -> CheckResult:
    """A fixity result as an audit result (``fixity`` check)."""
    evidence = dict(result.evidence) | {"fixity": result.outcome}
    return CheckResult(result.key, "fixity", result.severity, evidence, result.archive_id)


def from_ledger(result: LedgerCheckResult) -> CheckResult:
    """A ledger check as an audit result (``ledger`` check)."""
    return CheckResult(result.key, "ledger", result.outcome, dict(result.evidence), result.archive_id)


def from_findings(findings: Iterable[Finding], counts: dict[str, int]) -> list[CheckResult]:
    """Reconciliation findings merged per key (one result per object), plus one summary result.

    A key's outcome is its worst finding (``info`` findings such as orphans are ``ok`` with evidence).
    """
    rank = {"ok": 0, "unreachable": 1, "incident": 2}
    by_key: dict[str, list[Finding]] = {}
    for f in findings:
        by_key.setdefault(f.key or f"<{f.kind}>", []).append(f)
    out: list[CheckResult] = []
    for key, items in sorted(by_key.items()):
        outcome: Outcome = "ok"
        for f in items:
            severity: Outcome = "ok" if f.severity == "info" else f.severity
            if rank[severity] > rank[outcome]:
                outcome = severity
        evidence = {"findings": [f.as_dict() for f in items]}
        out.append(CheckResult(key, "reconcile", outcome, evidence))
    summary_outcome: Outcome = "ok"
    if any(r.outcome == "incident" for r in out):
        summary_outcome = "incident"
    elif any(r.outcome == "unreachable" for r in out):
        summary_outcome = "unreachable"
    out.append(CheckResult(RECONCILE_KEY, "reconcile", summary_outcome, {"counts": dict(counts)}))
    return out


def from_bc_item(result: ItemResult, key: str, archive_id: str, report_id: str | None) -> CheckResult:
    """One DA/T 70 BC item as an audit result (check = the item id, e.g. ``BC-3-4``).

    ``fail`` is an incident (the stored package no longer meets the item). Every other status —
    ``pass``, ``warn``, ``manual`` (a person must confirm), ``not_applicable`` and ``not_run``
    (a fact or a tool was missing) — is ``ok`` for the audit verdict: none of them is evidence of
    loss or tampering, and a missing tool is not an outage of the store. The item's own status is
    kept in the evidence (``status``), so ``not_run``/``manual`` stay visible in reports.

    >>> r = ItemResult("BC-2-7", "manual", "需人工", checklist="核对")
    >>> from_bc_item(r, "aips/A/v1/manifest.json", "A", None).evidence["status"]
    'manual'
    """
    evidence: dict[str, Any] = {
        "status": result.status,
        "summary": result.summary,
        "report_id": report_id,
    }
    if result.reason:
        evidence["reason"] = result.reason
    if result.checklist:
        evidence["checklist"] = result.checklist
    if result.evidence:
        evidence["evidence"] = [e.__dict__ for e in result.evidence[:MAX_ITEM_EVIDENCE]]
        evidence["evidence_count"] = len(result.evidence)
    if result.problems:
        evidence["problems"] = [p.as_dict() for p in result.problems[:MAX_ITEM_EVIDENCE]]
        evidence["problem_count"] = len(result.problems)
    outcome: Outcome = "incident" if result.status == "fail" else "ok"
    return CheckResult(key, result.item, outcome, evidence, archive_id)


def from_assembly(assembly: Assembly, key: str, archive_id: str, report_id: str | None) -> CheckResult:
    """The re-assembly of one AIP as an audit result: an incident when a file is missing or differs."""
    evidence = assembly.evidence() | {"report_id": report_id}
    outcome: Outcome = "incident" if assembly.problems else "ok"
    return CheckResult(key, ASSEMBLE_CHECK, outcome, evidence, archive_id)


def decide_status(results: Sequence[CheckResult]) -> RunStatus:
    """``failed`` on any incident, else ``unreachable`` on any outage, else ``passed``.

    An aggregate of zero checks has not passed: no results is ``unreachable`` (nothing was verified).
    """
    if any(r.outcome == "incident" for r in results):
        return "failed"
    if not results or any(r.outcome == "unreachable" for r in results):
        return "unreachable"
    return "passed"


def count_results(results: Sequence[CheckResult]) -> dict[str, int]:
    """Totals by outcome and by ``<check>.<outcome>``."""
    counts: dict[str, int] = {"checked": len(results), "ok": 0, "incident": 0, "unreachable": 0}
    for r in results:
        counts[r.outcome] += 1
        name = f"{r.check}.{r.outcome}"
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def results_digest(results: Sequence[CheckResult]) -> str:
    """SHA-256 (hex) of the canonical JSON (RFC 8785) of the results sorted by check and key."""
    ordered = sorted(results, key=lambda r: (r.check, r.key))
    return hashlib.sha256(canonical_json([r.as_dict() for r in ordered])).hexdigest()


# ---------------------------------------------------------------- recording (thin I/O)
def _db(action: str) -> Callable[[Exception], StorageError]:
    def translate(exc: Exception) -> StorageError:
        return DatabaseUnavailable(
            f"audit: {action} failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        )

    return translate


def _evidence_json(evidence: dict[str, Any]) -> str:
    return json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str)


class _Recorder:
    """Writes results in batches (one transaction per batch) and remembers what is recorded."""

    def __init__(
        self,
        inst: Installation,
        run_id: str,
        done: set[tuple[str, str]],
        batch_size: int,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.inst = inst
        self.run_id = run_id
        self.done = done
        self.batch_size = batch_size
        self.clock = clock
        self.pending: list[CheckResult] = []

    def add(self, result: CheckResult) -> None:
        if (result.key, result.check) in self.done:
            return
        self.done.add((result.key, result.check))
        self.pending.append(result)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Commit the pending results.

        Raises:
            DatabaseUnavailable: the database failed.
        """
        if not self.pending:
            return
        now = self.clock()
        try:
            with self.inst.write_sessions() as session, session.begin():
                session.add_all(
                    AuditResult(
                        run_id=self.run_id,
                        object_key=r.key,
                        archive_id=r.archive_id,
                        check=r.check,
                        outcome=r.outcome,
                        evidence_json=_evidence_json(r.evidence),
                        checked_at=now,
                    )
                    for r in self.pending
                )
        except SQLAlchemyError as exc:
            raise _db("recording results")(exc) from exc
        self.pending = []


def _start_or_resume(
    inst: Installation, scope: str, now: dt.datetime, resume: str | None
) -> tuple[str, set[tuple[str, str]]]:
    try:
        with inst.write_sessions() as session, session.begin():
            if resume is None:
                run_id = str(uuid.uuid4())
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
                return run_id, set()
            run = session.get(AuditRun, resume)
            if run is None:
                raise AuditRunNotFound(f"audit run {resume!r}: no such run")
            if run.status != "running":
                raise AuditRunFinished(f"audit run {resume!r}: expected status running, found {run.status}")
            done = {
                (k, c)
                for k, c in session.execute(
                    select(AuditResult.object_key, AuditResult.check).where(AuditResult.run_id == resume)
                )
            }
            return resume, done
    except SQLAlchemyError as exc:
        raise _db("starting the run")(exc) from exc


def result_from_row(row: AuditResult) -> CheckResult:
    """A recorded :class:`AuditResult` row as a :class:`CheckResult`."""
    return CheckResult(
        row.object_key, row.check, cast(Outcome, row.outcome), json.loads(row.evidence_json), row.archive_id
    )


def _stored_results(session: Session, run_id: str) -> list[CheckResult]:
    rows = session.scalars(select(AuditResult).where(AuditResult.run_id == run_id).order_by(AuditResult.id))
    return [result_from_row(row) for row in rows]


# ---------------------------------------------------------------- the run
def _fixity_items(session: Session) -> list[ExpectedFixity]:
    items = [
        ExpectedFixity(key, {"sha256": sha, "sm3": sm3}, size, None, "blob")
        for sha, sm3, size, key in session.execute(
            select(Blob.sha256, Blob.sm3, Blob.size, Blob.store_key).order_by(Blob.store_key)
        )
    ]
    for archive_id, key, sha in session.execute(
        select(Dossier.archive_id, Dossier.manifest_key, Dossier.manifest_sha256).order_by(Dossier.archive_id)
    ):
        items.append(ExpectedFixity(key, {"sha256": sha}, None, archive_id, "manifest"))
    return items


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
) -> AuditSummary:
    """Audit every catalogued object and the ledger; record results; append ``audit.completed``.

    ``now`` is the run's time (start, ledger event); ``clock`` stamps each batch (default: ``now``).
    ``resume`` continues an interrupted run (status ``running``) without re-checking what it recorded.
    With scope ``full``, ``dossiers`` (archive ids) limits the BC stage to those dossiers; fixity,
    ledger and reconciliation still cover everything.

    Raises:
        ValueError: an unknown scope, ``workers`` or ``batch_size`` < 1, a naive ``now``, or
            ``dossiers`` with a scope other than ``full``.
        AuditRunNotFound, AuditRunFinished: ``resume`` names no run, or a finished one.
        AuditDossierNotFound: ``dossiers`` names an archive id the catalog does not hold.
        DatabaseUnavailable, StorageError: the catalog database failed (nothing is classified as tampering).
    """
    if scope not in SCOPES:
        raise ValueError(f"audit scope: expected one of {', '.join(SCOPES)}, found {scope!r}")
    if dossiers is not None and scope != "full":
        raise ValueError(f"dossiers: only the scope full audits chosen dossiers, found scope {scope!r}")
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers and batch_size must be >= 1, found {workers} and {batch_size}")
    now = now or dt.datetime.now(dt.UTC)
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    stamp = clock or (lambda: now)
    chosen = _chosen_dossiers(inst, dossiers) if dossiers is not None else None
    run_id, done = _start_or_resume(inst, scope, now, resume)
    recorder = _Recorder(inst, run_id, done, batch_size, stamp)
    settings = inst.settings
    algorithms = tuple(a for a in settings.digest_algorithms if a in ("sha256", "sm3"))
    try:
        with inst.sessions() as session:
            down = _store_down(inst.store)
            if down is not None:
                recorder.add(
                    CheckResult(
                        STORE_KEY, "fixity", "unreachable", {"error_code": down.code, "error": down.message}
                    )
                )
            else:
                _check_store(inst, session, recorder, algorithms, workers, batch_size, now)
                if scope == "full":
                    _check_bc(inst, session, recorder, now, chosen)
            verifiers = load_known_verifiers(settings.keys_dir)
            recorder.add(from_ledger(check_whole_ledger(session, verifiers, origin=settings.ledger_origin)))
        recorder.flush()
    except SQLAlchemyError as exc:
        raise _db("reading the catalog")(exc) from exc
    return _finish(inst, run_id, scope, now, alert)


def _check_store(
    inst: Installation,
    session: Session,
    recorder: _Recorder,
    algorithms: Sequence[str],
    workers: int,
    batch_size: int,
    now: dt.datetime,
) -> None:
    store = inst.store
    items = _fixity_items(session)
    for dossier in session.scalars(select(Dossier).order_by(Dossier.archive_id)):
        checked = check_dossier(session, store, dossier)
        recorder.add(from_ledger(checked))
        if checked.manifest is not None:
            items.extend(aip_file_expectations(dossier.archive_id, dossier.manifest_key, checked.manifest))
    todo = [e for e in items if (e.key, "fixity") not in recorder.done]
    for chunk in _stream(store, todo, algorithms, workers, batch_size):
        for result in chunk:
            recorder.add(from_fixity(result))
        if any(r.outcome == "unreachable" for r in chunk) and _store_down(store) is not None:
            log.warning("audit: store %s became unreachable; stopping fixity", store.name)
            return  # the rest stays unchecked (the run is unreachable), never an incident
    report = reconcile(session, store, inst.settings, now)
    for found in from_findings(report.findings, report.counts):
        recorder.add(found)


def _chosen_dossiers(inst: Installation, archive_ids: Sequence[str]) -> list[str]:
    """The given archive ids, each checked to exist.

    Raises:
        AuditDossierNotFound: an id the catalog does not hold.
        DatabaseUnavailable: the database failed.
    """
    try:
        with inst.sessions() as session:
            known = set(
                session.scalars(select(Dossier.archive_id).where(Dossier.archive_id.in_(list(archive_ids))))
            )
    except SQLAlchemyError as exc:
        raise _db("reading dossiers")(exc) from exc
    unknown = sorted(set(archive_ids) - known)
    if unknown:
        raise AuditDossierNotFound(f"dossier: expected an archived archive id, found {', '.join(unknown)}")
    return sorted(known)


# ---------------------------------------------------------------- the BC stage (scope full)
def _check_bc(
    inst: Installation, session: Session, recorder: _Recorder, now: dt.datetime, chosen: Sequence[str] | None
) -> None:
    """DA/T 70 BC stage for every dossier (or ``chosen``); stops reading when the store goes down."""
    item_ids = [item.id for item in items_for("BC")]
    query = select(Dossier).order_by(Dossier.archive_id)
    if chosen is not None:
        query = query.where(Dossier.archive_id.in_(list(chosen)))
    for dossier in session.scalars(query).all():
        key = dossier.manifest_key
        if (key, ASSEMBLE_CHECK) in recorder.done and all((key, i) in recorder.done for i in item_ids):
            continue  # recorded by the run being resumed
        results = bc_results(inst, session, dossier, now)
        for result in results:
            recorder.add(result)
        if any(r.outcome == "unreachable" for r in results) and _store_down(inst.store) is not None:
            log.warning("audit: store %s became unreachable; stopping the BC stage", inst.store.name)
            return


def _assembly_failure(key: str, archive_id: str, outcome: Outcome, error: Exception) -> CheckResult:
    code = getattr(error, "code", type(error).__name__)
    message = getattr(error, "message", str(error))
    return CheckResult(key, ASSEMBLE_CHECK, outcome, {"error_code": code, "error": message}, archive_id)


def bc_results(inst: Installation, session: Session, dossier: Dossier, now: dt.datetime) -> list[CheckResult]:
    """Re-assemble one dossier's AIP, run the BC stage on it, store the report; the audit results.

    The scratch folder (under ``settings.staging_dir``) is removed whatever happens. An outage while
    reading gives one ``unreachable`` ``assemble`` result and runs no item (they are checked next
    time); an unusable manifest gives one ``assemble`` incident.

    Raises:
        StorageError: the database failed (reading documents, saving the report).
        sqlalchemy.exc.SQLAlchemyError: the database failed in another way (the caller translates it).
    """
    key, archive_id = dossier.manifest_key, dossier.archive_id
    checked = check_dossier(session, inst.store, dossier)
    if checked.outcome == "unreachable":
        return [CheckResult(key, ASSEMBLE_CHECK, "unreachable", dict(checked.evidence), archive_id)]
    if checked.manifest is None:  # the ledger result names the problem; nothing to re-assemble
        evidence = {"error_code": "manifest_unreadable", "problems": checked.evidence.get("problems", [])}
        return [CheckResult(key, ASSEMBLE_CHECK, "incident", evidence, archive_id)]
    settings = inst.settings
    settings.staging_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="audit-bc-", dir=settings.staging_dir))
    try:
        try:
            assembly = assemble_aip(inst.store, key, checked.manifest, scratch, archive_id=archive_id)
        except ManifestUnusable as error:
            return [_assembly_failure(key, archive_id, "incident", error)]
        except StorageError as error:
            return [_assembly_failure(key, archive_id, "unreachable", error)]
        report = _run_bc_stage(inst, dossier, assembly, now)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with inst.write_sessions() as write, write.begin():
        report_id = save_report(write, report, case_number=dossier.case_number, archive_id=archive_id)
    return [from_assembly(assembly, key, archive_id, report_id)] + [
        from_bc_item(item, key, archive_id, report_id) for item in report.results
    ]


def _run_bc_stage(
    inst: Installation, dossier: Dossier, assembly: Assembly, now: dt.datetime
) -> DetectionReport:
    """Validate the re-assembled package, gather the facts and run every BC stage-item (DA/T 70 §5.4)."""
    settings = inst.settings
    package = assembly.package
    validation = validate_court_package(package, limits=settings.limits, today=now.date())
    facts = dict(gather_facts(package, settings, "BC"))
    facts.update(
        {
            # BC-3-2: the dossier row and its documents were just read from the catalog
            "catalog_readable": True,
            "catalog_detail": f"dossiers/documents 表按档案号 {dossier.archive_id} 读取成功",
            # BC-1-14: the inventory digest recorded at ingest vs the one of the bytes re-read now
            "package_digest_before": dossier.package_digest,
            "package_digest_after": package.source_digest,
        }
    )
    # BC-3-7 needs ``recorded_environment``: ingest keeps no environment snapshot yet, so the item
    # answers not_run (recorded as ok with status not_run) until one is stored.
    ctx = CheckContext(
        stage="BC",
        now=now,
        package=package,
        validation=validation,
        facts=facts,
        config=config_from_settings(settings),
        files_root=package.root,
    )
    return run_stage("BC", ctx, tool_version=installed_version())


def _finish(inst: Installation, run_id: str, scope: str, now: dt.datetime, alert: bool) -> AuditSummary:
    ledger = LedgerStore()
    checkpoint: StoredCheckpoint | None = None
    note: str | None = None
    leaf_index: int | None = None
    ledger_error: str | None = None
    try:
        with inst.sessions() as session:
            results = _stored_results(session, run_id)
    except SQLAlchemyError as exc:
        raise _db("reading results")(exc) from exc
    status = decide_status(results)
    counts = count_results(results)
    digest = results_digest(results)
    try:
        with inst.write_sessions() as session, session.begin():
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
    except (VerificationFailed, StorageError) as error:
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
            _close_run(session, run_id, status, counts, digest, None, now)
    except SQLAlchemyError as exc:
        raise _db("closing the run")(exc) from exc


# ---------------------------------------------------------------- alerts (best effort)
def alerts_for(summary: AuditSummary, now: dt.datetime) -> list[Alert]:
    """One alert per incident, one per run with outages, one when the ledger refused to sign."""
    link = f"edossier audit show {summary.run_id}"
    alerts = [
        Alert.create(
            AlertKind.INCIDENT,
            r.key,
            f"审计 {summary.run_id}：{r.check} 检查发现问题 {r.key}",
            now=now,
            evidence_link=link,
            dedupe_key=f"incident:{r.check}:{r.key}",
            details={
                "run_id": summary.run_id,
                "check": r.check,
                "evidence": _evidence_json(r.evidence)[:2000],
            },
        )
        for r in summary.incidents
    ]
    if summary.unreachable:
        first = summary.unreachable[0]
        alerts.append(
            Alert.create(
                AlertKind.UNREACHABLE,
                "audit-store",
                f"审计 {summary.run_id}：{len(summary.unreachable)} 项因存储不可达未能核验（不构成篡改，将重试）",
                now=now,
                evidence_link=link,
                details={
                    "run_id": summary.run_id,
                    "first": first.key,
                    "error": str(first.evidence.get("error", "")),
                },
            )
        )
    if summary.ledger_error:
        alerts.append(
            Alert.create(
                AlertKind.SIGNING_FAILURE,
                "audit-ledger",
                f"审计 {summary.run_id}：audit.completed 未能写入账本或签名：{summary.ledger_error}",
                now=now,
                evidence_link=link,
            )
        )
    return alerts


def raise_alerts(inst: Installation, summary: AuditSummary, now: dt.datetime) -> None:
    """Queue and deliver the run's alerts through the configured channels; never raises."""
    alerts = alerts_for(summary, now)
    if not alerts:
        return
    try:
        dispatcher = dispatcher_from_settings(inst.settings.alerts, inst.settings.data_dir)
        dispatcher.raise_alerts(alerts)
        dispatcher.flush()
    except Exception:  # alerting is best effort: an audit's verdict is recorded regardless
        log.exception("audit: raising %d alert(s) failed", len(alerts))
