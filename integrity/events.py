"""Ledger events: the JSON objects that become RFC 9162 leaves (after RFC 8785 canonical encoding).

Every event is ``{"type": <one of EVENT_TYPES>, "v": <schema version>, ...fields}``; times are
RFC 3339 strings in UTC with a ``Z`` suffix. This module only builds and checks the dicts; encoding
them is :func:`integrity.canonical.canonical_json` and appending them is the ledger store's job.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from integrity.canonical import canonical_json

EVENT_VERSION = 1
EVENT_TYPES = frozenset(
    {
        "dossier.archived",
        "dossier.accessed",
        "metadata.amended",
        "audit.completed",
        "dossier.transferred",
        "key.rotated",
    }
)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def rfc3339(moment: dt.datetime) -> str:
    """``moment`` as an RFC 3339 UTC timestamp with ``Z`` (microseconds only when non-zero).

    >>> rfc3339(dt.datetime(2024, 5, 1, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    '2024-05-01T08:00:00Z'

    Raises:
        ValueError: ``moment`` is naive (has no time zone).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware (found naive {moment.isoformat()})")
    utc = moment.astimezone(dt.UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def event(type_: str, **fields: Any) -> dict[str, Any]:
    """A ledger event of a known type; ``datetime`` field values become RFC 3339 strings.

    >>> event("key.rotated", key_id="c74f20a3")
    {'type': 'key.rotated', 'v': 1, 'key_id': 'c74f20a3'}

    Raises:
        ValueError: unknown event type, a reserved field name (``type``, ``v``), a naive datetime
            or an integer outside the canonical JSON range.
        TypeError: a value canonical JSON cannot hold (e.g. a float).
    """
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown ledger event type {type_!r}; known: {', '.join(sorted(EVENT_TYPES))}")
    reserved = {"type", "v"} & fields.keys()
    if reserved:
        raise ValueError(f"event fields may not be named {', '.join(sorted(reserved))}")
    out: dict[str, Any] = {"type": type_, "v": EVENT_VERSION}
    for key, value in fields.items():
        out[key] = rfc3339(value) if isinstance(value, dt.datetime) else value
    canonical_json(out)  # refuse now what could not be appended later
    return out


def _sha256_hex(value: str, field: str) -> str:
    if not _SHA256_HEX.fullmatch(value):
        raise ValueError(f"{field}: expected 64 lowercase hex digits, found {value[:80]!r}")
    return value


def dossier_archived(
    archive_id: str,
    case_number: str,
    manifest_sha256_hex: str,
    package_digest_hex: str,
    archived_at: dt.datetime,
    document_count: int,
    total_bytes: int,
) -> dict[str, Any]:
    """The ``dossier.archived`` event written in the ingest transaction.

    It binds the AIP manifest digest and the package digest recorded at ingest into the ledger, so
    later checks can recompute and compare them (DA/T 70 GD-1-14 信息包一致性, BC-1-14).

    Raises:
        ValueError: empty ids, a digest that is not 64 lowercase hex digits, negative counts or a
            naive ``archived_at``.
    """
    if not archive_id or not case_number:
        raise ValueError("archive_id and case_number must be non-empty")
    if document_count < 0 or total_bytes < 0:
        raise ValueError(f"counts must be >= 0 (found documents={document_count}, bytes={total_bytes})")
    return event(
        "dossier.archived",
        archive_id=archive_id,
        case_number=case_number,
        manifest_sha256=_sha256_hex(manifest_sha256_hex, "manifest_sha256"),
        package_digest=_sha256_hex(package_digest_hex, "package_digest"),
        archived_at=archived_at,
        document_count=document_count,
        total_bytes=total_bytes,
    )
