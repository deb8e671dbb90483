"""The receiver's 登记表 and reports of one accession, written beside (never over) the sender's signed form.

:func:`write_receiver_register` writes, into ``--report-dir`` or a new folder
``<data dir>/transfers/<移交标识>/<time>-<n>/``:

* ``登记表-接收.xml`` — the sender's form with the 移交单位 column as signed, plus this archive's 接收单位
  column (DA/T 93-2022 Annex C) and the SHA-256 of the sender's signed file (``移交方登记表摘要``);
* ``登记表-接收.xml.sig`` and ``接收方签名证书.pem`` — signed with this archive's accession key
  (``<Settings.transfer.eep_key_name>-accession``, CN = ``Settings.transfer.receiving_unit``), so the
  receipt can be handed back to the sender and verified like the sender's form;
* ``检测报告-<档号>.json`` — each record's YJ detection report (:func:`integrity.reports.render_json`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from archive.transfer.documents import TransferDescription
from archive.transfer.errors import TransferWriteFailed
from archive.transfer.files import write_new
from archive.transfer.register import (
    CARRIER_MANUAL,
    CARRIER_TEXT,
    NOT_CHECKED,
    Inspection,
    Register,
    Verdict,
    property_verdicts,
    record_line,
    render_register,
    sign_register,
)
from archive.transfer.register_check import SenderRegister
from integrity.eep_key import ensure_eep_signer
from integrity.reports.header import header_for, installed_version
from integrity.reports.render_json import render_json

if TYPE_CHECKING:
    from api.wiring import Installation
    from archive.transfer.outcome import ReceivedRecord

RECEIVER_REGISTER = "登记表-接收.xml"
_TRANSFER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _report_folder(
    inst: Installation, report_dir: Path | None, transfer_id: str | None, now: dt.datetime
) -> Path:
    """``--report-dir``, else ``<data dir>/transfers/<移交标识>/<time>-<n>/`` (a new folder per import, so a
    refused re-import never replaces the 登记表 of an accepted one). The 移交标识 comes from the untrusted
    package: only a UUID is used as a folder name."""
    if report_dir is not None:
        return report_dir
    safe = transfer_id if transfer_id and _TRANSFER_ID.fullmatch(transfer_id) else "unknown"
    return inst.settings.data_dir / "transfers" / safe / f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def write_receiver_register(
    inst: Installation,
    sent: SenderRegister,
    d: TransferDescription | None,
    received: Sequence[ReceivedRecord],
    report_dir: Path | None,
    now: dt.datetime,
) -> Path:
    """Both parties' results in a new file (the sender's signed 登记表 is never changed), plus each
    record's YJ report as JSON; signed with this archive's accession key."""
    settings = inst.settings
    conf = settings.transfer
    receiver = Inspection(
        party="接收单位",
        unit=conf.receiving_unit,
        properties=property_verdicts([r.report for r in received]),
        carrier=Verdict(CARRIER_MANUAL, CARRIER_TEXT),
        checked_at=now,
        tool=f"edossier {installed_version()}（DA/T 70-2018 移交与接收环节 35 项）",
        records=tuple(record_line(r.archival_code, r.case_number or "", r.report) for r in received),
    )
    sender = sent.register
    if sender is not None:
        base = sender
        parties: tuple[Inspection, ...] = (
            *(i for i in sender.inspections if i.party == "移交单位"),
            receiver,
        )
    else:
        blank = Verdict(NOT_CHECKED, "移交方登记表缺失或无法读取")
        base = Register(
            transfer_id=d.transfer_id if d else "",
            work_name="（登记表缺失）",
            content=d.content if d else "",
            record_count=d.record_count if d else 0,
            document_count=d.document_count if d else 0,
            file_count=d.file_count if d else 0,
            total_bytes=d.total_bytes if d else 0,
            carrier_sequence="",
            carrier_type="在线",
            digests=(),
            inspections=(),
        )
        parties = (
            Inspection(
                "移交单位", d.transferring_unit if d else "", (blank, blank, blank, blank), blank, now, "", ()
            ),
            receiver,
        )
    reg = dataclasses.replace(base, inspections=parties, sender_register_sha256=sent.sha256)
    folder = _report_folder(inst, report_dir, d.transfer_id if d else None, now.astimezone(dt.UTC))
    try:
        return _write(inst, folder, render_register(reg), received, now)
    except OSError as exc:
        raise TransferWriteFailed(f"receiver 登记表 in {folder}: cannot be written ({exc})") from None


def _write(
    inst: Installation, folder: Path, data: bytes, received: Sequence[ReceivedRecord], now: dt.datetime
) -> Path:
    conf = inst.settings.transfer
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RECEIVER_REGISTER
    _replace(path, data)
    signer = ensure_eep_signer(
        inst.settings.keys_dir, f"{conf.eep_key_name}-accession", unit=conf.receiving_unit, now=now
    )
    _replace(
        folder / f"{RECEIVER_REGISTER}.sig",
        sign_register(
            data,
            sign=signer.sign,
            algorithm=signer.algorithm,
            certificate_der=signer.certificate_der,
            now=now,
            signed_file=RECEIVER_REGISTER,
        ),
    )
    _replace(folder / "接收方签名证书.pem", signer.certificate_pem)
    for r in received:
        header = header_for(
            r.report, report_id=r.report_id, case_number=r.case_number, archive_id=r.archive_id
        )
        _replace(folder / f"检测报告-{r.archival_code}.json", render_json(r.report, header).encode("utf-8"))
    return path


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` through a temporary sibling and rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write_new(tmp, data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
