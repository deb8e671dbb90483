"""Who ingests an upload: a Procrastinate job on PostgreSQL, a background thread on SQLite.

Both call :func:`archive.uploads.process_upload`; the route only hands over the upload id.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from api.wiring import Installation
from archive.uploads import process_upload

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    async def submit(self, upload_id: str) -> None: ...
    async def close(self) -> None: ...


class InProcessDispatcher:
    """One background thread ingests uploads in order (the embedded default)."""

    def __init__(self, inst: Installation) -> None:
        self.inst = inst
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edossier-ingest")

    async def submit(self, upload_id: str) -> None:
        self.pool.submit(self._run, upload_id)

    def _run(self, upload_id: str) -> None:
        try:
            process_upload(self.inst, upload_id)
        except Exception:  # recorded on the upload (failed) where it is an outage; logged in any case
            log.exception("upload %s: ingest failed", upload_id)

    async def close(self) -> None:
        self.pool.shutdown(wait=True)


class JobDispatcher:
    """Defers ``edossier.ingest_upload`` on the job queue (workers take it)."""

    def __init__(self, inst: Installation) -> None:
        from api.jobs.app import make_job_app

        self.app = make_job_app(inst.settings)
        self._opened = False

    async def submit(self, upload_id: str) -> None:
        from api.jobs.tasks import INGEST_UPLOAD

        if not self._opened:
            await self.app.open_async()
            self._opened = True
        task = self.app.tasks[INGEST_UPLOAD].configure(queueing_lock=f"upload:{upload_id}")
        await task.defer_async(upload_id=upload_id)

    async def close(self) -> None:
        if self._opened:
            await self.app.close_async()


def dispatcher_for(inst: Installation) -> Dispatcher:
    """The job queue on PostgreSQL, an in-process thread otherwise."""
    if inst.settings.effective_database_url.startswith("postgresql"):
        return JobDispatcher(inst)
    return InProcessDispatcher(inst)
