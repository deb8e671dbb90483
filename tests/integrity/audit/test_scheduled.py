"""Scheduled audits: the policy decides which dossiers are checked now, and a run checks just those."""

from __future__ import annotations

import datetime as dt
import doctest
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

import integrity.audit.scheduled as scheduled_module
from api.cli_audit import audit_app
from api.wiring import Installation, initialise, open_installation
from archive.catalog.models import AuditResult, AuditRun, Dossier
from archive.sample import generate_sample
from archive.settings import Settings
from integrity.audit.policy import AuditPolicy, ObjectState
from integrity.audit.runner import complete_run
from integrity.audit.scheduled import due_now, next_quarter_start, read_states, start_due_run

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
T = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

cli = typer.Typer()
cli.add_typer(audit_app, name="audit")


def test_docstring_examples_run() -> None:
    assert doctest.testmod(scheduled_module).failed == 0


def test_next_quarter_start_rolls_over_the_year() -> None:
    assert next_quarter_start(dt.datetime(2025, 11, 3, tzinfo=dt.UTC)) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert next_quarter_start(T) == dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def _state(key: str, last: dt.datetime) -> ObjectState:
    return ObjectState(key, "fs", 100, T - 900 * DAY, last, last)


def test_fresh_dossiers_are_not_due_and_expired_ones_are() -> None:
    policy = AuditPolicy(batch_seconds=120 * 86400, sample_fraction=0.01)
    fresh = [_state(f"F{i}", T - DAY) for i in range(50)]
    stale = [_state(f"S{i}", T - 400 * DAY) for i in range(5)]
    chosen = due_now(fresh + stale, policy, T)
    assert set(chosen.fixity) >= {s.key for s in stale}
    # the quarter's 1 % sample (ceil: one dossier) gets a full check; the others are fresh
    assert len(set(chosen.fixity) - {s.key for s in stale}) <= 1
    assert set(chosen.full) <= set(chosen.fixity)


def test_slots_not_yet_begun_wait_for_a_later_tick() -> None:
    policy = AuditPolicy(batch_seconds=3600)
    stale = [_state(f"S{i:03d}", T - 400 * DAY) for i in range(200)]
    early = due_now(stale, policy, dt.datetime(2025, 1, 1, 0, 30, tzinfo=dt.UTC))  # first hour of Q1
    late = due_now(stale, policy, dt.datetime(2025, 3, 31, 23, 30, tzinfo=dt.UTC))  # last hour of Q1
    assert len(early.fixity) < 10 and early.later > 190  # spread over the quarter, not one burst
    assert len(late.fixity) == 200 and late.later == 0
    assert set(early.fixity) <= set(late.fixity)


# ---------------------------------------------------------------- against a real catalog
@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("scheduled-samples")
    for seed in (41, 42):
        generate_sample(base / f"d{seed}", seed=seed, documents=2, now=SAMPLE_NOW)
    return [base / "d41", base / "d42"]


@pytest.fixture
def inst(tmp_path: Path, samples: list[Path], fresh_database_url: Callable[..., str]) -> Iterator[Installation]:
    policy = AuditPolicy(batch_seconds=100 * 86400)  # one slot per quarter: everything due is begun
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("sqlite"), audit=policy)
    initialise(settings)
    inst = open_installation(settings)
    for sample in samples:
        assert inst.ingest_service().ingest(sample).status == "archived"
    yield inst
    inst.close()


def _archived_at(inst: Installation) -> dt.datetime:
    with inst.sessions() as session:
        return max(session.scalars(select(Dossier.archived_at)))


def test_nothing_is_due_right_after_archiving(inst: Installation) -> None:
    assert start_due_run(inst, _archived_at(inst)) is None


def test_a_year_later_every_dossier_is_checked_once_and_then_nothing_is_due(inst: Installation) -> None:
    later = _archived_at(inst) + 400 * DAY
    with inst.sessions() as session:
        states = read_states(session, inst.store.name)
        ids = sorted(session.scalars(select(Dossier.archive_id)))
    assert [s.key for s in states] == ids
    started = start_due_run(inst, later)
    assert started is not None and started.batches >= 1
    assert start_due_run(inst, later) is None  # one scheduled run at a time
    summary = complete_run(inst, started.run_id, later, clock=lambda: later)
    assert summary.status == "passed" and summary.scope == "scheduled"
    with inst.sessions() as session:
        rows = session.execute(
            select(AuditResult.archive_id, AuditResult.check).where(AuditResult.run_id == started.run_id)
        ).all()
        run = session.get(AuditRun, started.run_id)
    assert run is not None and run.status == "passed" and run.leaf_index is not None
    assert {a for a, check in rows if check == "ledger" and a} == set(ids)
    full_checked = {a for a, check in rows if check == "assemble"}
    assert len(full_checked) == 1  # the quarter's 5 % sample of two dossiers: one, with its BC stage
    assert start_due_run(inst, later) is None  # all checked: nothing is due any more


def test_cli_scheduled_scope_says_when_nothing_is_due(inst: Installation) -> None:
    result = CliRunner().invoke(
        cli,
        ["audit", "run", "--scope", "scheduled", "--json"],
        env={
            "EDOSSIER_DATA_DIR": str(inst.settings.data_dir),
            "EDOSSIER_DATABASE_URL": inst.settings.effective_database_url,
        },
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"status": "nothing_due", "run_id": None}


def test_queue_needs_postgres(inst: Installation) -> None:
    result = CliRunner().invoke(
        cli,
        ["audit", "run", "--queue"],
        env={
            "EDOSSIER_DATA_DIR": str(inst.settings.data_dir),
            "EDOSSIER_DATABASE_URL": inst.settings.effective_database_url,
        },
    )
    assert result.exit_code == 2
    assert "needs PostgreSQL" in result.output
