"""Gather a dossier's evidence bundle from the catalog, the ledger and the object store.

For an archive id (or 案号): the dossier row names its ``dossier.archived`` leaf and its AIP
manifest; the bundle proves that leaf into the latest signed checkpoint that covers it (RFC 9162
§2.1.3.1 proof from stored nodes, :mod:`integrity.ledger.proofs`), and carries the checkpoint's
stored RFC 3161 tokens (:mod:`integrity.ledger.timestamps`). When no signed checkpoint covers the
leaf yet, one is signed first through :meth:`LedgerStore.sign_checkpoint` in the caller's
transaction (flushed, never committed: the caller commits so the new checkpoint is kept).

Before anything is returned, what we hand out is checked against what we recorded: the leaf names
the dossier's archive id and manifest digest, the manifest bytes hash to that digest, and the
proof verifies against the checkpoint root — a corrupted store or node table yields an error here,
never a bundle that fails at the auditor's. The bundle format is :mod:`integrity.evidence`'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.models import Checkpoint as CheckpointRow
from archive.catalog.models import Dossier
from archive.catalog.queries import find_dossier
from archive.stores import ObjectStore
from integrity.evidence import EvidenceBundle
from integrity.ledger.proofs import ArchiveNotInLedger, inclusion_proof
from integrity.ledger.store import LedgerStore
from integrity.ledger.timestamps import timestamps_for
from integrity.merkle.proofs import verify_inclusion
from integrity.signed_note import NoteSigner
from standards.errors import StorageError, StorageUnavailable, VerificationFailed


class LeafDossierMismatch(VerificationFailed):
    """The dossier's ledger leaf does not name the dossier's archive id and manifest digest."""

    code = "evidence_leaf_dossier_mismatch"


class StoredManifestMismatch(VerificationFailed):
    """The stored manifest does not hash to the digest the catalog recorded at ingest."""

    code = "evidence_stored_manifest_mismatch"


def _latest_checkpoint(session: Session) -> CheckpointRow | None:
    try:
        return session.scalars(select(CheckpointRow).order_by(CheckpointRow.id.desc()).limit(1)).first()
    except OperationalError as exc:
        raise StorageUnavailable(f"evidence: database unavailable ({type(exc.orig).__name__})") from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"evidence: database error reading checkpoints ({type(exc).__name__})") from exc


def _find(session: Session, archive_id: str) -> Dossier:
    try:
        dossier = find_dossier(session, archive_id)
    except OperationalError as exc:
        raise StorageUnavailable(f"evidence: database unavailable ({type(exc.orig).__name__})") from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"evidence: database error reading dossier ({type(exc).__name__})") from exc
    if dossier is None:
        raise ArchiveNotInLedger(f"archive id: no archived dossier {archive_id!r} (archive id or 案号)")
    return dossier


def _check_leaf(dossier: Dossier, data: bytes) -> None:
    try:
        event = json.loads(data)
    except ValueError:
        event = None
    named = (event.get("archive_id"), event.get("manifest_sha256")) if isinstance(event, dict) else None
    if named != (dossier.archive_id, dossier.manifest_sha256):
        raise LeafDossierMismatch(
            f"leaf {dossier.leaf_index}: expected archive {dossier.archive_id} with manifest"
            f" {dossier.manifest_sha256}, found {named!r:.200}"
        )


def _read_manifest(store: ObjectStore, dossier: Dossier) -> bytes:
    with store.open(dossier.manifest_key) as fh:
        data = fh.read()
    found = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(found, dossier.manifest_sha256):
        raise StoredManifestMismatch(
            f"manifest {dossier.manifest_key}: sha256 expected {dossier.manifest_sha256}, found {found}",
            path=dossier.manifest_key,
        )
    return data


def gather_evidence(
    session: Session,
    store: ObjectStore,
    archive_id: str,
    *,
    signers: NoteSigner | Sequence[NoteSigner],
    origin: str,
    now: dt.datetime,
    ledger: LedgerStore | None = None,
) -> EvidenceBundle:
    """The evidence bundle of the dossier ``archive_id`` (or 案号); may sign a checkpoint (no commit).

    ``signers``, ``origin`` and ``now`` are used only when no signed checkpoint covers the leaf.

    Raises:
        ArchiveNotInLedger: no dossier has that archive id or 案号.
        LeafDossierMismatch: the stored leaf does not name the dossier and its manifest digest.
        StoredManifestMismatch: the stored manifest does not hash to the recorded digest.
        ProofError (integrity.merkle.proofs): the stored nodes do not prove the leaf into the root.
        InconsistentCheckpoint, LedgerHeadMismatch, LedgerNodeMissing, TreeSizeOutOfRange: the
            ledger tables are damaged (from signing or proving).
        ObjectNotFound, StoreUnavailable, StoreError: the manifest cannot be read.
        StorageError, StorageUnavailable: the database failed.
    """
    ledger = ledger or LedgerStore()
    dossier = _find(session, archive_id)
    index = int(dossier.leaf_index)
    leaf = ledger.leaf(session, index)
    _check_leaf(dossier, leaf.data)
    manifest = _read_manifest(store, dossier)
    checkpoint = _latest_checkpoint(session)
    if checkpoint is None or checkpoint.size <= index:
        ledger.sign_checkpoint(session, signers, origin, now)
        checkpoint = _latest_checkpoint(session)
        if checkpoint is None:
            raise StorageError("evidence: the checkpoint just signed is not visible in this session")
    size, root = int(checkpoint.size), bytes(checkpoint.root_hash)
    proof = inclusion_proof(session, index, size, ledger.hasher)
    verify_inclusion(index, size, leaf.leaf_hash, proof, root, ledger.hasher)  # RFC 9162 §2.1.3.2
    tokens = tuple(t.token for t in timestamps_for(session, checkpoint.id))
    return EvidenceBundle(index, tuple(proof), checkpoint.note, leaf.data, manifest, tokens)
