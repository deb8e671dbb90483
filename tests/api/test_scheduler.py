"""The in-process scheduler of ``edossier serve`` (SQLite): it starts what the policy says is due."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from api.scheduler import InProcessScheduler, next_time
from api.wiring import initialise, open_installation
from archive.catalog.models import AuditRun
from archive.sample import generate_sample
from archive.settings import JobSettings, Settings
from integrity.audit.policy import AuditPolicy

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


def test_next_time_follows_cron_with_seconds() -> None:
    t = dt.datetime(2025, 1, 1, 0, 0, 7, tzinfo=dt.UTC)
    assert next_time("* * * * * */5", t) == dt.datetime(2025, 1, 1, 0, 0, 10, tzinfo=dt.UTC)
    assert next_time("30 1 * * *", t) == dt.datetime(2025, 1, 1, 1, 30, tzinfo=dt.UTC)


def test_scheduler_runs_the_due_audit_in_process(tmp_path: Path, fresh_database_url: Callable[..., str]) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=fresh_database_url("sqlite"),
        audit=AuditPolicy(batch_seconds=100 * 86400),
        jobs=JobSettings(audit_tick_cron="* * * * * *", overdue_cron="* * * * * */2"),
    )
    initialise(settings)
    inst = open_installation(settings)
    try:
        package = tmp_path / "pkg"
        generate_sample(package, seed=61, documents=2, now=SAMPLE_NOW)
        assert inst.ingest_service().ingest(package).status == "archived"
        # a year and a bit later: every dossier is due for fixity
        scheduler = InProcessScheduler(inst, clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
        scheduler.start()
        try:
            deadline = time.monotonic() + 30
            while True:
                with inst.sessions() as session:
                    runs = session.scalars(select(AuditRun).where(AuditRun.status != "running")).all()
                if runs or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        finally:
            scheduler.stop()
        assert [(r.scope, r.status) for r in runs][:1] == [("scheduled", "passed")]
    finally:
        inst.close()
