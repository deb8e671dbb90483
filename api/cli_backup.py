"""``edossier backup``, ``edossier backup list`` and ``edossier restore`` (:mod:`archive.backup`).

``backup [--json]`` writes one backup to the store ``EDOSSIER_BACKUP__*`` configures: exit 0 when it is
complete and clean, 1 when it was written but recorded problems (an object whose bytes differ from the
catalog, a catalogued object missing from the main store, a different object already in the backup
store), 2 when no backup store is configured (or it is the main store), 3 when the database, the main
store or the backup store is unavailable (no ``backup.json`` is written then).

``backup list [--json]`` lists the complete backups (and interrupted ones, which are never restored).

``restore [BACKUP_ID|latest] --to-data-dir DIR [--database-url URL] [--store fs|s3] [--json]`` restores
into a NEW installation: the database (SQLite in DIR unless ``--database-url``) must be empty; objects go
to DIR/objects (or, with ``--store s3``, to the bucket ``EDOSSIER_S3__*`` names). Exit 0 when every
digest, the row counts and the ledger root verified; 1 when anything did not (the failures name the
keys); 2 when the backup does not exist or the target is not empty; 3 when a store or database is
unavailable. With ``--json`` stdout holds exactly one JSON object.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from api import cli_output as ui
from api.cli_common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    DataDirOption,
    JsonOption,
    exit_unavailable,
    open_or_exit,
    settings_for,
)
from archive.backup.create import create_backup
from archive.backup.layout import PREFIX, BackupManifest, complete_backups, incomplete_backups
from archive.backup.restore import RestoreReport, restore_backup
from archive.backup.store import describe_store, open_backup_store, read_manifest
from archive.settings import Settings
from archive.stores import ObjectStore
from integrity.reports.header import installed_version
from standards.errors import BadInput, EdossierError, StorageError, VerificationFailed

backup_app = typer.Typer(help="备份 backups: write one, list them (restore with `edossier restore`).")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _refuse(error: EdossierError, as_json: bool, code: int, **payload: Any) -> NoReturn:
    if as_json:
        ui.emit_json({**payload, "error": {"code": error.code, "message": error.message}})
    ui.err.print(error.diagnostics(), markup=False)
    raise typer.Exit(code)


def _backup_store(settings: Settings, as_json: bool, *, prepare: bool) -> ObjectStore:
    try:
        store = open_backup_store(settings, prepare=prepare)
        store.check_ready()
        return store
    except BadInput as error:  # not configured, or the main store itself
        _refuse(error, as_json, EXIT_USAGE, status="not_configured")
    except StorageError as error:
        exit_unavailable(error, as_json)


def _manifest_json(manifest: BackupManifest, store: ObjectStore) -> dict[str, Any]:
    return {
        "status": "complete" if not manifest.problems else "complete_with_problems",
        "store": describe_store(store),
        "key": f"{PREFIX}{manifest.backup_id}/backup.json",
        **manifest.as_dict(),
    }


@backup_app.callback(invoke_without_command=True)
def backup(ctx: typer.Context, data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Write one backup: catalog dump, public keys, object inventory and new objects, backup.json last."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"data_dir": data_dir}
        return
    settings = settings_for(data_dir)
    store = _backup_store(settings, as_json, prepare=True)
    inst = open_or_exit(settings, as_json)
    try:
        inst.store.check_ready()
        with ui.err.status("备份中 backing up…"):
            manifest = create_backup(
                settings, inst.engine, inst.store, store, utcnow(), tool_version=installed_version()
            )
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(_manifest_json(manifest, store))
    else:
        ui.out.print(
            f"[green]备份完成[/] backup {manifest.backup_id} → {describe_store(store)}：对象 {manifest.objects} 个"
            f"（本次复制 {manifest.copied} 个，{manifest.object_bytes} 字节），目录 {sum(manifest.rows.values())} 行，"
            f"账本 {manifest.ledger.size} 个叶子，根哈希 {manifest.ledger.root}"
        )
        for problem in manifest.problems:
            ui.out.print(f"[red]问题[/] {problem.get('code')}: {problem.get('message')}")
    raise typer.Exit(EXIT_INVALID if manifest.problems else EXIT_OK)


@backup_app.command("list")
def list_backups(ctx: typer.Context, data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """List the backups in the backup store, newest last (incomplete ones are never restored)."""
    settings = settings_for(data_dir or (ctx.obj or {}).get("data_dir"))
    store = _backup_store(settings, as_json, prepare=False)
    rows: list[dict[str, Any]] = []
    try:
        keys = [info.key for info in store.iter_objects(PREFIX)]
        for backup_id in complete_backups(keys):
            try:
                m = read_manifest(store, backup_id)
            except VerificationFailed as error:
                rows.append(
                    {"backup_id": backup_id, "complete": True, "readable": False, "error": error.message}
                )
                continue
            rows.append(
                {
                    "backup_id": backup_id,
                    "complete": True,
                    "created_at": m.created_at.isoformat(),
                    "objects": m.objects,
                    "object_bytes": m.object_bytes,
                    "ledger_size": m.ledger.size,
                    "problems": len(m.problems),
                }
            )
        rows += [{"backup_id": i, "complete": False} for i in incomplete_backups(keys)]
    except StorageError as error:
        exit_unavailable(error, as_json)
    if as_json:
        ui.emit_json({"store": describe_store(store), "backups": rows})
        return
    table = Table(title=f"备份 backups（{describe_store(store)}）")
    for column in ("备份 id", "时间 created", "对象 objects", "字节 bytes", "账本 ledger", "状态 state"):
        table.add_column(column, overflow="fold")
    for r in rows:
        state = "未完成（不可恢复）" if not r["complete"] else ("有问题" if r.get("problems") else "完整")
        created = r.get("created_at")
        table.add_row(
            r["backup_id"],
            created[:19].replace("T", " ") + "Z" if created else "—",
            str(r.get("objects", "—")),
            str(r.get("object_bytes", "—")),
            str(r.get("ledger_size", "—")),
            state,
        )
    ui.out.print(table)


def _print_restore(report: RestoreReport, target: Settings) -> None:
    line = (
        f"备份 {report.backup_id}：目录 {sum(report.rows.values())} 行，对象 {report.objects_restored}/"
        f"{report.objects_expected} 个（{report.bytes_restored} 字节），账本 {report.ledger_size} 个叶子，"
        f"根哈希 {report.ledger_root}"
    )
    if report.verified:
        ui.out.print(f"[green]恢复完成，核验通过[/] restore verified：{line}")
    else:
        ui.out.print(f"[bold red]恢复核验未通过[/] restore verification failed：{line}")
        table = Table(title="核验问题 failures")
        for column in ("代码 code", "对象 key", "应为 expected", "实为 found", "说明 message"):
            table.add_column(column, overflow="fold")
        for f in report.failures:
            table.add_row(f.code, f.key or "—", f.expected_sha256 or "—", f.found_sha256 or "—", f.message)
        if not report.ledger_matches:
            table.add_row(
                "ledger_root_mismatch", "—", report.ledger_expected_root, report.ledger_root, "账本根哈希不符"
            )
        for finding in report.ledger_verify.get("findings", []):
            table.add_row(str(finding.get("code")), "—", "—", "—", str(finding.get("message")))
        ui.out.print(table)
    ui.out.print(
        f"私钥不在备份中 private keys are not in backups：把离线保存的 .key 文件放回 {target.keys_dir}（权限 0600），"
        f"再运行 edossier --data-dir {target.data_dir} ledger verify",
        markup=False,
    )


def restore(
    to_data_dir: Annotated[
        Path, typer.Option("--to-data-dir", file_okay=False, help="Data directory of the NEW installation.")
    ],
    backup_id: Annotated[str, typer.Argument(help="Backup id, or 'latest'.")] = "latest",
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Empty target database (default: SQLite in --to-data-dir)."),
    ] = None,
    store: Annotated[
        str, typer.Option("--store", help="Target object store: fs (DIR/objects) or s3 (EDOSSIER_S3__*).")
    ] = "fs",
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup into an empty installation and verify every digest and the ledger root."""
    if store not in ("fs", "s3"):
        _refuse(BadInput(f"--store: expected fs or s3, found {store!r}"), as_json, EXIT_USAGE, verified=False)
    settings = settings_for(data_dir)
    source = _backup_store(settings, as_json, prepare=False)
    target = settings.model_copy(
        update={"data_dir": to_data_dir, "database_url": database_url, "store": store}
    )
    try:
        with ui.err.status("恢复中 restoring…"):
            report = restore_backup(source, backup_id, target, utcnow())
    except BadInput as error:  # no such backup, target not empty, dump from a newer edossier
        _refuse(error, as_json, EXIT_USAGE, verified=False)
    except VerificationFailed as error:  # a part of the backup does not match backup.json
        _refuse(error, as_json, EXIT_INVALID, verified=False)
    except StorageError as error:
        exit_unavailable(error, as_json)
    if as_json:
        ui.emit_json(report.as_dict())
    else:
        _print_restore(report, target)
    raise typer.Exit(EXIT_OK if report.verified else EXIT_INVALID)
