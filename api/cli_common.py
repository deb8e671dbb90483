"""What every CLI module shares: exit codes, options, settings loading and error exits.

Sub-command modules (``api/cli_*.py``) import from here, never from :mod:`api.cli`, which only
assembles the application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from api import cli_output as ui
from api.wiring import Installation, initialise, open_installation
from archive.catalog import db
from archive.settings import Settings, load_settings
from integrity.keys import key_paths
from standards.errors import EdossierError, StorageError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (default: $EDOSSIER_DATA_DIR or ./edossier-data).",
        file_okay=False,
        resolve_path=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")]

GLOBAL: dict[str, Path | None] = {"data_dir": None}  # set by the app callback (--data-dir before the command)


def settings_for(data_dir: Path | None) -> Settings:
    try:
        return load_settings(data_dir or GLOBAL["data_dir"])
    except ValueError as error:  # pydantic ValidationError is a ValueError
        fail_usage(f"invalid settings: {error}")


def fail_usage(message: str) -> NoReturn:
    ui.err.print(f"[red]usage error:[/] {message}", markup=True)
    raise typer.Exit(EXIT_USAGE)


def exit_not_found(query: str, as_json: bool) -> NoReturn:
    """No dossier has this archive id or 案号: say so (one JSON object with --json) and exit 1."""
    if as_json:
        ui.emit_json({"found": False, "query": query})
    else:
        ui.err.print(f"not found: no dossier with archive id or case number {query!r}", markup=False)
    raise typer.Exit(EXIT_INVALID)


def exit_unavailable(error: EdossierError, as_json: bool) -> NoReturn:
    if as_json:
        ui.emit_json({"status": "unavailable", "error": {"code": error.code, "message": error.message}})
    ui.err.print(error.diagnostics(), markup=False)
    raise typer.Exit(EXIT_UNAVAILABLE)


def open_or_exit(settings: Settings, as_json: bool) -> Installation:
    try:
        if not key_paths(settings.keys_dir, settings.signing_key_name)[0].exists():
            initialise(settings)
        elif settings.database_url is None and not db.schema_is_current(settings.effective_database_url):
            # the embedded SQLite default belongs to this data directory: bring it up to date;
            # a shared database (PostgreSQL) is migrated deliberately with `edossier init`
            initialise(settings)
        return open_installation(settings)
    except StorageError as error:
        exit_unavailable(error, as_json)
