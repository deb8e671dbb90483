"""The ``edossier`` command line (Typer).

Exit codes (every command): 0 success, 1 the input is invalid / was rejected, 2 usage error,
3 storage or database unavailable. With ``--json`` exactly one JSON object goes to stdout;
progress and diagnostics go to stderr. The data directory comes from ``--data-dir`` (before or
after the command) or ``EDOSSIER_DATA_DIR``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from api import cli_output as ui
from api.cli_audit import audit_app
from api.cli_backup import backup_app, restore
from api.cli_bag import validate_bag_command
from api.cli_cases import cases_app
from api.cli_checks import checks_app
from api.cli_common import (
    EXIT_INVALID,
    EXIT_OK,
    GLOBAL,
    DataDirOption,
    JsonOption,
    exit_not_found,
    exit_unavailable,
    fail_usage,
    open_or_exit,
    settings_for,
)
from api.cli_eep import looks_like_xml, validate_eep_command
from api.cli_evidence import evidence, public_key, verify
from api.cli_ledger import ledger_verify, rotate_key
from api.cli_overdue import audit_overdue
from api.cli_proof import proof_app
from api.cli_register import register
from api.cli_report import report
from api.cli_serve import serve
from api.cli_storage import storage_app
from api.cli_tokens import tokens_app
from api.cli_transfer import export_command, import_command
from api.cli_worker import queue_ingest_command, worker
from api.wiring import initialise
from archive.catalog import queries
from archive.intake import open_package
from integrity.keys import key_paths
from standards.bagit import is_bag
from standards.errors import BadInput, StorageError
from standards.problems import Problem
from standards.validation import validate_court_package

app = typer.Typer(
    name="edossier",
    help="edossier — 法院电子档案归档与四性检测 (electronic archive for court e-dossiers).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ledger_app = typer.Typer(help="The signed ledger (RFC 9162 Merkle log).", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
app.add_typer(proof_app, name="proof")
app.add_typer(checks_app, name="checks")
app.add_typer(cases_app, name="cases")
app.add_typer(storage_app, name="storage")
app.add_typer(backup_app, name="backup")
app.command("restore")(restore)
app.add_typer(audit_app, name="audit")
app.command("worker")(worker)
app.command("serve")(serve)
app.command("register")(register)
app.add_typer(tokens_app, name="tokens")
audit_app.command("overdue")(audit_overdue)
app.command("evidence")(evidence)
app.command("verify")(verify)
app.command("report")(report)
app.command("export")(export_command)
app.command("import")(import_command)
ledger_app.command("public-key")(public_key)
ledger_app.command("verify")(ledger_verify)
ledger_app.command("rotate-key")(rotate_key)


@app.callback()
def _main(
    data_dir: DataDirOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False,
) -> None:
    GLOBAL["data_dir"] = data_dir
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


# ---------------------------------------------------------------------------- init
@app.command()
def init(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Create the data directory, database schema, signing key and object store (idempotent)."""
    settings = settings_for(data_dir)
    try:
        done = initialise(settings)
    except StorageError as error:
        exit_unavailable(error, as_json)
    pub = key_paths(settings.keys_dir, settings.signing_key_name)[1]
    if as_json:
        ui.emit_json({"data_dir": str(settings.data_dir), "done": done, "public_key_file": str(pub)})
    else:
        for line in done:
            ui.out.print(f"• {line}")
        ui.out.print(f"verifier key: {pub.read_text(encoding='utf-8').strip()}", markup=False)


# ---------------------------------------------------------------------------- sample
@app.command()
def sample(
    out: Annotated[Path, typer.Argument(help="Folder to write (or ZIP file with --zip).")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives byte-identical output.")] = 1,
    documents: Annotated[int, typer.Option(min=2, max=5000, help="Number of documents.")] = 12,
    as_zip: Annotated[bool, typer.Option("--zip", help="Write a ZIP file instead of a folder.")] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a realistic, deterministic sample court dossier (正卷 and 副卷, PDFs and JPEG scans)."""
    from archive.sample import generate_sample

    try:
        result = generate_sample(
            out, seed=seed, documents=documents, as_zip=as_zip, now=dt.datetime.now(dt.UTC)
        )
    except (FileExistsError, ValueError) as error:
        fail_usage(str(error))
    payload = {
        "path": str(result.path),
        "case_number": result.case_number,
        "documents": result.documents,
        "total_bytes": result.total_bytes,
    }
    if as_json:
        ui.emit_json(payload)
    else:
        ui.out.print(
            f"样例卷宗已生成：{result.path}"
            f"（案号 {result.case_number}，{result.documents} 件，{result.total_bytes} 字节）"
        )


# ---------------------------------------------------------------------------- validate
@app.command()
def validate(
    path: Annotated[Path, typer.Argument(exists=True, help="Package: a ZIP file or a folder.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate a package (container safety, XSD, court profile rules) without archiving it."""
    settings = settings_for(data_dir)
    problems: list[Problem]
    case_number: str | None = None
    if looks_like_xml(path):  # a DA/T 48 EEP is one XML file
        raise typer.Exit(validate_eep_command(path, settings, as_json))
    with tempfile.TemporaryDirectory(prefix="edossier-validate-") as tmp:
        try:
            staged = open_package(
                path,
                Path(tmp),
                limits=settings.limits,
                algorithms=settings.digest_algorithms,
                workers=settings.ingest_workers,
            )
        except BadInput as error:
            from archive.ingest.rejections import problem_from_error

            problems = [problem_from_error(error)]
        else:
            if is_bag(staged):  # RFC 8493 BagIt: the third package form
                raise typer.Exit(validate_bag_command(staged, settings, as_json))
            report = validate_court_package(staged, limits=settings.limits, today=dt.date.today())
            problems = list(report.problems)
            case_number = report.description.case_number if report.description else None
    valid = not problems
    if as_json:
        ui.emit_json({"valid": valid, "case_number": case_number, "errors": [p.as_dict() for p in problems]})
    elif valid:
        ui.out.print(f"[green]检测通过[/]：{path}（案号 {case_number}）")
    else:
        ui.out.print(f"[red]检测未通过[/]：{path}，共 {len(problems)} 个问题")
        ui.out.print(ui.problems_table(problems, "检测问题（DA/T 70-2018）"))
    raise typer.Exit(EXIT_OK if valid else EXIT_INVALID)


# ---------------------------------------------------------------------------- ingest
@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, help="Package: a ZIP file or a folder.")],
    sha256: Annotated[
        str | None,
        typer.Option(
            "--sha256",
            help="The package digest the sender computed (ZIP bytes, or a folder's inventory): DA/T 70 GD-1-14.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
    queue: Annotated[
        bool,
        typer.Option(
            "--queue",
            help="PostgreSQL: let an `edossier worker` ingest it (the path must be readable there).",
        ),
    ] = False,
) -> None:
    """Validate and archive a closed dossier; print the receipt or the precise rejection."""
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256.strip()):
        fail_usage(f"--sha256: expected 64 hex digits, found {sha256[:80]!r}")
    settings = settings_for(data_dir)
    if queue:
        queue_ingest_command(settings, path, sha256, as_json)
    inst = open_or_exit(settings, as_json)
    try:
        with ui.err.status("归档中 archiving…"):
            outcome = inst.ingest_service(actor="cli").ingest(path, declared_sha256=sha256)
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(outcome.as_json())
    else:
        ui.print_outcome(outcome)
    raise typer.Exit(EXIT_INVALID if outcome.status == "rejected" else EXIT_OK)


# ---------------------------------------------------------------------------- show / stats
@app.command()
def show(
    id_or_case_number: Annotated[str, typer.Argument(help="Archive id (ED-…) or 案号.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an archived dossier and its documents."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        with inst.sessions() as session:
            dossier = queries.find_dossier(session, id_or_case_number)
            if dossier is None:
                exit_not_found(id_or_case_number, as_json)
            payload = _dossier_json(dossier)
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(payload)
        return
    ui.out.print(f"[bold]{payload['case_number']}[/]  {payload['archive_id']}")
    for key in (
        "court_name",
        "case_type",
        "department",
        "judge",
        "closing_date",
        "retention",
        "archived_at",
        "manifest_digest",
        "leaf_index",
    ):
        ui.out.print(f"  {key}: {payload[key]}", markup=False)
    for doc in payload["documents"]:
        ui.out.print(
            f"  [{doc['volume']}] {doc['sequence']:>4} {doc['title']}  {doc['file_size']} B  {doc['format']}",
            markup=False,
        )


def _dossier_json(dossier: Any) -> dict[str, Any]:
    return {
        "found": True,
        "archive_id": dossier.archive_id,
        "case_number": dossier.case_number,
        "court_name": dossier.court_name,
        "case_type": dossier.case_type,
        "year": dossier.year,
        "closing_date": dossier.closing_date.isoformat(),
        "department": dossier.department,
        "judge": dossier.judge,
        "fonds_code": dossier.fonds_code,
        "retention": dossier.retention,
        "document_count": dossier.document_count,
        "total_bytes": dossier.total_bytes,
        "archived_at": dossier.archived_at.isoformat(),
        "manifest_digest": f"sha256:{dossier.manifest_sha256}",
        "manifest_key": dossier.manifest_key,
        "leaf_index": dossier.leaf_index,
        "documents": [
            {
                "sequence": d.sequence,
                "archival_code": d.archival_code,
                "title": d.title,
                "volume": d.volume,
                "origin": d.origin,
                "pages": d.pages,
                "file_path": d.file_path,
                "file_size": d.file_size,
                "format": d.format,
                "sha256": d.sha256,
                "sm3": d.sm3,
                "retention": d.retention,
                "classification": d.classification,
            }
            for d in dossier.documents
        ],
    }


@app.command()
def stats(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Counts of dossiers, documents, blobs, blob bytes and the ledger size."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        with inst.sessions() as session:
            numbers = queries.catalog_stats(session)
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json(dict(numbers))
    else:
        for key, value in numbers.items():
            ui.out.print(f"{key}: {value}")


# ---------------------------------------------------------------------------- ledger
@ledger_app.command("checkpoint")
def ledger_checkpoint(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Print the latest signed checkpoint (signs one for the current tree if none covers it)."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    from integrity.ledger.store import LedgerStore

    ledger = LedgerStore()
    try:
        with inst.write_sessions() as session, session.begin():
            head = ledger.head(session)
            latest = ledger.latest_checkpoint(session)
            signed = latest is None or latest.size != head.size
            if signed:
                ledger.sign_checkpoint(session, inst.signers, settings.ledger_origin, dt.datetime.now(dt.UTC))
                latest = ledger.latest_checkpoint(session)
        assert latest is not None
        note = latest.note
        if signed:
            inst.publisher.after_commit(latest)  # timestamp and witnesses, after commit
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json({"size": head.size, "root": head.root.hex(), "checkpoint": note})
    else:
        ui.out.print(note, markup=False, end="")


# ---------------------------------------------------------------------------- demo
@app.command()
def demo(
    data_dir: DataDirOption = None, seed: Annotated[int, typer.Option(help="Seed of the sample dossier.")] = 1
) -> None:
    """Initialise, generate a sample dossier, validate it, archive it, print receipt and checkpoint."""
    settings = settings_for(data_dir)
    ui.out.print(f"[bold]1. 初始化数据目录[/] {settings.data_dir.resolve()}")
    try:
        for line in initialise(settings):
            ui.out.print(f"   • {line}")
    except StorageError as error:
        exit_unavailable(error, False)
    from archive.sample import generate_sample

    target = settings.data_dir / "samples" / f"sample-{seed}.zip"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        generate_sample(target, seed=seed, documents=12, as_zip=True, now=dt.datetime.now(dt.UTC))
    ui.out.print(f"[bold]2. 样例卷宗[/] {target}")
    ui.out.print("[bold]3. 检测[/]")
    with tempfile.TemporaryDirectory(prefix="edossier-demo-") as tmp:
        staged = open_package(
            target, Path(tmp), limits=settings.limits, algorithms=settings.digest_algorithms
        )
        report = validate_court_package(staged, limits=settings.limits, today=dt.date.today())
    if report.problems:
        ui.out.print(ui.problems_table(report.problems, "检测问题"))
        raise typer.Exit(EXIT_INVALID)
    ui.out.print(
        f"   检测通过：{len(report.entries)} 件文件，"
        f"案号 {report.description.case_number if report.description else ''}"
    )
    ui.out.print("[bold]4. 归档[/]")
    inst = open_or_exit(settings, False)
    try:
        outcome = inst.ingest_service(actor="demo").ingest(target)
        ui.print_outcome(outcome)
        if outcome.receipt is None:
            from integrity.ledger.store import LedgerStore

            with inst.sessions() as session:
                latest = LedgerStore().latest_checkpoint(session)
            if latest is not None:
                ui.out.print("[bold]最新签名检查点 latest signed checkpoint:[/]")
                ui.out.print(latest.note, markup=False, end="")
    except StorageError as error:
        exit_unavailable(error, False)
    finally:
        inst.close()
    pub = key_paths(settings.keys_dir, settings.signing_key_name)[1]
    ui.out.print(f"[bold]5. 验证公钥 verifier key[/] {pub}")
    ui.out.print("   " + pub.read_text(encoding="utf-8").strip(), markup=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
