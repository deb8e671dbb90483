"""CLI rendering for a package that is a BagIt bag (RFC 8493): validate it and print the findings.

``edossier validate`` calls :func:`validate_bag_command` once intake has staged the package and
:func:`standards.bagit.is_bag` says it is a bag. The checks are :mod:`standards.bagit`; digests come
from :mod:`archive.bag_digests`.
"""

from __future__ import annotations

from api import cli_output as ui
from api.cli_common import EXIT_INVALID, EXIT_OK, EXIT_UNAVAILABLE
from archive.bag_digests import digest_reader
from archive.settings import Settings
from standards.bagit import BagReport, validate_bag
from standards.errors import StorageError
from standards.package import StagedPackage


def bag_json(report: BagReport) -> dict[str, object]:
    """The ``--json`` object: same ``valid``/``errors`` keys as the court-package form, plus the bag's facts."""
    return {
        "valid": report.valid,
        "form": "bagit",
        "bagit_version": report.version,
        "algorithms": list(report.algorithms),
        "payload_oxum": None if report.payload_oxum is None else list(report.payload_oxum),
        "info": report.info,
        "errors": [p.as_dict() for p in report.problems],
        "warnings": [p.as_dict() for p in report.warnings],
    }


def validate_bag_command(staged: StagedPackage, settings: Settings, as_json: bool) -> int:
    """Validate a staged bag and print problems and warnings; return the exit code.

    0: valid (warnings, if any, are listed); 1: invalid; 3: a staged file could not be read back.
    """
    try:
        report = validate_bag(staged, digest_reader(staged), settings.limits)
    except StorageError as error:
        if as_json:
            ui.emit_json({"status": "unavailable", "error": {"code": error.code, "message": error.message}})
        ui.err.print(error.diagnostics(), markup=False)
        return EXIT_UNAVAILABLE
    except OSError as exc:  # a staged tag file vanished or cannot be read: a local disk problem
        message = f"staged package {staged.source_name!r}: cannot read a tag file: {exc.strerror}"
        if as_json:
            ui.emit_json(
                {"status": "unavailable", "error": {"code": "staged_file_unreadable", "message": message}}
            )
        ui.err.print(message, markup=False)
        return EXIT_UNAVAILABLE
    if as_json:
        ui.emit_json(bag_json(report))
    else:
        name = staged.source_name
        algorithms = "、".join(report.algorithms) or "无"
        if report.valid:
            ui.out.print(f"[green]检测通过[/]：{name}（BagIt {report.version}，摘要算法 {algorithms}）")
        else:
            ui.out.print(f"[red]检测未通过[/]：{name}（BagIt 包），共 {len(report.problems)} 个问题")
            ui.out.print(ui.problems_table(report.problems, "检测问题（RFC 8493 / DA/T 70-2018）"))
        if report.warnings:
            ui.out.print(
                ui.problems_table(report.warnings, f"提示（不影响通过，共 {len(report.warnings)} 条）")
            )
    return EXIT_OK if report.valid else EXIT_INVALID
