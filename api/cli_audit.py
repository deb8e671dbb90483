"""``edossier audit …``: run an integrity audit, show a run's results, report coverage.

``audit run`` exits 0 when every check passed, 1 when any incident was found (each object named
with its evidence), 3 when the store or database could not be reached and no incident was found.
When the database fails mid-run the run stays ``running`` and the message names it and how to
continue it (``--resume RUN_ID``); nothing it recorded is lost.
``audit run --scope full [--dossier ID]`` adds the DA/T 70 BC (长期保存) stage per dossier.
``audit show RUN_ID`` prints a run's recorded results (the evidence alerts link to).
``audit coverage`` lists, per object, when it was last verified and which are overdue.
The work is done by :mod:`integrity.audit.runner` and :mod:`integrity.audit.coverage`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from api import cli_output as ui
from api.cli_common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    DataDirOption,
    JsonOption,
    exit_unavailable,
    fail_usage,
    open_or_exit,
    settings_for,
)
from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import AuditResult, AuditRun
from archive.settings import Settings
from integrity.audit.coverage import DEFAULT_MAX_AGE, read_coverage
from integrity.audit.runner import (
    SCOPES,
    AuditSummary,
    CheckResult,
    complete_run,
    result_from_row,
    run_audit,
    start_run,
)
from integrity.audit.scheduled import start_due_run
from standards.errors import BadInput, StorageError

if TYPE_CHECKING:
    from api.wiring import Installation

RUN_SCOPES = (*SCOPES, "scheduled")

audit_app = typer.Typer(
    help="Integrity audits: fixity, ledger binding, reconciliation, DA/T 70 BC stage.", no_args_is_help=True
)

EXIT_FOR_STATUS = {"passed": EXIT_OK, "failed": EXIT_INVALID, "unreachable": EXIT_UNAVAILABLE}


def _evidence_text(result: CheckResult) -> str:
    ev = result.evidence
    if result.check == "fixity":
        parts = [f"{ev.get('fixity')}"]
        for algorithm in ("sha256", "sm3"):
            if f"expected_{algorithm}" in ev:
                parts.append(
                    f"{algorithm} expected {ev[f'expected_{algorithm}']} found {ev.get(f'found_{algorithm}')}"
                )
        if ev.get("expected_size") is not None or ev.get("found_size") is not None:
            parts.append(f"size expected {ev.get('expected_size')} found {ev.get('found_size')}")
        if "error" in ev:
            parts.append(str(ev["error"]))
        return "; ".join(parts)
    if result.check.startswith("BC-"):  # a DA/T 70 BC item (scope full): its status and summary first
        detail = json.dumps(ev.get("problems", []), ensure_ascii=False)[:800]
        return f"{ev.get('status')}: {ev.get('summary')} {detail}"
    return json.dumps(ev, ensure_ascii=False, sort_keys=True)[:1000]


def _results_table(results: list[CheckResult], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for column in ("检查 check", "对象 object", "结果 outcome", "证据 evidence"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(r.check, r.key, r.outcome, _evidence_text(r))
    return table


def _print_summary(summary: AuditSummary) -> None:
    word = {
        "passed": "[green]审计通过[/]",
        "failed": "[bold red]审计发现完整性事件[/]",
        "unreachable": "[yellow]审计未完成（存储不可达）[/]",
    }
    ui.out.print(f"{word[summary.status]} audit {summary.status}: run {summary.run_id}")
    c = summary.counts
    ui.out.print(
        f"  checked {c.get('checked', 0)}, ok {c.get('ok', 0)}, incident {c.get('incident', 0)},"
        f" unreachable {c.get('unreachable', 0)}"
    )
    ui.out.print(f"  results sha256 : {summary.results_sha256}", markup=False)
    if summary.leaf_index is not None:
        ui.out.print(f"  audit.completed leaf : {summary.leaf_index}", markup=False)
    if summary.ledger_error:
        ui.out.print(f"  ledger refused audit.completed: {summary.ledger_error}", markup=False)
    if summary.incidents:
        ui.out.print("完整性事件 incidents:")
        for r in summary.incidents:  # one line each: object and evidence stay greppable
            ui.out.print(f"  INCIDENT {r.check} {r.key}: {_evidence_text(r)}", markup=False)
    if summary.unreachable:
        ui.out.print(_results_table(summary.unreachable[:20], "不可达 unreachable (not tampering)"))


@audit_app.command("run")
def audit_run(
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
    scope: Annotated[
        str,
        typer.Option(
            help=f"What to audit: {', '.join(RUN_SCOPES)} (scheduled: what the policy says is due now)."
        ),
    ] = "fixity",
    workers: Annotated[int, typer.Option(min=1, max=64, help="Threads hashing objects in parallel.")] = 1,
    resume: Annotated[str | None, typer.Option(help="Continue an interrupted run (its id).")] = None,
    dossier: Annotated[
        str | None,
        typer.Option(help="With --scope full: run the DA/T 70 BC stage for this archive id only."),
    ] = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="PostgreSQL: hand the batches to `edossier worker`s instead.")
    ] = False,
    wait: Annotated[
        float | None, typer.Option(min=0, help="With --queue: wait up to SECONDS for the workers to finish.")
    ] = None,
) -> None:
    """Re-hash every stored object, check the ledger binding and reconcile catalog and store.

    ``--scope full`` also re-assembles each dossier's AIP from the store and runs the DA/T 70
    长期保存 (BC) stage on it, storing a detection report per dossier.
    """
    settings = settings_for(data_dir)
    if scope not in RUN_SCOPES:
        fail_usage(f"--scope: expected one of {', '.join(RUN_SCOPES)}, found {scope!r}")
    if dossier is not None and scope != "full":
        fail_usage(f"--dossier: only --scope full audits one dossier, found --scope {scope}")
    if (queue or wait is not None) and resume is not None:
        fail_usage("--resume: runs an interrupted run here; it cannot be combined with --queue/--wait")
    if wait is not None and not queue:
        fail_usage("--wait: only with --queue")
    if queue:
        _queue_and_maybe_wait(settings, scope, dossier, wait, as_json)
    inst = open_or_exit(settings, as_json)
    run_id = resume if scope != "scheduled" else None  # the run an outage interrupts, once known
    try:
        now = dt.datetime.now(dt.UTC)
        if scope == "scheduled":
            summary = _run_scheduled(inst, workers, as_json)
        elif resume is not None:
            summary = run_audit(inst, scope, now, workers, resume=resume)
        else:
            dossiers = [dossier] if dossier is not None else None
            run_id = start_run(inst, scope, now, dossiers=dossiers, parallel=workers).run_id
            summary = complete_run(inst, run_id, now, workers=workers, clock=lambda: now)
    except StorageError as error:
        if run_id is not None:
            _exit_interrupted(error, run_id, as_json)
        exit_unavailable(error, as_json)
    except BadInput as error:
        fail_usage(error.message)
    finally:
        inst.close()
    _report(summary, as_json)


def _exit_interrupted(error: StorageError, run_id: str, as_json: bool) -> NoReturn:
    """The database (or store) failed after the run was planned: it stays running; say how to finish it."""
    hint = f"edossier audit run --resume {run_id}"
    if as_json:
        ui.emit_json(
            {
                "status": "unavailable",
                "run_id": run_id,
                "resume": hint,
                "error": {"code": error.code, "message": error.message},
            }
        )
    ui.err.print(error.diagnostics(), markup=False)
    ui.err.print(
        f"审计中断 audit run {run_id} interrupted; it stays running (nothing is lost): continue it with `{hint}`",
        markup=False,
    )
    raise typer.Exit(EXIT_UNAVAILABLE)


def _report(summary: AuditSummary, as_json: bool) -> NoReturn:
    if as_json:
        ui.emit_json(summary.as_dict())
    else:
        _print_summary(summary)
    raise typer.Exit(EXIT_FOR_STATUS[summary.status])


def _nothing_due(as_json: bool) -> NoReturn:
    if as_json:
        ui.emit_json({"status": "nothing_due", "run_id": None})
    else:
        ui.out.print("按审计策略当前无到期对象 nothing is due under the audit policy", markup=False)
    raise typer.Exit(EXIT_OK)


def _run_scheduled(inst: Installation, workers: int, as_json: bool) -> AuditSummary:
    now = dt.datetime.now(dt.UTC)
    started = start_due_run(inst, now)
    if started is None:
        inst.close()
        _nothing_due(as_json)
    return complete_run(inst, started.run_id, now, workers=workers)


def _queue_and_maybe_wait(
    settings: Settings, scope: str, dossier: str | None, wait: float | None, as_json: bool
) -> NoReturn:
    # imported here: the job engine (Procrastinate) is only needed with --queue
    from procrastinate.exceptions import ConnectorException

    from api.jobs.app import JobsNeedPostgres
    from api.jobs.enqueue import queue_run, wait_for_run

    inst = open_or_exit(settings, as_json)
    try:
        started = queue_run(
            inst, scope, dt.datetime.now(dt.UTC), dossiers=[dossier] if dossier is not None else None
        )
        if started is None:
            _nothing_due(as_json)
        summary = wait_for_run(inst, started.run_id, wait) if wait is not None else None
    except JobsNeedPostgres as error:
        fail_usage(error.message)
    except StorageError as error:
        exit_unavailable(error, as_json)
    except ConnectorException as exc:
        exit_unavailable(DatabaseUnavailable(f"job queue: {type(exc).__name__}: {exc}"), as_json)
    except BadInput as error:
        fail_usage(error.message)
    finally:
        inst.close()
    if summary is not None:
        _report(summary, as_json)
    body = {
        "status": "queued" if wait is None else "running",
        "run_id": started.run_id,
        "batches": started.batches,
    }
    if as_json:
        ui.emit_json(body)
    else:
        ui.out.print(
            f"审计已排队 audit queued: run {started.run_id}, {started.batches} batch(es)", markup=False
        )
    raise typer.Exit(EXIT_OK if wait is None else EXIT_UNAVAILABLE)


@audit_app.command("show")
def audit_show(
    run_id: Annotated[str, typer.Argument(help="The audit run id.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one audit run and its recorded results (the evidence alerts link to)."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        with inst.sessions() as session:
            run = session.get(AuditRun, run_id)
            rows = session.scalars(
                select(AuditResult).where(AuditResult.run_id == run_id).order_by(AuditResult.id)
            ).all()
    except SQLAlchemyError as exc:
        exit_unavailable(DatabaseUnavailable(f"audit show: {type(exc).__name__}"), as_json)
    finally:
        inst.close()
    if run is None:
        if as_json:
            ui.emit_json({"found": False, "run_id": run_id})
        else:
            ui.err.print(f"not found: no audit run {run_id!r}", markup=False)
        raise typer.Exit(EXIT_INVALID)
    results = [result_from_row(r) for r in rows]
    if as_json:
        ui.emit_json(
            {
                "found": True,
                "run_id": run.id,
                "scope": run.scope,
                "status": run.status,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "counts": json.loads(run.counts_json),
                "results_sha256": run.results_sha256,
                "leaf_index": run.leaf_index,
                "results": [r.as_dict() for r in results],
            }
        )
        return
    ui.out.print(f"audit run {run.id}: {run.scope}, {run.status}, leaf {run.leaf_index}", markup=False)
    ui.out.print(_results_table(results, "审计结果 results"))


@audit_app.command("coverage")
def audit_coverage(
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
    max_age_days: Annotated[
        int, typer.Option(min=1, help="Overdue when not verified for this many days.")
    ] = DEFAULT_MAX_AGE.days,
) -> None:
    """Per object: when it was last verified, and which are overdue (never, or too long ago)."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    now = dt.datetime.now(dt.UTC)
    try:
        with inst.sessions() as session:
            items = read_coverage(session, now, dt.timedelta(days=max_age_days))
    except SQLAlchemyError as exc:
        exit_unavailable(DatabaseUnavailable(f"audit coverage: {type(exc).__name__}"), as_json)
    finally:
        inst.close()
    overdue = [c for c in items if c.overdue]
    if as_json:
        ui.emit_json(
            {
                "objects": len(items),
                "overdue": len(overdue),
                "max_age_days": max_age_days,
                "items": [c.as_dict() for c in items],
            }
        )
        return
    table = Table(title=f"审计覆盖 coverage（{len(overdue)}/{len(items)} 逾期 overdue）")
    for column in ("对象 object", "最近核验 last verified", "逾期 overdue"):
        table.add_column(column, overflow="fold")
    for c in items:
        table.add_row(
            c.key, c.last_verified.isoformat() if c.last_verified else "从未 never", "是" if c.overdue else ""
        )
    ui.out.print(table)
