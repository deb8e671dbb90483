"""The DA/T 70 BC stage (长期保存, 32 items) of one archived dossier, as audit results (scope ``full``).

:func:`bc_results` re-assembles the AIP from the store into a scratch folder under
``settings.staging_dir`` (:mod:`integrity.audit.assemble`, hashing while streaming), validates it,
gathers the facts, runs :func:`integrity.checks.engine.run_stage` and stores the DetectionReport
(:func:`integrity.reports.store.save_report`); the results are one per item (``fail`` is an
incident, every other status is ``ok`` with the status in the evidence) plus one ``assemble``
result. The scratch folder is always removed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from archive.backup.sample_check import backup_restore_fact
from archive.catalog.models import Dossier
from integrity.audit.assemble import Assembly, ManifestUnusable, assemble_aip
from integrity.audit.ledger_check import check_dossier
from integrity.audit.results import ASSEMBLE_CHECK, CheckResult, Outcome, from_assembly, from_bc_item
from integrity.checks.engine import detect
from integrity.checks.model import DetectionReport
from integrity.reports.store import save_report
from standards.errors import StorageError
from standards.validation import validate_court_package

if TYPE_CHECKING:
    from api.wiring import Installation


def assembly_failure(key: str, archive_id: str, outcome: Outcome, error: Exception) -> CheckResult:
    code = getattr(error, "code", type(error).__name__)
    message = getattr(error, "message", str(error))
    return CheckResult(key, ASSEMBLE_CHECK, outcome, {"error_code": code, "error": message}, archive_id)


def bc_results(inst: Installation, session: Session, dossier: Dossier, now: dt.datetime) -> list[CheckResult]:
    """Re-assemble one dossier's AIP, run the BC stage on it, store the report; the audit results.

    The scratch folder (under ``settings.staging_dir``) is removed whatever happens. An outage while
    reading gives one ``unreachable`` ``assemble`` result and runs no item (they are checked next
    time); an unusable manifest gives one ``assemble`` incident.

    Raises:
        StorageError: the database failed (reading documents, saving the report).
        sqlalchemy.exc.SQLAlchemyError: the database failed in another way (the caller translates it).
    """
    key, archive_id = dossier.manifest_key, dossier.archive_id
    checked = check_dossier(session, inst.store, dossier)
    if checked.outcome == "unreachable":
        return [CheckResult(key, ASSEMBLE_CHECK, "unreachable", dict(checked.evidence), archive_id)]
    if checked.manifest is None:  # the ledger result names the problem; nothing to re-assemble
        evidence = {"error_code": "manifest_unreadable", "problems": checked.evidence.get("problems", [])}
        return [CheckResult(key, ASSEMBLE_CHECK, "incident", evidence, archive_id)]
    settings = inst.settings
    settings.staging_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="audit-bc-", dir=settings.staging_dir))
    try:
        try:
            assembly = assemble_aip(inst.store, key, checked.manifest, scratch, archive_id=archive_id)
        except ManifestUnusable as error:
            return [assembly_failure(key, archive_id, "incident", error)]
        except StorageError as error:
            return [assembly_failure(key, archive_id, "unreachable", error)]
        report = _run_bc_stage(inst, dossier, assembly, now)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with inst.write_sessions() as write, write.begin():
        report_id = save_report(write, report, case_number=dossier.case_number, archive_id=archive_id)
    return [from_assembly(assembly, key, archive_id, report_id)] + [
        from_bc_item(item, key, archive_id, report_id) for item in report.results
    ]


def _run_bc_stage(
    inst: Installation, dossier: Dossier, assembly: Assembly, now: dt.datetime
) -> DetectionReport:
    """Validate the re-assembled package, gather the facts and run every BC stage-item (DA/T 70 §5.4)."""
    settings = inst.settings
    package = assembly.package
    validation = validate_court_package(package, limits=settings.limits, today=now.date())
    known = {
        # BC-3-2: the dossier row and its documents were just read from the catalog
        "catalog_readable": True,
        "catalog_detail": f"dossiers/documents 表按档案号 {dossier.archive_id} 读取成功",
        # BC-1-14: the inventory digest recorded at ingest vs the one of the bytes re-read now
        "package_digest_before": dossier.package_digest,
        "package_digest_after": package.source_digest,
        # BC-3-9: a sample of the latest backup restored into a scratch folder and re-hashed
        "backup_restore": backup_restore_fact(settings, inst.sessions, dossier, now),
    }
    # BC-3-7 needs ``recorded_environment``: ingest keeps no environment snapshot yet, so the item
    # answers not_run (recorded as ok with status not_run) until one is stored.
    return detect("BC", package, validation, settings, now=now, known=known)
