"""The tasks workers run: thin wrappers that call the audit runner and the ingest service.

Every task takes the worker's :class:`~api.wiring.Installation` from the job context
(``additional_context["installation"]``, set by ``edossier worker``) and does what the same
function does in-process; nothing here decides anything.

* ``edossier.audit_batch(run_id, number)`` – :func:`integrity.audit.runner.run_batch`. Deferred with
  ``lock`` = ``queueing_lock`` = ``audit:<run>:<n>``: two workers never run one batch at once and a
  batch is never queued twice. The worker that sees no batch pending afterwards defers the finish.
* ``edossier.audit_finish(run_id)`` – :func:`integrity.audit.runner.finish_run` (lock per run).
* ``edossier.audit_tick`` (periodic, ``settings.jobs.audit_tick_cron``) – starts what the policy says
  is due now (:func:`integrity.audit.scheduled.start_due_run`) and defers its batches.
* ``edossier.overdue_check`` (periodic, daily) – alerts on overdue archiving and overdue audits.
* ``edossier.retry_stalled`` (periodic) – jobs of a worker without heartbeat for
  ``settings.jobs.stalled_after_s`` go back to the queue; a retried batch skips what was recorded.
* ``edossier.ingest_upload(upload_id)`` – :func:`archive.uploads.process_upload` of a package received
  over HTTP (retried while the store or database is down).
* ``edossier.ingest(path, sha256)`` – :meth:`archive.ingest.service.IngestService.ingest` of a
  package on a path every worker can read.

Outages of the database are retried with back-off; a store outage is recorded by the runner as
``unreachable`` (the next scheduled run checks again), never raised as a failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate import JobContext, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued

from archive.catalog.errors import DatabaseUnavailable
from archive.uploads import process_upload
from integrity.audit.overdue_check import raise_overdue_alerts
from integrity.audit.runner import finish_run, pending_batches, run_batch, worker_name
from integrity.audit.scheduled import start_due_run
from standards.errors import StorageUnavailable

if TYPE_CHECKING:
    from api.wiring import Installation
    from archive.settings import Settings

log = logging.getLogger(__name__)

AUDIT_BATCH = "edossier.audit_batch"
AUDIT_FINISH = "edossier.audit_finish"
AUDIT_TICK = "edossier.audit_tick"
OVERDUE_CHECK = "edossier.overdue_check"
RETRY_STALLED = "edossier.retry_stalled"
INGEST = "edossier.ingest"
INGEST_UPLOAD = "edossier.ingest_upload"
#: Database outages are retried with exponential back-off (2, 4, 8 ... s, at most 10 attempts).
RETRY_OUTAGES = RetryStrategy(max_attempts=10, exponential_wait=2, retry_exceptions={DatabaseUnavailable})


def installation(context: JobContext) -> Installation:
    """The worker's installation (``edossier worker`` opens it once and puts it in the context)."""
    extra = context.additional_context or {}
    inst = extra.get("installation")
    if inst is None:
        raise RuntimeError("job context: no installation (start workers with `edossier worker`)")
    return inst  # type: ignore[no-any-return]


def batch_lock(run_id: str, number: int) -> str:
    return f"audit:{run_id}:{number}"


def finish_lock(run_id: str) -> str:
    return f"audit-finish:{run_id}"


# ---------------------------------------------------------------- task bodies (sync, run in a thread)
def audit_batch(context: JobContext, run_id: str, number: int) -> str:
    inst = installation(context)
    hash_threads = int((context.additional_context or {}).get("hash_threads", 1))
    settings = inst.settings
    status = run_batch(
        inst,
        run_id,
        number,
        workers=hash_threads,
        batch_size=settings.jobs.results_per_commit,
        io_budget=settings.audit.io_budget_bytes_per_s,
        worker=f"{context.worker_name}@{worker_name()}" if context.worker_name else None,
    )
    if not pending_batches(inst, run_id):
        defer_finish(context.app, run_id)
    return status


def audit_finish(context: JobContext, run_id: str) -> dict[str, Any]:
    summary = finish_run(installation(context), run_id)
    return {"run_id": summary.run_id, "status": summary.status, "counts": summary.counts}


def audit_tick(context: JobContext, timestamp: int) -> str | None:
    inst = installation(context)
    now = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    started = start_due_run(inst, now)
    if started is None:
        return None
    defer_batches(context.app, started.run_id, range(1, started.batches + 1))
    if started.batches == 0:
        defer_finish(context.app, started.run_id)
    return started.run_id


def overdue_check(context: JobContext, timestamp: int) -> dict[str, Any]:
    now = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return raise_overdue_alerts(installation(context), now).as_dict()


async def retry_stalled(context: JobContext, timestamp: int) -> int:
    settings: Settings = installation(context).settings
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=settings.jobs.stalled_after_s))
    for job in stalled:
        log.warning("jobs: retrying job %s (%s) of a worker without heartbeat", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)


def ingest(context: JobContext, path: str, sha256: str | None = None) -> dict[str, Any]:
    outcome = installation(context).ingest_service(actor="worker").ingest(Path(path), declared_sha256=sha256)
    return {"status": outcome.status, "archive_id": outcome.archive_id}


def ingest_upload(context: JobContext, upload_id: str) -> dict[str, Any] | None:
    return process_upload(installation(context), upload_id)


# ---------------------------------------------------------------- registration and deferring
def register_tasks(app: procrastinate.App, settings: Settings) -> None:
    """Register every task (and the periodic schedules from ``settings.jobs``) on ``app``."""
    jobs = settings.jobs
    app.task(name=AUDIT_BATCH, pass_context=True, queue="audit", retry=RETRY_OUTAGES)(audit_batch)
    app.task(name=AUDIT_FINISH, pass_context=True, queue="audit", retry=RETRY_OUTAGES)(audit_finish)
    app.task(name=INGEST, pass_context=True, queue="ingest", retry=RETRY_OUTAGES)(ingest)
    retry_store = RetryStrategy(max_attempts=10, exponential_wait=2, retry_exceptions={StorageUnavailable})
    app.task(name=INGEST_UPLOAD, pass_context=True, queue="ingest", retry=retry_store)(ingest_upload)
    periodic = (
        (AUDIT_TICK, audit_tick, jobs.audit_tick_cron),
        (OVERDUE_CHECK, overdue_check, jobs.overdue_cron),
        (RETRY_STALLED, retry_stalled, jobs.stalled_cron),
    )
    for name, func, cron in periodic:
        task = app.task(name=name, pass_context=True, queue="maintenance", queueing_lock=name)(func)
        app.periodic(cron=cron, periodic_id=name)(task)


def defer_batches(app: procrastinate.App, run_id: str, numbers: Any) -> int:
    """Queue ``audit_batch`` for each batch number; already queued ones are skipped. Returns how many."""
    task = app.tasks[AUDIT_BATCH]
    queued = 0
    for number in numbers:
        lock = batch_lock(run_id, number)
        try:
            task.configure(lock=lock, queueing_lock=lock).defer(run_id=run_id, number=number)
            queued += 1
        except AlreadyEnqueued:
            pass
    return queued


def defer_finish(app: procrastinate.App, run_id: str) -> None:
    """Queue ``audit_finish`` once (a finish already queued is enough)."""
    lock = finish_lock(run_id)
    with contextlib.suppress(AlreadyEnqueued):
        app.tasks[AUDIT_FINISH].configure(lock=lock, queueing_lock=lock).defer(run_id=run_id)
