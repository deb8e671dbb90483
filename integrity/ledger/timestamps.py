"""RFC 3161 time-stamps of signed checkpoints, stored in ``checkpoint_timestamps``.

A checkpoint is a C2SP signed note; what its signatures sign is the note text up to and including
the newline before the blank line (c2sp.org/signed-note). That same text — the checkpoint body — is
what the TSA stamps, so a token proves the checkpoint existed by the token's genTime, independently
of our clock and of who holds the signing key. The token is verified before it is stored.

Like the ledger store, these functions take the caller's :class:`Session` and never commit. The
HTTP exchange is :class:`~integrity.timestamp.client.TsaClient`'s; verification is
:func:`~integrity.timestamp.verify.verify_token`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.models import Checkpoint as CheckpointRow
from archive.catalog.models import CheckpointTimestamp
from integrity.signed_note import MalformedNote
from integrity.timestamp.client import TsaClient
from standards.errors import BadInput, StorageError, StorageUnavailable


class CheckpointNotFound(BadInput):
    """No stored checkpoint has the requested id."""

    code = "ledger_checkpoint_not_found"


@dataclass(frozen=True)
class StoredTimestamp:
    """One stored time-stamp token of a checkpoint (``token`` is the DER TimeStampToken)."""

    id: int
    checkpoint_id: int
    tsa_url: str
    token: bytes
    gen_time: dt.datetime
    serial: int
    created_at: dt.datetime


@contextmanager
def _db_errors(action: str) -> Iterator[None]:
    """Translate SQLAlchemy failures into the storage families; constraint errors pass through."""
    try:
        yield
    except IntegrityError:
        raise
    except OperationalError as exc:
        raise StorageUnavailable(f"checkpoint timestamps {action}: database unavailable") from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"checkpoint timestamps {action}: database error ({type(exc).__name__})") from exc


def signed_body(note: str) -> bytes:
    """The UTF-8 text a signed note's signatures sign: everything up to and including the newline
    before the last blank line (c2sp.org/signed-note).

    >>> signed_body("origin\\n2\\nAAAA\\n\\n— k c2ln\\n")
    b'origin\\n2\\nAAAA\\n'

    Raises:
        MalformedNote: the note has no blank line before a signature block.
    """
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("note: no blank line before the signature block")
    return note[: split + 1].encode("utf-8")


def _stored(row: CheckpointTimestamp) -> StoredTimestamp:
    return StoredTimestamp(
        id=row.id,
        checkpoint_id=row.checkpoint_id,
        tsa_url=row.tsa_url,
        token=bytes(row.token),
        gen_time=row.gen_time,
        serial=int(row.serial),
        created_at=row.created_at,
    )


def timestamp_checkpoint(
    session: Session,
    checkpoint_id: int,
    client: TsaClient,
    roots: Sequence[x509.Certificate],
    *,
    now: dt.datetime | None = None,
) -> StoredTimestamp:
    """Stamp the signed body of checkpoint ``checkpoint_id`` at the TSA, verify, store; flush, never commit.

    ``now`` is the row's ``created_at`` (the clock's time if not given).

    Raises:
        CheckpointNotFound: no checkpoint has that id.
        MalformedNote: the stored note has no signature block.
        TsaUnavailable: the TSA could not be reached.
        TimestampNotGranted: the TSA refused to stamp.
        MalformedTimestamp: the reply or token is not well-formed.
        VerificationFailed: the token does not verify against ``roots`` (its own subclasses).
        StorageError, StorageUnavailable: the database failed.
    """
    with _db_errors("read checkpoint"):
        checkpoint = session.get(CheckpointRow, checkpoint_id)
    if checkpoint is None:
        raise CheckpointNotFound(f"checkpoint id: {checkpoint_id} is not stored")
    stamped = client.stamp_verified(signed_body(checkpoint.note), roots)
    row = CheckpointTimestamp(
        checkpoint_id=checkpoint_id,
        tsa_url=client.url,
        token=stamped.token,
        gen_time=stamped.info.gen_time,
        serial=str(stamped.info.serial),
        created_at=now if now is not None else dt.datetime.now(dt.UTC),
    )
    with _db_errors("store"):
        session.add(row)
        session.flush()
    return _stored(row)


def timestamps_for(session: Session, checkpoint_id: int) -> list[StoredTimestamp]:
    """Every stored token of checkpoint ``checkpoint_id``, oldest first (empty if none).

    Raises:
        StorageError, StorageUnavailable: the database failed.
    """
    stmt = (
        select(CheckpointTimestamp)
        .where(CheckpointTimestamp.checkpoint_id == checkpoint_id)
        .order_by(CheckpointTimestamp.id)
    )
    with _db_errors("read"):
        return [_stored(row) for row in session.scalars(stmt)]
