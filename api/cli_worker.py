"""``edossier worker``: run a job worker (Procrastinate) for this installation's PostgreSQL catalog.

Start one on every machine that should take audit batches and ingests; each worker takes one job at
a time per ``--concurrency`` slot, and no two workers ever take the same batch. A worker killed
mid-batch loses nothing: after ``jobs.stalled_after_s`` without its heartbeat another worker's
``retry_stalled`` task puts the batch back in the queue, and it skips what was recorded.
Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 2 on SQLite (no job queue), 3 when the database
cannot be reached.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from api import cli_output as ui
from api.cli_common import EXIT_OK, DataDirOption, exit_unavailable, fail_usage, open_or_exit, settings_for
from archive.catalog.errors import DatabaseUnavailable
from archive.settings import Settings
from standards.errors import StorageUnavailable

log = logging.getLogger(__name__)

#: The job queues (:data:`api.jobs.app.QUEUES`, repeated so this module loads without Procrastinate).
QUEUES = ("audit", "ingest", "maintenance")


def worker(
    data_dir: DataDirOption = None,
    queue: Annotated[
        list[str] | None,
        typer.Option(help=f"Queue to take jobs from (repeatable; default all: {', '.join(QUEUES)})."),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Jobs this worker runs at once.")] = 1,
    hash_threads: Annotated[
        int, typer.Option(min=1, max=64, help="Threads hashing objects inside one audit batch.")
    ] = 1,
    name: Annotated[str | None, typer.Option(help="Worker name in logs (default: host:pid).")] = None,
    wait: Annotated[
        bool, typer.Option(help="Keep waiting for jobs; --no-wait stops when the queue is empty.")
    ] = True,
) -> None:
    """Run a job worker: audit batches, scheduled audits, overdue alerts, ingests (PostgreSQL only)."""
    # imported here: the job engine (Procrastinate) is only needed by this command
    from procrastinate.exceptions import ConnectorException

    from api.jobs.app import JobsNeedPostgres, make_job_app

    settings = settings_for(data_dir)
    unknown = sorted(set(queue or ()) - set(QUEUES))
    if unknown:
        fail_usage(f"--queue: expected one of {', '.join(QUEUES)}, found {', '.join(unknown)}")
    try:
        app = make_job_app(settings)
    except JobsNeedPostgres as error:
        fail_usage(error.message)
    inst = open_or_exit(settings, False)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    jobs = settings.jobs
    ui.err.print(
        f"edossier worker: queues {', '.join(queue or QUEUES)}, concurrency {concurrency}", markup=False
    )
    try:
        with app.open():
            app.run_worker(
                queues=list(queue) if queue else None,
                concurrency=concurrency,
                name=name,
                wait=wait,
                additional_context={"installation": inst, "hash_threads": hash_threads},
                update_heartbeat_interval=jobs.heartbeat_s,
                stalled_worker_timeout=jobs.stalled_after_s,
            )
    except StorageUnavailable as error:
        exit_unavailable(error, False)
    except ConnectorException as exc:
        exit_unavailable(DatabaseUnavailable(f"job queue: {type(exc).__name__}: {exc}"), False)
    finally:
        inst.close()


def queue_ingest_command(settings: Settings, path: Path, sha256: str | None, as_json: bool) -> NoReturn:
    """``edossier ingest --queue PATH``: queue the ingest for a worker; exit 0 (2 on SQLite, 3 when down)."""
    from procrastinate.exceptions import ConnectorException

    from api.jobs.app import JobsNeedPostgres
    from api.jobs.enqueue import queue_ingest

    try:
        job_id = queue_ingest(settings, path, sha256.strip().lower() if sha256 else None)
    except JobsNeedPostgres as error:
        fail_usage(error.message)
    except ConnectorException as exc:
        exit_unavailable(DatabaseUnavailable(f"job queue: {type(exc).__name__}: {exc}"), as_json)
    body = {
        "status": "queued" if job_id is not None else "already_queued",
        "job_id": job_id,
        "path": str(path),
    }
    if as_json:
        ui.emit_json(body)
    else:
        ui.out.print(f"已排队归档 ingest queued: {path} (job {job_id})", markup=False)
    raise typer.Exit(EXIT_OK)
