"""Who runs an audit started over HTTP: Procrastinate workers on PostgreSQL, a background thread on SQLite.

The same split as uploads (:mod:`api.http.dispatch`). Both starters plan the run first, in the
request (so the answer carries the run id and a bad request fails at once): on PostgreSQL
:func:`api.jobs.enqueue.queue_run` commits the run and queues its batches for ``edossier worker``;
on SQLite :func:`integrity.audit.runner.start_run` (or, for ``scheduled``,
:func:`integrity.audit.scheduled.start_due_run`) plans it and one background thread checks its
batches and finishes it (:func:`integrity.audit.runner.complete_run`), one run after the other.
The routes (:mod:`api.http.routes.audits`) open the starter with the app and close it at shutdown.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from api.wiring import Installation
from archive.catalog.errors import DatabaseUnavailable
from integrity.audit.runner import StartedRun, complete_run, start_run
from integrity.audit.scheduled import start_due_run

log = logging.getLogger(__name__)


class AuditStarter(Protocol):
    queued: bool  # True: workers take the batches; False: this process runs them

    def start(self, scope: str, now: dt.datetime, dossiers: Sequence[str] | None) -> StartedRun | None: ...
    def close(self) -> None: ...


class InProcessAuditStarter:
    """Plans the run in the request; one background thread checks it (the embedded default)."""

    queued = False

    def __init__(self, inst: Installation) -> None:
        self.inst = inst
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edossier-audit")

    def start(self, scope: str, now: dt.datetime, dossiers: Sequence[str] | None) -> StartedRun | None:
        """Plan a run (``scheduled``: what the policy says is due, possibly nothing) and hand it to the thread.

        Raises:
            ValueError, AuditDossierNotFound, DatabaseUnavailable: as :func:`start_run`.
        """
        if scope == "scheduled":
            started = start_due_run(self.inst, now)
        else:
            objects = self.inst.settings.jobs.objects_per_batch
            started = start_run(self.inst, scope, now, dossiers=dossiers, objects_per_batch=objects)
        if started is not None:
            self.pool.submit(self._run, started.run_id, now)
        return started

    def _run(self, run_id: str, now: dt.datetime) -> None:
        try:
            summary = complete_run(self.inst, run_id, now)
        except Exception:  # the run stays "running"; `edossier audit run --resume` continues it
            log.exception("audit %s: in-process run failed", run_id)
            return
        log.info("audit %s: %s %s", run_id, summary.status, summary.counts)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class JobAuditStarter:
    """Plans the run and queues its batches for ``edossier worker`` (``--queue audit``)."""

    queued = True

    def __init__(self, inst: Installation) -> None:
        self.inst = inst

    def start(self, scope: str, now: dt.datetime, dossiers: Sequence[str] | None) -> StartedRun | None:
        """Plan and queue a run (``scheduled``: possibly nothing due).

        Raises:
            ValueError, AuditDossierNotFound: as :func:`start_run`.
            DatabaseUnavailable: the database or the job queue failed.
        """
        from procrastinate.exceptions import ConnectorException

        from api.jobs.enqueue import queue_run  # the job engine is only needed on PostgreSQL

        try:
            return queue_run(self.inst, scope, now, dossiers=dossiers)
        except ConnectorException as exc:
            raise DatabaseUnavailable(f"job queue: {type(exc).__name__}") from exc

    def close(self) -> None:
        return None


def audit_starter_for(inst: Installation) -> AuditStarter:
    """The job queue on PostgreSQL, an in-process thread otherwise."""
    if inst.settings.effective_database_url.startswith("postgresql"):
        return JobAuditStarter(inst)
    return InProcessAuditStarter(inst)
