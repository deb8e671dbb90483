"""``edossier export``: build a transfer package for the state archive (移交, DA/T 93-2022) — sender side.

For each selected dossier, in one temporary folder beside the target:

1. re-assemble its AIP from the store into ``<全宗号>/<分类号>/<档号>/`` (:func:`integrity.audit.assemble.assemble_aip`,
   hashing while streaming); a missing or mismatching object refuses the whole export
   (:class:`~archive.transfer.errors.DossierDamaged`) — a damaged record is never handed over;
2. validate it and write its signed DA/T 48 EEP (原始型, :func:`standards.eep_writer.build_eep`, the
   archive's EEP key of ``Settings.transfer.eep_key_name``) as ``<档号>.eep.xml``;

then 目录文件, 说明文件, 其他/移交清单, 其他/签名证书.pem and 其他/固化信息.json; then the sender's checks on the
package just written — the very checks a receiver makes (:mod:`.inspect`, :mod:`.eep_check` with our own
certificate as root) and the DA/T 70 YJ stage per record (:mod:`.yj`; YJ-1-14 compares the package
digest recorded at archiving with the one found in the folder). Only when every record passed: the
signed 登记表, a rename of the temporary folder onto the target (no half-written package is ever
visible), and ONE database transaction with the YJ reports and a ``dossier.transferred`` leaf per
dossier (direction ``sent``) and a signed checkpoint. When YJ fails nothing is written or recorded.

A transferred dossier stays in the archive: retention is not this module's business.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
import platform
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.catalog.models import Dossier
from archive.transfer.consistency import check_document_total
from archive.transfer.documents import (
    ListEntry,
    TransferDescription,
    TransferDocuments,
    TransferEntry,
    render_catalog,
    render_description,
    render_transfer_list,
)
from archive.transfer.eep_check import EepOutcome, check_record_eep
from archive.transfer.errors import DossierDamaged, DossierInvalid, TransferWriteFailed
from archive.transfer.files import fsync_tree, hash_tree, write_new
from archive.transfer.findings import failures_of
from archive.transfer.fixity import render_fixity
from archive.transfer.inspect import RecordPlan, check_transfer, read_documents
from archive.transfer.layout import (
    ARRANGEMENT,
    CATALOG,
    CERTIFICATE,
    DESCRIPTION,
    ENCODING,
    FIXITY,
    NOT_IN_FIXITY,
    REGISTER,
    REGISTER_SIGNATURE,
    TRANSFER_LIST,
    carrier_label,
)
from archive.transfer.outcome import ExportOutcome, SentRecord
from archive.transfer.register import (
    CARRIER_MANUAL,
    CARRIER_TEXT,
    Inspection,
    Register,
    Verdict,
    property_verdicts,
    record_line,
    render_register,
    report_sha256,
    sign_register,
)
from archive.transfer.selection import Selected, already_sent, check_target
from archive.transfer.yj import record_package, run_record_yj
from integrity.audit.assemble import ManifestUnusable, assemble_aip
from integrity.audit.ledger_check import check_dossier
from integrity.eep_key import EepSigner, ensure_eep_signer
from integrity.ledger.events_api import dossier_transferred
from integrity.ledger.store import LedgerStore
from integrity.reports.header import installed_version
from integrity.reports.store import save_report
from standards.eep_writer import EepRecord, build_eep, eep_record_from_package
from standards.errors import BadInput, StorageUnavailable
from standards.package import StagedPackage
from standards.validation import validate_court_package

if TYPE_CHECKING:
    from api.wiring import Installation

log = logging.getLogger(__name__)
ACTOR = "edossier-export"


# ------------------------------------------------------------------ one record into the package
def _assemble(inst: Installation, s: Selected, root: Path) -> StagedPackage:
    """Re-assemble the dossier's AIP into its record folder; refuse on any fixity problem."""
    with inst.sessions() as session:
        dossier = session.get(Dossier, s.archive_id)
        assert dossier is not None  # selected a moment ago; dossiers are never deleted
        checked = check_dossier(session, inst.store, dossier)
    if checked.outcome == "unreachable":
        raise StorageUnavailable(
            f"dossier {s.archive_id}: manifest cannot be read ({checked.evidence.get('error')})"
        )
    if checked.manifest is None or checked.outcome == "incident":
        problems = str(checked.evidence.get("problems", []))[:400]
        raise DossierDamaged(
            f"dossier {s.archive_id} ({s.case_number}): manifest, catalog and ledger disagree: {problems}"
        )
    folder = root.joinpath(*s.code.folder.split("/"))
    folder.mkdir(parents=True)
    try:
        assembly = assemble_aip(inst.store, s.manifest_key, checked.manifest, folder, archive_id=s.archive_id)
    except ManifestUnusable as error:
        raise DossierDamaged(f"dossier {s.archive_id} ({s.case_number}): {error.message}") from None
    if assembly.problems:
        shown = "; ".join(
            f"{path}: {r.outcome} (expected sha256 {r.evidence.get('expected_sha256')}, "
            f"found {r.evidence.get('found_sha256', 'no object')})"
            for path, r in assembly.problems[:5]
        )
        raise DossierDamaged(
            f"dossier {s.archive_id} ({s.case_number}) is not transferred: {len(assembly.problems)} stored "
            f"object(s) missing or not matching the manifest — {shown}; run `edossier audit run --scope fixity`"
        )
    return assembly.package


def _entry(sequence: int, s: Selected, record: EepRecord) -> TransferEntry:
    return TransferEntry(
        sequence=sequence,
        archival_code=s.code.text,
        author=record.author,
        title=record.title,
        date=record.date,
        retention=record.retention,
        classification=record.classification,
        pages=record.pages,
        note=f"案号：{s.case_number}",
    )


# ------------------------------------------------------------------ the orchestrator
def export_transfer(
    inst: Installation,
    selected: Sequence[Selected],
    target: Path,
    *,
    now: dt.datetime,
    actor: str = ACTOR,
) -> ExportOutcome:
    """Write the transfer package of ``selected`` to ``target`` (see the module docstring).

    Raises:
        TransferTargetNotEmpty: ``target`` is not a new or empty folder.
        DossierDamaged: a stored object of a dossier is missing or does not match its manifest.
        DossierInvalid: a re-assembled dossier no longer validates (no EEP can be built from it).
        RecordCodeUnusable, DuplicateRecordCode: no usable record 档号.
        TransferWriteFailed: the package could not be written next to / moved onto the target.
        StorageError / StorageUnavailable: the store or the database failed (nothing is recorded).
    """
    check_target(target)
    settings = inst.settings
    conf = settings.transfer
    signer = ensure_eep_signer(settings.keys_dir, conf.eep_key_name, unit=conf.transferring_unit, now=now)
    transfer_id = str(uuid.uuid4())
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    except OSError as exc:
        raise TransferWriteFailed(
            f"output {target}: cannot create a folder beside it ({exc.strerror})"
        ) from None
    try:
        outcome = _build(inst, selected, tmp, signer, transfer_id, now, target, actor)
        if not outcome.written:  # YJ failed: nothing is written, nothing recorded
            shutil.rmtree(tmp, ignore_errors=True)
            return outcome
        fsync_tree(tmp)
        tmp.chmod(0o755)  # mkdtemp made it private; the package is meant to be handed over
        os.replace(tmp, target)  # POSIX: replaces an empty folder atomically
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise TransferWriteFailed(f"output {target}: writing the package failed ({exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        return _record(inst, outcome, now, actor)
    except BaseException:
        # nothing recorded: take the package back so that no unrecorded transfer package is left behind
        shutil.rmtree(target, ignore_errors=True)
        raise


def _build(
    inst: Installation,
    selected: Sequence[Selected],
    root: Path,
    signer: EepSigner,
    transfer_id: str,
    now: dt.datetime,
    target: Path,
    actor: str,
) -> ExportOutcome:
    settings = inst.settings
    conf = settings.transfer
    label = carrier_label([s.code for s in selected])
    entries: list[TransferEntry] = []
    listed: list[ListEntry] = []
    documents = 0
    for n, s in enumerate(selected, 1):
        package = _assemble(inst, s, root)
        validation = validate_court_package(package, limits=settings.limits, today=now.date())
        try:
            record = eep_record_from_package(package, validation)
        except BadInput as error:
            raise DossierInvalid(
                f"dossier {s.archive_id} ({s.case_number}) no longer validates: {error.message}; "
                + "; ".join(p.message for p in validation.problems[:3])
            ) from None
        if record.archival_code != s.code.text:
            raise DossierInvalid(
                f"dossier {s.archive_id}: record 档号 expected {s.code.text}, "
                f"the EEP writer found {record.archival_code}"
            )
        eep = build_eep(
            record,
            sign=signer.sign,
            certificate_der=signer.certificate_der,
            algorithm=signer.algorithm,
            created_at=now,
            unit=conf.transferring_unit,
            limits=settings.limits,
            carrier=label,
        )
        write_new(root.joinpath(*s.code.eep_path.split("/")), eep)
        documents += len(validation.entries)
        entries.append(_entry(n, s, record))
        listed.append(
            ListEntry(
                n,
                s.code.text,
                s.case_number,
                s.archive_id,
                len(package.files),
                package.total_bytes,
                s.package_digest,
                s.code.eep_name,
                hashlib.sha256(eep).hexdigest(),
            )
        )
    records_files = hash_tree(root)
    description = TransferDescription(
        transfer_id=transfer_id,
        encoding=ENCODING,
        carrier_type="在线",
        carrier_label=label,
        transferring_unit=conf.transferring_unit,
        receiving_unit=conf.receiving_unit,
        content=(
            f"{conf.transferring_unit}诉讼档案（电子卷宗）{len(selected)} 卷、{documents} 件，{ARRANGEMENT}整理；"
            "每卷含法院信息包（说明文件、目录文件、正卷、副卷、元数据）及 DA/T 48-2009 原始型电子档案封装包；"
            "XML 文件字符编码 UTF-8"
        ),
        arrangement=ARRANGEMENT,
        first_code=entries[0].archival_code,
        last_code=entries[-1].archival_code,
        record_count=len(entries),
        document_count=documents,
        file_count=len(records_files),
        total_bytes=sum(f.size for f in records_files.values()),
        digest_algorithms=("sha256", "sm3"),
        software=f"edossier {installed_version()}",
        runtime=f"Python {platform.python_version()} ({platform.python_implementation()})",
        operating_system=platform.platform(),
        hardware=platform.machine() or "未知",
        created_at=now,
    )
    write_new(root / DESCRIPTION, render_description(description))
    write_new(root / CATALOG, render_catalog(entries))
    write_new(root.joinpath(*TRANSFER_LIST.split("/")), render_transfer_list(transfer_id, listed))
    write_new(root.joinpath(*CERTIFICATE.split("/")), signer.certificate_pem)
    inventory = hash_tree(root)
    fixity = render_fixity(
        transfer_id, now.isoformat(), [f for p, f in inventory.items() if p not in NOT_IN_FIXITY]
    )
    write_new(root.joinpath(*FIXITY.split("/")), fixity)
    inventory = hash_tree(root)
    return _check_and_sign(inst, selected, root, inventory, signer, description, now, target, actor)


def _check_and_sign(
    inst: Installation,
    selected: Sequence[Selected],
    root: Path,
    inventory: dict[str, Any],
    signer: EepSigner,
    description: TransferDescription,
    now: dt.datetime,
    target: Path,
    actor: str,
) -> ExportOutcome:
    """The sender's YJ on the package just written; on success the signed 登记表."""
    settings = inst.settings
    package = StagedPackage(root, tuple(inventory.values()), target.name, "folder", "")
    docs: TransferDocuments = read_documents(package, settings.limits)
    findings, plans = check_transfer(inventory, docs, require_register=False)
    findings += already_sent(selected)
    by_code = {s.code.text: s for s in selected}
    settings.staging_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="transfer-eep-", dir=settings.staging_dir))
    eeps: list[EepOutcome] = []
    try:
        for n, plan in enumerate(plans):
            eeps.append(_sender_eep(root, plan, scratch / str(n), signer, settings.limits, now))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    findings += [f for e in eeps for f in e.findings]
    views = [record_package(root, plan) for plan in plans]
    validations = [validate_court_package(v, limits=settings.limits, today=now.date()) for v in views]
    findings += check_document_total(description, sum(len(v.entries) for v in validations))
    sent: list[SentRecord] = []
    for plan, view, validation, eep in zip(plans, views, validations, eeps, strict=True):
        s = by_code[plan.code.text]
        known = _known(s.package_digest, view.source_digest, actor=actor, archive_id=s.archive_id)
        report, _ = run_record_yj(
            view,
            settings,
            now=now,
            known=known,
            findings=findings,
            record=plan.code.text,
            validation=validation,
        )
        sent.append(SentRecord(s, report, eep, plan.eep.digests["sha256"] if plan.eep else ""))
    failures = failures_of(findings, [(r.selected.code.text, r.report) for r in sent])
    warnings = tuple(f for f in findings if f.severity == "warn")
    counted = [
        f for p, f in inventory.items() if p not in (DESCRIPTION, CATALOG) and not p.startswith("其他/")
    ]
    common = {"file_count": len(counted), "total_bytes": sum(f.size for f in counted), "warnings": warnings}
    if failures or len(sent) != len(selected):
        return ExportOutcome(False, target, description.transfer_id, tuple(sent), tuple(failures), **common)
    register = Register(
        transfer_id=description.transfer_id,
        work_name=f"{description.transferring_unit}向{description.receiving_unit}移交电子档案"
        f"（{description.carrier_label}，{description.record_count} 卷）",
        content=description.content,
        record_count=description.record_count,
        document_count=description.document_count,
        file_count=description.file_count,
        total_bytes=description.total_bytes,
        carrier_sequence=f"{description.first_code} — {description.last_code}",
        carrier_type="在线",
        digests=tuple(
            (p, inventory[p].digests["sha256"])
            for p in (DESCRIPTION, CATALOG, TRANSFER_LIST, FIXITY, CERTIFICATE)
        ),
        inspections=(sender_inspection(description.transferring_unit, sent, now),),
    )
    data = render_register(register)
    write_new(root.joinpath(*REGISTER.split("/")), data)
    write_new(
        root.joinpath(*REGISTER_SIGNATURE.split("/")),
        sign_register(
            data,
            sign=signer.sign,
            algorithm=signer.algorithm,
            certificate_der=signer.certificate_der,
            now=now,
        ),
    )
    return ExportOutcome(
        True,
        target,
        description.transfer_id,
        tuple(sent),
        (),
        **common,
        register_sha256=hashlib.sha256(data).hexdigest(),
        certificate_sha256=hashlib.sha256(signer.certificate_der).hexdigest(),
    )


def _sender_eep(
    root: Path, plan: RecordPlan, scratch: Path, signer: EepSigner, limits: Any, now: dt.datetime
) -> EepOutcome:
    """Verify our own EEP as a receiver would, with our certificate as the (known) root."""
    if plan.eep is None:
        return EepOutcome(plan.code.text)
    return check_record_eep(
        root.joinpath(*plan.eep.path.split("/")),
        plan,
        scratch=scratch,
        limits=limits,
        roots=[signer.certificate_der],
        trusted=True,
        now=now,
    )


def _known(before: str, after: str, *, actor: str, archive_id: str | None) -> dict[str, Any]:
    """Facts only the transfer knows (YJ-1-14 before/after, YJ-3-2, YJ-1-8, YJ-4-7)."""
    return {
        "package_digest_before": before,
        "package_digest_after": after,
        "catalog_readable": True,
        "catalog_detail": f"dossiers 表按档案标识 {archive_id} 读取成功"
        if archive_id
        else "dossiers 表按案号查询成功",
        "duplicate_archives": [],
        "actor": actor,
        "transport": "local",
        "audit_logged": True,
    }


def sender_inspection(unit: str, sent: Sequence[SentRecord], now: dt.datetime) -> Inspection:
    reports = [r.report for r in sent]
    return Inspection(
        party="移交单位",
        unit=unit,
        properties=property_verdicts(reports),
        carrier=Verdict(CARRIER_MANUAL, CARRIER_TEXT),
        checked_at=now,
        tool=f"edossier {installed_version()}（DA/T 70-2018 移交与接收环节 35 项）",
        records=tuple(record_line(r.selected.code.text, r.selected.case_number, r.report) for r in sent),
    )


# ------------------------------------------------------------------ the ledger
def _record(inst: Installation, outcome: ExportOutcome, now: dt.datetime, actor: str) -> ExportOutcome:
    """One transaction: every YJ report, a ``dossier.transferred`` leaf per dossier, a signed checkpoint."""
    settings = inst.settings
    ledger = LedgerStore()
    done: list[SentRecord] = []
    with inst.write_sessions() as session, session.begin():
        for r in outcome.records:
            s = r.selected
            report_id = save_report(session, r.report, case_number=s.case_number, archive_id=s.archive_id)
            leaf = dossier_transferred(
                session,
                s.archive_id,
                recipient=settings.transfer.receiving_unit,
                package_sha256=r.eep_sha256,
                transfer_id=outcome.transfer_id,
                direction="sent",
                yj_passed=r.report.passed,
                report_sha256=report_sha256(r.report),
                archival_code=s.code.text,
                now=now,
                actor=actor,
                ledger=ledger,
            )
            done.append(dataclasses.replace(r, report_id=report_id, leaf_index=leaf.index))
        ledger.sign_checkpoint(session, inst.signers or [inst.signer], settings.ledger_origin, now)
        checkpoint = ledger.latest_checkpoint(session)
    if checkpoint is not None:
        try:
            inst.publisher.after_commit(checkpoint)
        except Exception:  # publication is best effort after commit (timestamps, witnesses)
            log.exception("export: publishing checkpoint failed")
    return dataclasses.replace(outcome, records=tuple(done))
