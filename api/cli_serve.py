"""``edossier serve``: the API (and, on SQLite, the in-process scheduler) in one process.

On a fresh data directory it initialises the installation and archives a sample dossier first
(``EDOSSIER_API__SAMPLE_ON_FIRST_START``), so a new user sees something real. With PostgreSQL the
scheduler is left to ``edossier worker`` processes (their periodic tasks).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from api import cli_output as ui
from api.cli_common import DataDirOption, exit_unavailable, open_or_exit, settings_for
from api.wiring import Installation, initialise
from archive.catalog.models import Dossier
from standards.errors import StorageError

log = logging.getLogger(__name__)


def archive_sample_if_empty(inst: Installation) -> str | None:
    """Archive one sample dossier when the catalog holds none; its archive id (``None``: not empty)."""
    from archive.sample import generate_sample

    with inst.sessions() as session:
        if (session.scalar(select(func.count()).select_from(Dossier)) or 0) > 0:
            return None
    with tempfile.TemporaryDirectory(prefix="edossier-sample-") as tmp:
        package = Path(tmp) / "sample.zip"
        generate_sample(package, seed=1, documents=12, as_zip=True, now=dt.datetime.now(dt.UTC))
        outcome = inst.ingest_service(actor="serve").ingest(package)
    return outcome.archive_id


def serve(
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    scheduler: Annotated[
        bool,
        typer.Option(help="Run the audit scheduler here (default on SQLite; workers do it on PostgreSQL)."),
    ] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="HTTP worker processes (each opens its own installation).")
    ] = 1,
) -> None:
    """Serve the HTTP API (/api/v1, /docs) with the in-process audit scheduler."""
    import uvicorn

    from api.http.app import create_app
    from api.scheduler import InProcessScheduler

    settings = settings_for(data_dir)
    try:
        initialise(settings)
    except StorageError as error:
        exit_unavailable(error, False)
    inst = open_or_exit(settings, False)
    background: InProcessScheduler | None = None
    try:
        if settings.api.sample_on_first_start:
            archived = archive_sample_if_empty(inst)
            if archived:
                ui.err.print(f"样例卷宗已归档 sample dossier archived: {archived}", markup=False)
        if scheduler and not settings.effective_database_url.startswith("postgresql"):
            background = InProcessScheduler(inst)
            background.start()
        ui.err.print(f"edossier serve: http://{host}:{port}/ui  (API docs: /docs)", markup=False)
        if workers == 1:
            uvicorn.run(create_app(settings, installation=inst), host=host, port=port, log_level="info")
        else:  # worker processes build their settings from the environment (api.http.factory)
            os.environ["EDOSSIER_DATA_DIR"] = str(settings.data_dir.resolve())
            uvicorn.run(
                "api.http.factory:app_from_environment",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level="info",
            )
    except StorageError as error:
        exit_unavailable(error, False)
    finally:
        if background is not None:
            background.stop()
        inst.close()
