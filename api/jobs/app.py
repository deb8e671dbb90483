"""The Procrastinate app of an installation: PostgreSQL only, the job tables in their own schema.

Why Procrastinate: the catalog already lives in PostgreSQL, so jobs commit where the data does
(no second broker to back up or to lose jobs in), it has locks (two jobs with the same ``lock``
never run at once), queueing locks (no duplicate pending job), retries, periodic tasks deferred
exactly once across workers, and worker heartbeats to find the jobs of a worker that died.

The job schema (``procrastinate``) is created by catalog migration 0006; every connection of the
app puts it first on its ``search_path``. SQLite has no job queue: there the same task functions
run in-process (``edossier audit run``).
"""

from __future__ import annotations

import procrastinate
from sqlalchemy.engine import make_url

from archive.settings import Settings
from standards.errors import BadInput

JOB_SCHEMA = "procrastinate"
#: Queues: audits and ingests can be given to different workers (``edossier worker --queue``).
QUEUES = ("audit", "ingest", "maintenance")


class JobsNeedPostgres(BadInput):
    """The job queue was asked for on a database that is not PostgreSQL."""

    code = "jobs_need_postgres"


def job_conninfo(database_url: str) -> str:
    """The libpq connection string of the catalog's PostgreSQL database.

    Raises:
        JobsNeedPostgres: the catalog is SQLite (or anything but PostgreSQL).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise JobsNeedPostgres(
            f"the job queue needs PostgreSQL; database_url is {url.get_backend_name()} "
            "(on SQLite, run audits in-process with `edossier audit run`)"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_job_app(settings: Settings) -> procrastinate.App:
    """The Procrastinate app for ``settings`` (not opened), with every edossier task registered.

    Raises:
        JobsNeedPostgres: the catalog is not PostgreSQL.
    """
    from api.jobs.tasks import register_tasks

    conninfo = job_conninfo(settings.effective_database_url)
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo,
        kwargs={"options": f"-c search_path={JOB_SCHEMA}", "connect_timeout": 5},
        min_size=1,
        max_size=4,
    )
    app = procrastinate.App(connector=connector, import_paths=["api.jobs.tasks"])
    register_tasks(app, settings)
    return app
