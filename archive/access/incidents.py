"""The alert raised when serving a document fails (pure): tampering or loss is an incident, an outage is not.

:func:`access_alert` classifies the failure the way the fixity audit does (``integrity.audit.fixity``):
bytes that differ from the catalog (:class:`AccessDigestMismatch`, any ``VerificationFailed``) and an
object the store does not have (``ObjectNotFound``) are ``incident``; anything else (the store down or
failing mid-stream) is ``unreachable``. Delivering the alert is :func:`archive.access.service.report_mismatch`.
"""

from __future__ import annotations

import datetime as dt

from archive.access.errors import AccessDigestMismatch
from archive.stores.errors import ObjectNotFound
from integrity.alerts.model import Alert, AlertKind
from standards.errors import EdossierError, VerificationFailed

MAX_DETAIL_CHARS = 2000


def is_incident(error: BaseException) -> bool:
    """Whether ``error`` is evidence of tampering or loss (not an outage)."""
    return isinstance(error, VerificationFailed | ObjectNotFound)


def access_alert(
    archive_id: str, key: str, error: BaseException, now: dt.datetime, *, evidence_link: str | None = None
) -> Alert:
    """The alert for a download of ``key`` (dossier ``archive_id``) that failed with ``error``.

    Repeats for one object share a dedupe key (``incident:access:<key>`` or ``unreachable:access``).

    Raises:
        ValueError: an empty ``archive_id`` or ``key``, or a naive ``now``.
    """
    if not archive_id or not key:
        raise ValueError("access alert: archive_id and key must not be empty")
    code = error.code if isinstance(error, EdossierError) else type(error).__name__
    text = error.message if isinstance(error, EdossierError) else str(error)
    details = {"archive_id": archive_id, "key": key, "error": code, "message": text[:MAX_DETAIL_CHARS]}
    if isinstance(error, AccessDigestMismatch):
        details |= {
            "expected_sha256": error.expected_sha256,
            "found_sha256": error.found_sha256,
            "expected_size": str(error.expected_size),
            "found_size": str(error.found_size),
        }
    if is_incident(error):
        what = "存储对象缺失" if isinstance(error, ObjectNotFound) else "存储对象与目录登记的摘要或大小不符"
        return Alert.create(
            AlertKind.INCIDENT,
            key,
            f"档案 {archive_id} 利用时发现{what}，已中止传输：{key}",
            now=now,
            evidence_link=evidence_link,
            dedupe_key=f"incident:access:{key}",
            details=details,
        )
    return Alert.create(
        AlertKind.UNREACHABLE,
        "access-store",
        f"档案 {archive_id} 利用时存储不可达，传输中断（不构成篡改）：{key}",
        now=now,
        evidence_link=evidence_link,
        dedupe_key="unreachable:access",
        details=details,
    )
