"""One small API for every module that must put an event in the ledger (issue 3, item 8).

:func:`record_event` builds the leaf ``{"type", "v", "actor", "at", ["archive_id"], ...fields}``,
checks it against the per-type schema in ``event_schemas.json`` (a data file, loaded once), appends
it to the RFC 9162 log and adds the matching :class:`archive.catalog.models.Event` row (with
``leaf_index``) — both in the caller's transaction. It flushes but never commits: the module that
calls it (access logging, the audit runner, transfer export, key rotation) owns the transaction,
so its own rows and the leaf commit or roll back together.

``dossier.archived`` is not recorded here: only the ingest transaction writes it, beside the
dossier rows (:func:`integrity.events.dossier_archived`). :func:`validate_event` still checks it.
Signing checkpoints and publishing them are left to the ledger service and :mod:`integrity.witness`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.models import Event
from integrity.canonical import MAX_SAFE_INTEGER
from integrity.events import EVENT_VERSION, event, rfc3339
from integrity.ledger.store import AppendedLeaf, LedgerStore
from integrity.signed_note import MalformedKey
from standards.errors import BadInput, StorageError, StorageUnavailable

SCHEMA_FILE = "event_schemas.json"
ENVELOPE = ("actor", "at", "archive_id")  # filled in by record_event, not by the caller's fields
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_NOTE_KEY = re.compile(r"[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+")


# ---------------------------------------------------------------- errors
class UnknownEventType(BadInput):
    """The event type is not one the schema file defines (or not one ``record_event`` may write)."""

    code = "ledger_event_unknown_type"


class EventFieldMissing(BadInput):
    """A field the event's schema requires is absent."""

    code = "ledger_event_field_missing"


class EventFieldInvalid(BadInput):
    """A field has the wrong type or a value its schema does not allow."""

    code = "ledger_event_field_invalid"


class UnexpectedEventField(BadInput):
    """The event carries a field its schema does not define."""

    code = "ledger_event_field_unexpected"


# ---------------------------------------------------------------- schemas
@dataclass(frozen=True)
class FieldSpec:
    """One field of an event schema: its type name and, for strings, the allowed values."""

    type: str
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventSchema:
    """The schema of one event type (from ``event_schemas.json``)."""

    type: str
    description: str
    writer: str  # "record_event" or "ingest"
    required: Mapping[str, FieldSpec]
    optional: Mapping[str, FieldSpec]


def _spec(raw: str | Mapping[str, Any]) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(raw)
    return FieldSpec(str(raw["type"]), tuple(str(v) for v in raw.get("enum", ())))


@cache
def event_schemas() -> Mapping[str, EventSchema]:
    """The per-type schemas from the package data file ``event_schemas.json`` (read once).

    Raises:
        ValueError: the data file is inconsistent with the code (a packaging bug).
    """
    text = resources.files("integrity.ledger").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    raw = json.loads(text)
    if raw.get("version") != EVENT_VERSION:
        raise ValueError(f"{SCHEMA_FILE}: version expected {EVENT_VERSION}, found {raw.get('version')!r}")
    out: dict[str, EventSchema] = {}
    for name, body in raw["types"].items():
        required = {k: _spec(v) for k, v in body["required"].items()}
        optional = {k: _spec(v) for k, v in body.get("optional", {}).items()}
        for field, spec in (required | optional).items():
            if spec.type not in _CHECKS:
                raise ValueError(f"{SCHEMA_FILE}: {name}.{field}: unknown field type {spec.type!r}")
        out[name] = EventSchema(name, body["description"], body["writer"], required, optional)
    return out


# ---------------------------------------------------------------- field checks (pure)
def _is_str(v: object) -> bool:
    return isinstance(v, str) and bool(v)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_SAFE_INTEGER


def _is_base64(v: object) -> bool:
    if not isinstance(v, str) or not v:
        return False
    try:
        base64.b64decode(v.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    return True


_CHECKS: dict[str, Callable[[object], bool]] = {
    "string": _is_str,
    "integer": _is_int,
    "boolean": lambda v: isinstance(v, bool),
    "sha256_hex": lambda v: isinstance(v, str) and _SHA256_HEX.fullmatch(v) is not None,
    "rfc3339": lambda v: isinstance(v, str) and _RFC3339_Z.fullmatch(v) is not None,
    "string_list": lambda v: isinstance(v, list | tuple) and bool(v) and all(_is_str(x) for x in v),
    "integer_list": lambda v: isinstance(v, list | tuple) and bool(v) and all(_is_int(x) for x in v),
    "base64": _is_base64,
    "note_key": lambda v: isinstance(v, str) and _NOTE_KEY.fullmatch(v) is not None,
}


def _check_field(type_: str, name: str, spec: FieldSpec, value: object) -> None:
    if not _CHECKS[spec.type](value):
        shown = repr(value)[:80]
        raise EventFieldInvalid(f"{type_} event field {name!r}: expected {spec.type}, found {shown}")
    if spec.enum and value not in spec.enum:
        raise EventFieldInvalid(
            f"{type_} event field {name!r}: expected one of {', '.join(spec.enum)}, found {value!r}"
        )


def validate_event(ev: Mapping[str, Any]) -> EventSchema:
    """Check a whole leaf event against its type's schema; return the schema.

    Raises:
        UnknownEventType: ``type`` is missing or not defined in the schema file.
        EventFieldInvalid: ``v`` is not the current version, or a field has the wrong type/value.
        EventFieldMissing: a required field is absent.
        UnexpectedEventField: a field is neither required nor optional for the type.
    """
    type_ = ev.get("type")
    schemas = event_schemas()
    if not isinstance(type_, str) or type_ not in schemas:
        raise UnknownEventType(
            f"event type: expected one of {', '.join(sorted(schemas))}, found {str(type_)[:80]!r}"
        )
    if ev.get("v") != EVENT_VERSION or isinstance(ev.get("v"), bool):
        raise EventFieldInvalid(f"{type_} event field 'v': expected {EVENT_VERSION}, found {ev.get('v')!r}")
    schema = schemas[type_]
    missing = [name for name in schema.required if name not in ev]
    if missing:
        raise EventFieldMissing(f"{type_} event: required field(s) missing: {', '.join(missing)}")
    extra = sorted(set(ev) - {"type", "v"} - set(schema.required) - set(schema.optional))
    if extra:
        raise UnexpectedEventField(
            f"{type_} event: unexpected field(s) {', '.join(extra)};"
            f" allowed: {', '.join([*schema.required, *schema.optional])}"
        )
    for name, value in ev.items():
        spec = schema.required.get(name) or schema.optional.get(name)
        if spec is not None:
            _check_field(type_, name, spec, value)
    return schema


def build_event(
    type_: str, fields: Mapping[str, Any], *, now: dt.datetime, actor: str, archive_id: str | None = None
) -> dict[str, Any]:
    """The leaf event ``record_event`` would append, checked against the schema (pure).

    Raises:
        UnknownEventType: ``type_`` is unknown, or is written only by ingest (``dossier.archived``).
        EventFieldInvalid, EventFieldMissing, UnexpectedEventField: see :func:`validate_event`;
            also when ``fields`` repeats an envelope field (``actor``, ``at``, ``archive_id``).
        ValueError: ``now`` is naive.
    """
    schema = event_schemas().get(type_)
    if schema is None or schema.writer != "record_event":
        allowed = sorted(n for n, s in event_schemas().items() if s.writer == "record_event")
        raise UnknownEventType(f"event type: expected one of {', '.join(allowed)}, found {type_[:80]!r}")
    clash = sorted(set(fields) & {*ENVELOPE, "type", "v"})
    if clash:
        raise EventFieldInvalid(
            f"{type_} event: field(s) {', '.join(clash)} are set by record_event, not by the caller"
        )
    envelope: dict[str, Any] = {"actor": actor, "at": rfc3339(now)}
    if archive_id is not None:
        envelope["archive_id"] = archive_id
    candidate = {"type": type_, "v": EVENT_VERSION, **envelope, **fields}
    validate_event(candidate)  # before event(): a bad field is BadInput, not a TypeError
    return event(type_, **envelope, **fields)


# ---------------------------------------------------------------- recording (I/O)
@contextmanager
def _db_errors() -> Iterator[None]:
    try:
        yield
    except IntegrityError:
        raise
    except OperationalError as exc:
        raise StorageUnavailable(f"event row: database unavailable ({type(exc.orig).__name__})") from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"event row: database error ({type(exc).__name__})") from exc


_DEFAULT_LEDGER = LedgerStore()


def record_event(
    session: Session,
    type_: str,
    fields: Mapping[str, Any],
    *,
    now: dt.datetime,
    actor: str,
    archive_id: str | None = None,
    ledger: LedgerStore = _DEFAULT_LEDGER,
) -> AppendedLeaf:
    """Append a checked event as the next ledger leaf and add its ``events`` row; flush, never commit.

    Raises:
        UnknownEventType, EventFieldInvalid, EventFieldMissing, UnexpectedEventField: the event
            does not follow its schema (nothing is written).
        ValueError: ``now`` is naive.
        LedgerNodeMissing, LedgerHeadMismatch: the stored tree is damaged (see LedgerStore.append).
        sqlalchemy.exc.IntegrityError: a constraint failed while flushing (possibly the caller's rows).
        StorageError, StorageUnavailable: the database failed.
    """
    ev = build_event(type_, fields, now=now, actor=actor, archive_id=archive_id)
    leaf = ledger.append(session, ev, now)
    with _db_errors():
        session.add(
            Event(
                kind=type_,
                archive_id=archive_id,
                actor=actor,
                created_at=now,
                payload_json=json.dumps(ev, ensure_ascii=False, sort_keys=True),
                leaf_index=leaf.index,
            )
        )
        session.flush()
    return leaf


# ---------------------------------------------------------------- typed helpers
def _opt(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def dossier_accessed(
    session: Session,
    archive_id: str,
    *,
    access: str,
    purpose: str,
    now: dt.datetime,
    actor: str,
    documents: Sequence[int] | None = None,
    request_id: str | None = None,
    role: str | None = None,
    volume: str | None = None,
    ledger: LedgerStore = _DEFAULT_LEDGER,
) -> AppendedLeaf:
    """Record a use of a dossier (``access``: view, download, print or export), with the reader's role
    and the 卷别 read when known. Raises as :func:`record_event`."""
    fields = {"access": access, "purpose": purpose} | _opt(
        documents=list(documents) if documents is not None else None,
        request_id=request_id,
        role=role,
        volume=volume,
    )
    return record_event(
        session, "dossier.accessed", fields, now=now, actor=actor, archive_id=archive_id, ledger=ledger
    )


def metadata_amended(
    session: Session,
    archive_id: str,
    *,
    fields_amended: Sequence[str],
    reason: str,
    manifest_sha256: str,
    now: dt.datetime,
    actor: str,
    previous_manifest_sha256: str | None = None,
    approved_by: str | None = None,
    ledger: LedgerStore = _DEFAULT_LEDGER,
) -> AppendedLeaf:
    """Record a metadata correction and the digest of the amended manifest. Raises as :func:`record_event`."""
    fields = {"fields": list(fields_amended), "reason": reason, "manifest_sha256": manifest_sha256} | _opt(
        previous_manifest_sha256=previous_manifest_sha256, approved_by=approved_by
    )
    return record_event(
        session, "metadata.amended", fields, now=now, actor=actor, archive_id=archive_id, ledger=ledger
    )


def audit_completed(
    session: Session,
    *,
    audit_id: str,
    scope: str,
    checked: int,
    failed: int,
    result: str,
    now: dt.datetime,
    actor: str,
    archive_id: str | None = None,
    report_sha256: str | None = None,
    ledger: LedgerStore = _DEFAULT_LEDGER,
) -> AppendedLeaf:
    """Record a finished audit run (``result``: pass, fail or incomplete). Raises as :func:`record_event`."""
    fields = {"audit_id": audit_id, "scope": scope, "checked": checked, "failed": failed, "result": result}
    fields |= _opt(report_sha256=report_sha256)
    return record_event(
        session, "audit.completed", fields, now=now, actor=actor, archive_id=archive_id, ledger=ledger
    )


def dossier_transferred(
    session: Session,
    archive_id: str,
    *,
    recipient: str,
    package_sha256: str,
    now: dt.datetime,
    actor: str,
    transfer_id: str | None = None,
    direction: str | None = None,
    yj_passed: bool | None = None,
    report_sha256: str | None = None,
    archival_code: str | None = None,
    sender: str | None = None,
    ledger: LedgerStore = _DEFAULT_LEDGER,
) -> AppendedLeaf:
    """Record a hand-over (移交, ``direction="sent"``) or an accession (接收, ``"received"``) of a dossier
    in a transfer package, with the YJ result and its report digest. Raises as :func:`record_event`."""
    fields = {"recipient": recipient, "package_sha256": package_sha256} | _opt(
        transfer_id=transfer_id,
        direction=direction,
        yj_passed=yj_passed,
        report_sha256=report_sha256,
        archival_code=archival_code,
        sender=sender,
    )
    return record_event(
        session, "dossier.transferred", fields, now=now, actor=actor, archive_id=archive_id, ledger=ledger
    )


def key_rotated(
    session: Session,
    *,
    old_key: str,
    new_key: str,
    now: dt.datetime,
    actor: str,
    old_key_signature: bytes | None = None,
    reason: str | None = None,
    ledger: LedgerStore = _DEFAULT_LEDGER,
) -> AppendedLeaf:
    """Record a signing-key rotation: both verifier key strings, and the old key's signature if given.

    Raises:
        MalformedKey: a key string is not shaped ``<name>+<8 hex>+<base64>`` (the key material
            itself is not decoded here, so Ed25519 and SM2 verifier keys are both accepted).
        EventFieldInvalid: ``new_key`` equals ``old_key``; otherwise as :func:`record_event`.
    """
    for name, key in (("old_key", old_key), ("new_key", new_key)):
        if not _NOTE_KEY.fullmatch(key):
            raise MalformedKey(f"key.rotated {name}: expected '<name>+<8 hex>+<base64>', found {key[:60]!r}")
    if old_key == new_key:
        raise EventFieldInvalid("key.rotated: new_key is the same as old_key")
    sig = base64.b64encode(old_key_signature).decode("ascii") if old_key_signature is not None else None
    fields = {"old_key": old_key, "new_key": new_key} | _opt(old_key_signature=sig, reason=reason)
    return record_event(session, "key.rotated", fields, now=now, actor=actor, ledger=ledger)


__all__ = [
    "EventFieldInvalid",
    "EventFieldMissing",
    "EventSchema",
    "FieldSpec",
    "MalformedKey",
    "UnexpectedEventField",
    "UnknownEventType",
    "audit_completed",
    "build_event",
    "dossier_accessed",
    "dossier_transferred",
    "event_schemas",
    "key_rotated",
    "metadata_amended",
    "record_event",
    "validate_event",
]
