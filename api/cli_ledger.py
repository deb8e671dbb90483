"""``edossier ledger verify`` and ``edossier ledger rotate-key`` (command functions for the ledger group).

``ledger verify`` recomputes the tree from the stored leaves and checks nodes, head and every
signed checkpoint (:mod:`integrity.ledger.verify`) with the verifier keys in the data directory,
retired ones included; exit 0 when everything holds, 1 when anything was found, 3 when the
database is unavailable. ``ledger rotate-key`` replaces the Ed25519 checkpoint key
(:mod:`integrity.ledger.rotation`); exit 1 when the ledger refuses to sign.

:func:`checkpoint_signers` gives the signers every checkpoint should carry (Ed25519, plus SM2
when ``sm2_signing_key_name`` is set) for other commands and services to use.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

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
from api.wiring import checkpoint_signers
from integrity.ledger.rotation import load_known_verifiers, rotate_signing_key
from integrity.ledger.verify import LedgerReport, check_ledger
from standards.errors import BadInput, StorageError, VerificationFailed


def _findings_table(report: LedgerReport) -> Table:
    table = Table(title="账本核验问题 ledger findings", show_lines=False)
    for column in ("代码 code", "位置 position", "说明 message"):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        where = []
        if f.leaf_index is not None:
            where.append(f"leaf {f.leaf_index}")
        if f.node is not None:
            where.append(f"node {f.node[0]}/{f.node[1]}")
        if f.checkpoint_id is not None:
            where.append(f"checkpoint #{f.checkpoint_id}")
        table.add_row(f.code, ", ".join(where) or "head", f.message)
    return table


def ledger_verify(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Recompute the ledger from its leaves; check nodes, head and every signed checkpoint."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        verifiers = load_known_verifiers(settings.keys_dir)
        with inst.sessions() as session:
            report = check_ledger(session, verifiers, origin=settings.ledger_origin)
    except StorageError as error:
        exit_unavailable(error, as_json)
    except BadInput as error:
        fail_usage(f"verifier keys in {settings.keys_dir}: {error.message}")
    finally:
        inst.close()
    if as_json:
        ui.emit_json(report.as_dict())
    elif report.ok:
        ui.out.print(
            f"[green]账本核验通过[/] ledger verified: {report.leaves_checked} leaves,"
            f" {report.nodes_checked} nodes, {report.checkpoints_checked} checkpoints;"
            f" size {report.size}, root {report.root.hex() if report.root else '—'}"
        )
    else:
        more = "（仅列出前若干项 truncated）" if report.truncated else ""
        ui.out.print(
            f"[bold red]账本核验未通过[/] ledger verification failed: {len(report.findings)} finding(s){more}"
        )
        ui.out.print(_findings_table(report))
    raise typer.Exit(EXIT_OK if report.ok else EXIT_INVALID)


def rotate_key(
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
    reason: Annotated[str | None, typer.Option(help="Why the key is rotated (recorded in the leaf).")] = None,
) -> None:
    """Replace the checkpoint signing key: a key.rotated leaf and a checkpoint signed by the old key."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        cosigners = checkpoint_signers(settings, inst.signer)[1:]
        rotation = rotate_signing_key(
            inst.write_sessions,
            settings.keys_dir,
            settings.signing_key_name,
            origin=settings.ledger_origin,
            now=dt.datetime.now(dt.UTC),
            actor="cli",
            cosigners=cosigners,
            reason=reason,
        )
    except StorageError as error:
        exit_unavailable(error, as_json)
    except (VerificationFailed, BadInput) as error:
        if as_json:
            ui.emit_json({"rotated": False, "error": {"code": error.code, "message": error.message}})
        ui.err.print(error.diagnostics(), markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    except ValueError as error:
        fail_usage(str(error))
    finally:
        inst.close()
    payload = {
        "rotated": True,
        "old_key": rotation.old_key,
        "new_key": rotation.new_key,
        "leaf_index": rotation.leaf_index,
        "checkpoint": rotation.checkpoint,
        "retired_key_file": str(rotation.retired_key_file),
        "retired_public_key_file": str(rotation.retired_pub_file),
    }
    if as_json:
        ui.emit_json(payload)
        return
    ui.out.print("[green]签名密钥已轮换[/] signing key rotated", markup=True)
    ui.out.print(f"  old key : {rotation.old_key}", markup=False)
    ui.out.print(f"  new key : {rotation.new_key}", markup=False)
    ui.out.print(f"  leaf    : {rotation.leaf_index} (key.rotated)", markup=False)
    ui.out.print("  checkpoint signed by the old key:", markup=False)
    ui.out.print(rotation.checkpoint, markup=False, end="")
