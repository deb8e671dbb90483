"""The ledger over HTTP: the latest signed checkpoint, inclusion and consistency proofs, evidence bundles."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import READERS, Caller, Inst, allow
from api.http.errors import AuthenticationRequired, NotFound
from archive.catalog import queries
from archive.catalog.errors import DatabaseUnavailable
from archive.tokens import Principal
from integrity.evidence import format_bundle
from integrity.ledger import proofs as ledger_proofs
from integrity.ledger.evidence import gather_evidence
from integrity.ledger.store import LedgerStore

router = APIRouter(prefix="/api/v1", tags=["ledger"])
Reader = Annotated[Principal, Depends(allow(*READERS))]
#: Tree sizes are 64-bit in RFC 9162; larger numbers are refused before they reach the database.
MAX_TREE_SIZE = 2**63 - 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _db(what: str, exc: SQLAlchemyError) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"{what}: {type(exc).__name__}")


@router.get(
    "/ledger/checkpoint",
    response_class=PlainTextResponse,
    summary="The latest signed checkpoint (C2SP signed note)",
)
def checkpoint(inst: Inst, who: Caller) -> PlainTextResponse:
    """Public unless ``EDOSSIER_API__PUBLIC_CHECKPOINT=false`` (then any valid token)."""
    if not inst.settings.api.public_checkpoint and who is None:
        raise AuthenticationRequired("the checkpoint is not public here: Authorization: Bearer <token>")
    try:
        with inst.sessions() as session:
            latest = LedgerStore().latest_checkpoint(session)
    except SQLAlchemyError as exc:
        raise _db("checkpoint", exc) from exc
    if latest is None:
        raise NotFound("no checkpoint has been signed yet")
    return PlainTextResponse(latest.note, media_type="text/plain; charset=utf-8")


@router.get("/ledger/proofs/inclusion/{archive_id}", summary="Inclusion proof of a dossier's leaf")
def inclusion(archive_id: str, inst: Inst, who: Reader) -> dict[str, Any]:
    try:
        with inst.sessions() as session:
            dossier = queries.find_dossier(session, archive_id)
            if dossier is None:
                raise NotFound(f"dossier {archive_id!r}: not archived")
            got = ledger_proofs.inclusion_proof_for_archive(session, dossier.archive_id)
    except SQLAlchemyError as exc:
        raise _db("inclusion proof", exc) from exc
    return {
        "archive_id": dossier.archive_id,
        "index": got.index,
        "size": got.size,
        "leaf_hash": _b64(got.leaf_hash),
        "root": _b64(got.root),
        "proof": [_b64(p) for p in got.proof],
    }


@router.get("/ledger/proofs/consistency", summary="Consistency proof between two tree sizes")
def consistency(
    inst: Inst,
    who: Reader,
    first: Annotated[int, Query(alias="from", ge=0, le=MAX_TREE_SIZE)],
    second: Annotated[int | None, Query(alias="to", ge=0, le=MAX_TREE_SIZE)] = None,
) -> dict[str, Any]:
    store = LedgerStore()
    try:
        with inst.sessions() as session:
            size2 = store.head(session).size if second is None else second
            proof = ledger_proofs.consistency_proof(session, first, size2)
            root1, root2 = store.root_at(session, first), store.root_at(session, size2)
    except SQLAlchemyError as exc:
        raise _db("consistency proof", exc) from exc
    return {
        "size1": first,
        "size2": size2,
        "root1": _b64(root1),
        "root2": _b64(root2),
        "proof": [_b64(p) for p in proof],
    }


@router.get(
    "/dossiers/{archive_id}/evidence",
    response_class=PlainTextResponse,
    tags=["dossiers"],
    summary="Evidence bundle (C2SP tlog-proof + leaf + manifest + timestamps) for offline verification",
)
def evidence(archive_id: str, inst: Inst, who: Reader) -> PlainTextResponse:
    try:
        with inst.write_sessions() as session, session.begin():  # may sign a checkpoint that covers the leaf
            bundle = gather_evidence(
                session,
                inst.store,
                archive_id,
                signers=inst.signers or [inst.signer],
                origin=inst.settings.ledger_origin,
                now=dt.datetime.now(dt.UTC),
            )
    except SQLAlchemyError as exc:
        raise _db("evidence", exc) from exc
    return PlainTextResponse(
        format_bundle(bundle),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{archive_id}.tlog-proof"'},
    )
