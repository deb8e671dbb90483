"""Which dossiers an export transfers: the selection, the target folder, the record 档号, earlier exports.

:func:`select_dossiers` reads the catalog (by 案号 or archive id, or every dossier), derives each record
档号 from the documents' 档号 (:func:`archive.transfer.layout.record_code_for`) and refuses two dossiers
with one 档号 (their folders would clash; DA/T 70 YJ-1-8). It also notes earlier ``dossier.transferred``
(sent) events of each dossier: :func:`already_sent` turns them into YJ-1-8 warnings — a package the
receiver returned is legitimately sent again, but never silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog import queries
from archive.catalog.models import Dossier, Event
from archive.transfer.errors import (
    DuplicateRecordCode,
    TransferDossierNotFound,
    TransferSelectionEmpty,
    TransferTargetNotEmpty,
)
from archive.transfer.findings import Finding
from archive.transfer.layout import RecordCode, record_code_for

if TYPE_CHECKING:
    from api.wiring import Installation


@dataclass(frozen=True)
class Selected:
    """A dossier chosen for transfer, read from the catalog, with its record 档号."""

    archive_id: str
    case_number: str
    manifest_key: str
    package_digest: str
    code: RecordCode
    sent_before: tuple[str, ...] = ()  # transfer ids of earlier exports of this dossier


def check_target(target: Path) -> None:
    """The target folder must not exist, or be an empty folder; its parent must exist.

    Raises:
        TransferTargetNotEmpty: the target is a file, a non-empty folder, or its parent is missing.
    """
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise TransferTargetNotEmpty(f"output {target}: expected a new or empty folder, found a file or link")
    if target.is_dir() and any(target.iterdir()):
        raise TransferTargetNotEmpty(f"output {target}: expected a new or empty folder, found files in it")
    if not target.parent.is_dir():
        raise TransferTargetNotEmpty(f"output {target}: its parent folder {target.parent} does not exist")


def select_dossiers(inst: Installation, case_numbers: Sequence[str], all_dossiers: bool) -> list[Selected]:
    """The dossiers to transfer (by 案号 or archive id, or all), each with its record 档号, in 档号 order.

    Raises:
        TransferSelectionEmpty: nothing selected.
        TransferDossierNotFound: a 案号 names no dossier.
        RecordCodeUnusable: a dossier's documents do not give one record 档号.
        DuplicateRecordCode: two dossiers would have the same record 档号.
    """
    with inst.sessions() as session:
        if all_dossiers:
            dossiers = list(session.scalars(select(Dossier).order_by(Dossier.archive_id)))
        else:
            dossiers = []
            for key in dict.fromkeys(case_numbers):
                found = queries.find_dossier(session, key)
                if found is None:
                    raise TransferDossierNotFound(
                        f"--case-number {key!r}: no archived dossier has this 案号 or archive id"
                    )
                dossiers.append(found)
        chosen: dict[str, Selected] = {}
        for d in dossiers:
            if d.archive_id in {s.archive_id for s in chosen.values()}:
                continue
            code = record_code_for((doc.archival_code for doc in d.documents), d.retention)
            if code.text in chosen:
                raise DuplicateRecordCode(
                    f"dossiers {chosen[code.text].archive_id} and {d.archive_id}: both have the record 档号 {code.text}"
                )
            chosen[code.text] = Selected(
                d.archive_id,
                d.case_number,
                d.manifest_key,
                d.package_digest,
                code,
                _sent_before(session, d.archive_id),
            )
    if not chosen:
        raise TransferSelectionEmpty(
            "selection: expected at least one archived dossier (--all or --case-number)"
        )
    return [chosen[k] for k in sorted(chosen)]


def _sent_before(session: Session, archive_id: str) -> tuple[str, ...]:
    """Transfer ids of the dossier's earlier ``dossier.transferred`` (sent) events."""
    rows = session.scalars(
        select(Event.payload_json).where(Event.kind == "dossier.transferred", Event.archive_id == archive_id)
    )
    out = []
    for text in rows:
        payload = json.loads(text)
        if payload.get("direction", "sent") == "sent":
            out.append(str(payload.get("transfer_id", "?")))
    return tuple(out)


def already_sent(selected: Sequence[Selected]) -> list[Finding]:
    """DA/T 70 YJ-1-8 on the sender side: a dossier exported before is flagged (a warning — a package the
    receiver returned is legitimately sent again), never silently sent twice."""
    return [
        Finding(
            "YJ-1-8",
            "transfer_already_sent",
            f"档号“{s.code.text}”（案号 {s.case_number}）此前已移交 {len(s.sent_before)} 次"
            f"（移交标识 {'、'.join(s.sent_before[:3])}），请确认接收方未重复接收",
            f"record {s.code.text} was exported before ({', '.join(s.sent_before[:3])})",
            None,
            s.code.text,
            "warn",
        )
        for s in selected
        if s.sent_before
    ]
