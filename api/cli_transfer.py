"""``edossier export`` and ``edossier import``: transfer to the state archive and accession (DA/T 93-2022).

``export (--all | --case-number N ...) -o DIR [--json]`` writes a transfer package (layout in
docs/transfer.md) after the sender's DA/T 70 YJ stage passed for every record; ``import DIR [--trust
CERT] [--report-dir DIR] [--json]`` checks a transfer package as the receiving archive and archives its
records when everything passes. With ``--json`` stdout holds exactly one object:
:meth:`archive.transfer.export.ExportOutcome.as_json` / :meth:`archive.transfer.accession.ImportOutcome.as_json`
(or ``{"status": "unavailable", "error": …}`` / ``{"written"|"accepted": false, "error": …}``).

Exit codes — export: 0 written (YJ passed), 1 refused (YJ failed — nothing written or recorded; a
damaged stored object; a 案号 not found), 2 usage (no selection, both selections, DIR not empty),
3 store/database unavailable. import: 0 accepted, 1 rejected (nothing archived unless the output
says so), 2 usage (DIR missing, ``--trust`` unreadable), 3 unavailable.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from api import cli_output as ui
from api.cli_common import (
    EXIT_INVALID,
    EXIT_OK,
    DataDirOption,
    JsonOption,
    exit_unavailable,
    fail_usage,
    open_or_exit,
    settings_for,
)
from archive.transfer.errors import TransferSelectionEmpty, TransferTargetNotEmpty
from archive.transfer.findings import Finding
from integrity.eep_key import eep_key_paths
from standards.errors import BadInput, EdossierError, StorageError, VerificationFailed


def _refuse(error: EdossierError, as_json: bool, key: str) -> NoReturn:
    if as_json:
        ui.emit_json({key: False, "error": {"code": error.code, "message": error.message}})
    ui.err.print(error.diagnostics(), markup=False)
    raise typer.Exit(EXIT_INVALID)


def _failures_table(failures: tuple[Finding, ...], title: str) -> Table:
    table = Table(title=title, show_lines=False, expand=False)
    for column in ("检测项", "档号", "代码", "说明"):
        table.add_column(column, overflow="fold")
    for f in failures:
        table.add_row(*(Text(x) for x in (f.item, f.record or "（整个信息包）", f.code, f.zh)))
    return table


# ---------------------------------------------------------------------------- export
def export_command(
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Folder to write (new or empty).")] = None,
    case_numbers: Annotated[
        list[str] | None, typer.Option("--case-number", help="案号 (or archive id) to transfer; repeatable.")
    ] = None,
    all_dossiers: Annotated[bool, typer.Option("--all", help="Transfer every archived dossier.")] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """移交：生成 DA/T 93-2022 移交信息包（含 DA/T 48 封装包、固化信息与签名登记表）(transfer package)."""
    from archive.transfer.export import export_transfer
    from archive.transfer.selection import check_target, select_dossiers

    if out is None:
        fail_usage("-o DIR: expected the folder to write the transfer package to")
    if all_dossiers == bool(case_numbers):
        fail_usage("expected either --all or one or more --case-number, not both and not neither")
    try:
        check_target(out)
    except TransferTargetNotEmpty as error:
        fail_usage(error.message)
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        with ui.err.status("移交信息包生成中 building the transfer package…"):
            selected = select_dossiers(inst, case_numbers or [], all_dossiers)
            outcome = export_transfer(inst, selected, out, now=dt.datetime.now(dt.UTC), actor="cli")
    except (TransferSelectionEmpty, TransferTargetNotEmpty) as error:
        fail_usage(error.message)
    except StorageError as error:
        exit_unavailable(error, as_json)
    except (BadInput, VerificationFailed) as error:  # not found, damaged object, no usable 档号
        _refuse(error, as_json, "written")
    finally:
        inst.close()
    if as_json:
        ui.emit_json(outcome.as_json())
    else:
        certificate = eep_key_paths(settings.keys_dir, settings.transfer.eep_key_name)[1]
        _print_export(outcome.as_json(), outcome.failures, outcome.warnings, certificate)
    raise typer.Exit(EXIT_OK if outcome.written else EXIT_INVALID)


def _print_warnings(warnings: tuple[Finding, ...]) -> None:
    for w in warnings:
        ui.out.print(f"  警告 {w.item} {w.record or ''} {w.zh}", markup=False)


def _print_export(
    doc: dict[str, Any], failures: tuple[Finding, ...], warnings: tuple[Finding, ...], certificate: Path
) -> None:
    _print_warnings(warnings)
    if not doc["written"]:
        ui.out.print("[red]移交方检测未通过，未生成移交信息包，未记录台账[/]")
        ui.out.print(_failures_table(failures, "未通过的检测项（DA/T 70-2018 移交与接收环节）"))
        return
    ui.out.print(f"[green]移交信息包已生成[/]：{escape(doc['path'])}（移交标识 {doc['transfer_id']}）")
    for r in doc["records"]:
        ui.out.print(
            f"  {r['archival_code']}  {r['case_number']}  四性检测通过  封装包 sha256:{r['eep_sha256']}"
            f"  台账叶 {r['leaf_index']}",
            markup=False,
        )
    ui.out.print(
        f"  计算机文件 {doc['file_count']} 个，{doc['total_bytes']} 字节；登记表 sha256:{doc['register_sha256']}"
    )
    ui.out.print(
        f"  签名证书 {certificate}（sha256:{doc['certificate_sha256']}）：请另行交给接收方，接收时以 --trust 指定",
        markup=False,
    )


# ---------------------------------------------------------------------------- import
def import_command(
    path: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="The transfer package folder.")],
    trust: Annotated[
        Path | None,
        typer.Option(
            "--trust",
            exists=True,
            dir_okay=False,
            help="PEM/DER certificate(s) the sender's key must chain to.",
        ),
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option("--report-dir", file_okay=False, help="Where the receiver's 登记表 and reports go."),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """接收：检测移交信息包（DA/T 70 移交与接收环节），全部通过后入库 (accession of a transfer package)."""
    from archive.transfer.accession import import_transfer
    from archive.transfer.register_check import trust_roots

    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        try:
            roots = trust_roots(inst, trust)
        except (OSError, ValueError) as error:
            fail_usage(f"--trust / eep_trusted_roots: cannot read certificates: {error}")
        with ui.err.status("接收检测中 checking the transfer package…"):
            outcome = import_transfer(
                inst, path, roots=roots, report_dir=report_dir, now=dt.datetime.now(dt.UTC)
            )
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(outcome.as_json())
    else:
        _print_import(outcome.as_json(), outcome.failures, outcome.warnings)
    raise typer.Exit(EXIT_OK if outcome.accepted else EXIT_INVALID)


def _print_import(doc: dict[str, Any], failures: tuple[Finding, ...], warnings: tuple[Finding, ...]) -> None:
    trust = "已验证" if doc["trust"] == "verified" else "未验证（未指定 --trust，仅以随包证书验证）"
    about = f"移交标识 {escape(str(doc['transfer_id']))}，移交单位 {escape(str(doc['sender']))}；签名证书信任：{trust}"
    if doc["accepted"]:
        ui.out.print(f"[green]接收通过[/]：{about}")
    else:
        ui.out.print(f"[red]接收未通过，未入库[/]：{about}")
    for r in doc["records"]:
        state = (
            "已入库 " + str(r["archive_id"])
            if r["archive_id"]
            else ("重复，已在本馆" if r["duplicate_of"] else "未入库")
        )
        ui.out.print(f"  {r['archival_code']}  {r['case_number']}  {state}", markup=False)
    _print_warnings(warnings)
    if failures:
        ui.out.print(_failures_table(failures, "未通过的检测项（DA/T 70-2018 移交与接收环节）"))
    ui.out.print(f"接收方登记表：{doc['register']}", markup=False)
