"""``edossier storage probe`` and ``edossier storage reconcile``: prove WORM, reconcile catalog and store.

``storage probe [--json]`` runs :func:`archive.worm_probe.probe_worm` on the configured store: exit 0
when the store proved it enforces WORM, 1 when it did not (``not_enforced``, or ``unsupported`` for a
store without retention: WORM is not proven either way), 3 when the store is unreachable.

``storage reconcile [--json]`` runs :func:`archive.reconcile.reconcile`: exit 0 when clean (info
findings such as orphans do not count), 1 when there are incidents, 3 when the store or the
database is unreachable. With ``--json`` stdout holds exactly one JSON object (the report's
``as_dict()``). Neither command changes or deletes anything stored; scheduling them is the audit's job.
"""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from api import cli_output as ui
from api.cli_common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    DataDirOption,
    JsonOption,
    exit_unavailable,
    open_or_exit,
    settings_for,
)
from archive.reconcile import ReconcileReport, reconcile
from archive.stores import open_store
from archive.worm_probe import ProbeReport, probe_worm
from standards.errors import StorageError

storage_app = typer.Typer(help="对象存储 object store: WORM probe and reconciliation.", no_args_is_help=True)

PROBE_EXIT = {"enforced": EXIT_OK, "not_enforced": EXIT_INVALID, "unsupported": EXIT_INVALID}
RECONCILE_EXIT = {"clean": EXIT_OK, "incidents": EXIT_INVALID, "unreachable": EXIT_UNAVAILABLE}
VERDICT_WORDS = {
    "enforced": "[green]WORM 有效[/]",
    "not_enforced": "[bold red]WORM 未强制执行[/]",
    "unsupported": "[yellow]不支持保留期[/]",
    "unreachable": "[bold yellow]存储不可达[/]",
}
SEVERITY_WORDS = {"incident": "[red]事件[/]", "unreachable": "[yellow]不可达[/]", "info": "提示"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@storage_app.callback()
def _storage() -> None:
    """对象存储 object store: WORM probe and reconciliation."""


def _print_probe(report: ProbeReport) -> None:
    table = Table(title=f"WORM 探测 probe（{report.store}）", show_lines=False)
    for column in ("检查 check", "结果 result", "说明 detail"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        table.add_row(check.name, "[green]通过[/]" if check.passed else "[red]不通过[/]", check.detail)
    ui.out.print(table)
    ui.out.print(f"{VERDICT_WORDS[report.verdict]}：{report.summary}", markup=True)
    if report.key:
        ui.out.print(f"  探测对象 canary: {report.key}（锁定到期后自然过期，不删除）", markup=False)


@storage_app.command("probe")
def probe(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Write a locked canary and prove the store refuses delete, overwrite and retention shortening."""
    settings = settings_for(data_dir)
    try:
        report = probe_worm(open_store(settings), utcnow())
    except StorageError as error:  # the store refused to let us run the probe at all
        exit_unavailable(error, as_json)
    if as_json:
        ui.emit_json(report.as_dict())
    else:
        _print_probe(report)
    raise typer.Exit(PROBE_EXIT.get(report.verdict, EXIT_UNAVAILABLE))


def _print_reconcile(report: ReconcileReport) -> None:
    shown = report.findings
    if shown:
        table = Table(title="存储核对发现 reconciliation findings", show_lines=False)
        for column in ("级别 severity", "类型 kind", "对象 key", "说明 message"):
            table.add_column(column, overflow="fold")
        for f in shown:
            table.add_row(SEVERITY_WORDS[f.severity], f.kind, f.key or "—", f.message)
        ui.out.print(table)
    counts = report.counts
    line = (
        f"目录登记 {counts.get('expected_objects', 0)} 个对象，存储中 {counts.get('stored_objects', 0)} 个；"
        f"事件 {counts.get('incident', 0)}，提示 {counts.get('info', 0)}"
    )
    if report.status == "clean":
        ui.out.print(f"[green]核对通过[/] reconciliation clean：{line}")
    elif report.status == "incidents":
        ui.out.print(f"[bold red]发现事件[/] incidents found：{line}")
    else:
        ui.out.print("[bold yellow]存储不可达[/] store unreachable：本次核对未完成，不构成篡改告警")


@storage_app.command("reconcile")
def reconcile_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Check that every catalogued object is stored, intact in size and locked; report orphans."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        with inst.sessions() as session:
            report = reconcile(session, inst.store, settings, utcnow())
    except StorageError as error:  # the catalog database (store outages are findings)
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(report.as_dict())
    else:
        _print_reconcile(report)
    raise typer.Exit(RECONCILE_EXIT[report.status])
