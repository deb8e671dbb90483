"""The DA/T 70-2018 YJ stage (移交与接收, 35 items) of one record of a transfer package.

Sender and receiver run the same function on the record's court package as it lies in the transfer
package (the sender on the folder it has just written, the receiver on its staged copy): validate it
(:func:`standards.validation.validate_court_package`), gather the facts (formats, virus scan,
environment — :func:`integrity.checks.engine.gather_facts`) plus what only the caller knows
(``known``: the package digest recorded at archiving vs the one found now for YJ-1-14, the catalog
answer and duplicates for YJ-1-8/YJ-3-2, actor and transport for YJ-4-7), run every YJ item and add
the transfer-level findings of the record and of the whole package
(:func:`archive.transfer.findings.apply_findings`). Storing the report is the caller's job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archive.ingest.manifest import inventory_digest
from archive.settings import Settings
from archive.transfer.findings import Finding, apply_findings, findings_for
from archive.transfer.inspect import RecordPlan
from integrity.checks.engine import detect
from integrity.checks.model import DetectionReport
from standards.package import StagedPackage
from standards.validation import ValidationReport, validate_court_package


def record_package(root: Path, plan: RecordPlan) -> StagedPackage:
    """The record's court package as a package of its own (the folder ``root/<全宗号>/<分类号>/<档号>``)."""
    return StagedPackage(
        root=root.joinpath(*plan.code.folder.split("/")),
        files=plan.files,
        source_name=plan.code.text,
        source_kind="folder",
        source_digest=inventory_digest(plan.files),
    )


def run_record_yj(
    package: StagedPackage,
    settings: Settings,
    *,
    now: dt.datetime,
    known: Mapping[str, Any],
    findings: Sequence[Finding],
    record: str,
    validation: ValidationReport | None = None,
) -> tuple[DetectionReport, ValidationReport]:
    """Validate the record's court package (unless ``validation`` is given) and run the YJ stage on it.

    ``known`` overrides gathered facts of the same name; ``findings`` may hold other records' findings
    (only the record's own and the package-wide ones are applied).
    """
    if validation is None:
        validation = validate_court_package(package, limits=settings.limits, today=now.date())
    report = detect("YJ", package, validation, settings, now=now, known=known)
    return apply_findings(report, findings_for(findings, record)), validation
