"""Hand work to the workers: an audit run's batches, a package to ingest; wait for a queued run.

Used by ``edossier audit run --queue`` (and later by the HTTP API): the run and its batches are
committed first (:func:`integrity.audit.runner.start_run`), then one ``audit_batch`` job per batch
is deferred. Workers (``edossier worker``) take them; the last one queues the finish.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.exc import SQLAlchemyError

from api.jobs.app import make_job_app
from api.jobs.tasks import INGEST, defer_batches, defer_finish
from archive.catalog.models import AuditRun
from archive.settings import Settings
from integrity.audit.recorder import db_error
from integrity.audit.results import AuditSummary
from integrity.audit.runner import StartedRun, finish_run, pending_batches, start_run
from integrity.audit.scheduled import start_due_run

if TYPE_CHECKING:
    from api.wiring import Installation


def queue_run(
    inst: Installation, scope: str, now: dt.datetime, *, dossiers: Sequence[str] | None = None
) -> StartedRun | None:
    """Plan a run (``scheduled``: what the policy says is due, possibly nothing) and queue its batches.

    Raises:
        JobsNeedPostgres: the catalog is not PostgreSQL.
        ValueError, AuditDossierNotFound: as :func:`start_run`.
        DatabaseUnavailable: the database failed.
    """
    app = make_job_app(inst.settings)
    if scope == "scheduled":
        started = start_due_run(inst, now)
    else:
        started = start_run(
            inst, scope, now, dossiers=dossiers, objects_per_batch=inst.settings.jobs.objects_per_batch
        )
    if started is None:
        return None
    with app.open():
        defer_batches(app, started.run_id, pending_batches(inst, started.run_id))
        if started.batches == 0:
            defer_finish(app, started.run_id)
    return started


def queue_ingest(settings: Settings, path: Path, sha256: str | None = None) -> int | None:
    """Queue the ingest of the package at ``path`` (which every worker must be able to read).

    Returns the job id, or ``None`` when the same package is already waiting in the queue.

    Raises:
        JobsNeedPostgres: the catalog is not PostgreSQL.
    """
    app = make_job_app(settings)
    source = str(path.resolve())
    with app.open():
        task = app.tasks[INGEST].configure(queueing_lock=f"ingest:{source}")
        try:
            return task.defer(path=source, sha256=sha256)
        except AlreadyEnqueued:
            return None


def wait_for_run(
    inst: Installation, run_id: str, timeout_s: float, poll_s: float = 0.5
) -> AuditSummary | None:
    """The summary once workers finished ``run_id``; ``None`` if it is still running after ``timeout_s``.

    Raises:
        DatabaseUnavailable: the database failed.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with inst.sessions() as session:
                run = session.get(AuditRun, run_id)
                status = None if run is None else run.status
        except SQLAlchemyError as exc:
            raise db_error("waiting for the run")(exc) from exc
        if status is not None and status != "running":
            return finish_run(inst, run_id, alert=False)  # a finished run: its recorded summary
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll_s)
