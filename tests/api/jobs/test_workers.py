"""Audit batches on real Procrastinate workers (``edossier worker`` processes) against PostgreSQL.

Each test archives dossiers into a fresh PostgreSQL catalog with a filesystem store, starts worker
processes, queues an audit run with one dossier per batch and checks what the workers recorded:
every object checked exactly once, every batch done once, ``audit.completed`` appended once. One
test kills a worker with SIGKILL in the middle of a batch and lets another worker pick it up.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from api.jobs.enqueue import queue_run, wait_for_run
from api.wiring import Installation, initialise, open_installation
from archive.catalog.models import AuditBatch, AuditResult, AuditRun, Blob, Dossier, LedgerLeaf
from archive.sample import generate_sample
from archive.settings import Settings

pytestmark = pytest.mark.postgres

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
EXE = Path(sys.executable).parent / "edossier"
DOSSIERS = 6


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("worker-samples")
    out = []
    for seed in range(31, 31 + DOSSIERS):
        generate_sample(base / f"d{seed}", seed=seed, documents=2, now=SAMPLE_NOW)
        out.append(base / f"d{seed}")
    return out


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDOSSIER_")}
    env |= {
        "EDOSSIER_DATA_DIR": str(settings.data_dir),
        "EDOSSIER_DATABASE_URL": settings.effective_database_url,
        "EDOSSIER_JOBS__OBJECTS_PER_BATCH": str(settings.jobs.objects_per_batch),
        "EDOSSIER_JOBS__RESULTS_PER_COMMIT": str(settings.jobs.results_per_commit),
        "EDOSSIER_JOBS__HEARTBEAT_S": str(settings.jobs.heartbeat_s),
        "EDOSSIER_JOBS__STALLED_AFTER_S": str(settings.jobs.stalled_after_s),
        "EDOSSIER_JOBS__STALLED_CRON": settings.jobs.stalled_cron,
        # the scheduler's tick would start runs of its own: far in the future for these tests
        "EDOSSIER_JOBS__AUDIT_TICK_CRON": "0 0 1 1 *",
        "EDOSSIER_JOBS__OVERDUE_CRON": "0 0 1 1 *",
    }
    if settings.audit.io_budget_bytes_per_s is not None:
        env["EDOSSIER_AUDIT__IO_BUDGET_BYTES_PER_S"] = str(settings.audit.io_budget_bytes_per_s)
    return env | extra


class Workers:
    """Worker processes of one installation; all are killed at the end of the test."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [str(EXE), "worker", "--name", name, "--queue", "audit", "--queue", "maintenance"],
            env=_env(self.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        return proc

    def registered(self, inst: Installation) -> int:
        with inst.engine.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM procrastinate.procrastinate_workers")).scalar_one()
            )

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def archived(
    tmp_path: Path, samples: list[Path], fresh_database_url: Callable[..., str]
) -> Iterator[Installation]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=fresh_database_url("postgresql"),
        jobs={
            "objects_per_batch": 1,
            "heartbeat_s": 0.5,
            "stalled_after_s": 3,
            "stalled_cron": "* * * * * */1",
        },
    )
    initialise(settings)
    inst = open_installation(settings)
    for sample in samples:
        assert inst.ingest_service().ingest(sample).status == "archived"
    yield inst
    inst.close()


def _one_result_per_object(inst: Installation, run_id: str) -> None:
    with inst.sessions() as session:
        rows = session.execute(
            select(AuditResult.object_key, AuditResult.check).where(AuditResult.run_id == run_id)
        ).all()
        blob_keys = set(session.scalars(select(Blob.store_key)))
        manifests = set(session.scalars(select(Dossier.manifest_key)))
    counts = Counter(rows)
    assert max(counts.values()) == 1
    fixity = {key for key, check in rows if check == "fixity"}
    assert blob_keys | manifests <= fixity  # everything catalogued was checked
    ledger = {key for key, check in rows if check == "ledger"}
    assert manifests <= ledger


def _batches(inst: Installation, run_id: str) -> list[AuditBatch]:
    with inst.sessions() as session:
        return list(session.scalars(select(AuditBatch).where(AuditBatch.run_id == run_id)))


def _audit_leaves(inst: Installation, run_id: str) -> int:
    with inst.sessions() as session:
        leaves = session.scalars(select(LedgerLeaf.data).where(LedgerLeaf.kind == "audit.completed"))
        return sum(1 for data in leaves if json.loads(data)["audit_id"] == run_id)


def test_two_workers_split_the_batches_without_duplicates(archived: Installation, tmp_path: Path) -> None:
    workers = Workers(archived.settings, tmp_path)
    try:
        workers.start("w1")
        workers.start("w2")
        _wait_until(lambda: workers.registered(archived) == 2, 60, "two registered workers")
        started = queue_run(archived, "fixity", dt.datetime.now(dt.UTC))
        assert started is not None and started.batches >= DOSSIERS
        summary = wait_for_run(archived, started.run_id, timeout_s=180)
        assert summary is not None, workers.log("w1") + workers.log("w2")
    finally:
        workers.stop_all()
    assert summary.status == "passed" and summary.incidents == []
    batches = _batches(archived, started.run_id)
    assert len(batches) == started.batches and {b.status for b in batches} == {"done"}
    assert all(b.worker and b.worker.split("@")[0] in ("w1", "w2") for b in batches)
    _one_result_per_object(archived, started.run_id)
    assert _audit_leaves(archived, started.run_id) == 1
    with archived.engine.connect() as conn:
        jobs = conn.execute(
            text(
                "SELECT status, count(*) FROM procrastinate.procrastinate_jobs "
                "WHERE task_name = 'edossier.audit_batch' GROUP BY status"
            )
        ).all()
    assert dict(jobs) == {"succeeded": started.batches}  # each batch ran exactly once


def test_a_worker_killed_mid_batch_loses_nothing_and_records_nothing_twice(
    archived: Installation, tmp_path: Path
) -> None:
    # Slow reading down (the policy's I/O budget) and commit every result, so the kill lands
    # inside a batch that has recorded part of its results.
    slow = archived.settings.model_copy(
        update={
            "audit": archived.settings.audit.model_copy(update={"io_budget_bytes_per_s": 400_000}),
            "jobs": archived.settings.jobs.model_copy(
                update={"results_per_commit": 1, "objects_per_batch": 8}
            ),
        }
    )
    archived.settings = slow  # the run is planned with the same batch size the workers use
    workers = Workers(slow, tmp_path)
    try:
        victim = workers.start("victim")
        _wait_until(lambda: workers.registered(archived) == 1, 60, "the first worker")
        started = queue_run(archived, "fixity", dt.datetime.now(dt.UTC))
        assert started is not None

        def partly_recorded() -> bool:
            with archived.sessions() as session:
                recorded = session.scalar(
                    select(func.count()).select_from(AuditResult).where(AuditResult.run_id == started.run_id)
                )
                done = session.scalar(
                    select(func.count())
                    .select_from(AuditBatch)
                    .where(AuditBatch.run_id == started.run_id, AuditBatch.status != "pending")
                )
            return (recorded or 0) >= 2 and done == 0

        _wait_until(partly_recorded, 60, "a batch half done")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        with archived.sessions() as session:
            before = session.scalar(
                select(func.count()).select_from(AuditResult).where(AuditResult.run_id == started.run_id)
            )
        workers.start("rescuer")
        summary = wait_for_run(archived, started.run_id, timeout_s=240)
        assert summary is not None, workers.log("rescuer")
    finally:
        workers.stop_all()
    assert summary.status == "passed" and summary.incidents == []
    assert "retrying job" in workers.log("rescuer")  # the stalled batch went back to the queue
    batches = _batches(archived, started.run_id)
    assert {b.status for b in batches} == {"done"}
    assert all(b.worker and b.worker.startswith("rescuer@") for b in batches)
    _one_result_per_object(archived, started.run_id)
    assert before is not None and before > 0
    assert _audit_leaves(archived, started.run_id) == 1
    with archived.sessions() as session:
        run = session.get(AuditRun, started.run_id)
        assert run is not None and run.status == "passed" and run.leaf_index is not None
