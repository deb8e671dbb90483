"""``edossier proof``: check RFC 9162 proofs offline and print proofs from our ledger.

``check-inclusion`` / ``check-consistency`` need no data directory: they take base64 hashes (RFC 4648
§4, as in C2SP checkpoints and tlog-proof) and run :mod:`integrity.merkle.proofs`. Exit codes:
0 the proof is valid, 1 it is invalid, 2 the input is malformed (bad base64, a negative number, a
hash of the wrong length for the algorithm), 3 storage unavailable (ledger commands only).

``inclusion ARCHIVE_ID`` and ``consistency SIZE1 [SIZE2]`` read the ledger (``integrity.ledger.proofs``)
and print proofs in the same base64 form, with the ``check-*`` command line that verifies them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import typer

from api import cli_output as ui
from api.cli_common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    DataDirOption,
    JsonOption,
    exit_not_found,
    exit_unavailable,
    open_or_exit,
    settings_for,
)
from archive.catalog import queries
from integrity.ledger import proofs as ledger_proofs
from integrity.ledger.store import LedgerStore, TreeSizeOutOfRange
from integrity.merkle.hashes import Hasher
from integrity.merkle.proofs import HashLengthMismatch, ProofError, verify_consistency, verify_inclusion
from standards.errors import EdossierError, StorageError, VerificationFailed

proof_app = typer.Typer(help="RFC 9162 inclusion and consistency proofs.", no_args_is_help=True)

HashOption = Annotated[str, typer.Option("--hash", help="Tree hash algorithm: sha256 (default) or sm3.")]
ProofOption = Annotated[
    str, typer.Option("--proof", help="Proof hashes, base64, comma-separated, in order (may be empty).")
]


class _Malformed(Exception):
    """Input that cannot be a proof at all (exit 2)."""


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _Malformed(f"{what}: not standard base64 (RFC 4648 §4): {value.strip()[:60]!r}") from None


def _proof(value: str) -> list[bytes]:
    if not value.strip():
        return []
    return [_b64(item, f"--proof[{i}]") for i, item in enumerate(value.split(","))]


def _count(value: int, what: str) -> int:
    if value < 0:
        raise _Malformed(f"{what}: expected a number >= 0, found {value}")
    return value


def _hasher(name: str) -> Hasher:
    if name.lower() not in ("sha256", "sm3"):
        raise _Malformed(f"--hash: expected sha256 or sm3, found {name!r}")
    return Hasher(name.lower())


def _b64s(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _finish(as_json: bool, status: str, facts: dict[str, Any], error: Exception | None = None) -> NoReturn:
    code = {"valid": EXIT_OK, "invalid": EXIT_INVALID}.get(status, EXIT_USAGE)
    if as_json:
        payload: dict[str, Any] = {"valid": status == "valid", "status": status, **facts}
        if error is not None:
            err_code = getattr(error, "code", "malformed_input")
            payload["error"] = {"class": type(error).__name__, "code": err_code, "message": str(error)}
        ui.emit_json(payload)
    elif status == "valid":
        ui.out.print(f"[bold green]valid[/]: {facts['what']}")
    elif status == "invalid":
        ui.out.print(f"[bold red]invalid[/]: {facts['what']}")
        ui.err.print(f"{type(error).__name__}: {error}", markup=False)
    else:
        ui.err.print(f"[red]malformed input:[/] {error}")
    raise typer.Exit(code)


def _run_check(as_json: bool, facts: dict[str, Any], check: Callable[[], None]) -> NoReturn:
    """Run ``check``; map its outcome to valid / invalid / malformed and exit."""
    try:
        check()
    except (_Malformed, HashLengthMismatch) as error:  # a wrong-length hash is malformed input here
        _finish(as_json, "malformed", facts, error)
    except ProofError as error:
        _finish(as_json, "invalid", facts, error)
    _finish(as_json, "valid", facts)


# ---------------------------------------------------------------------------- offline checks
@proof_app.command("check-inclusion")
def check_inclusion(
    leaf_hash: Annotated[str, typer.Option("--leaf-hash", help="Leaf hash HASH(0x00 || data), base64.")],
    index: Annotated[int, typer.Option("--index", help="Leaf index (0-based).")],
    size: Annotated[int, typer.Option("--size", help="Tree size.")],
    root: Annotated[str, typer.Option("--root", help="Root hash of the tree of --size, base64.")],
    proof: ProofOption = "",
    hash_name: HashOption = "sha256",
    as_json: JsonOption = False,
) -> None:
    """Verify an RFC 9162 §2.1.3.2 inclusion proof (no data directory needed)."""
    facts: dict[str, Any] = {
        "what": f"inclusion of leaf {index} in tree size {size}",
        "index": index,
        "size": size,
    }

    def check() -> None:
        hasher = _hasher(hash_name)
        verify_inclusion(
            _count(index, "--index"),
            _count(size, "--size"),
            _b64(leaf_hash, "--leaf-hash"),
            _proof(proof),
            _b64(root, "--root"),
            hasher,
        )

    _run_check(as_json, facts, check)


@proof_app.command("check-consistency")
def check_consistency(
    size1: Annotated[int, typer.Option("--size1", help="Size of the earlier tree.")],
    size2: Annotated[int, typer.Option("--size2", help="Size of the later tree.")],
    root1: Annotated[str, typer.Option("--root1", help="Root of the earlier tree, base64.")],
    root2: Annotated[str, typer.Option("--root2", help="Root of the later tree, base64.")],
    proof: ProofOption = "",
    hash_name: HashOption = "sha256",
    as_json: JsonOption = False,
) -> None:
    """Verify an RFC 9162 §2.1.4.2 consistency proof (no data directory needed)."""
    facts: dict[str, Any] = {
        "what": f"tree size {size1} is a prefix of tree size {size2}",
        "size1": size1,
        "size2": size2,
    }

    def check() -> None:
        hasher = _hasher(hash_name)
        verify_consistency(
            _count(size1, "--size1"),
            _count(size2, "--size2"),
            _b64(root1, "--root1"),
            _b64(root2, "--root2"),
            _proof(proof),
            hasher,
        )

    _run_check(as_json, facts, check)


# ---------------------------------------------------------------------------- proofs from our ledger
def _ledger_failure(error: EdossierError, as_json: bool) -> NoReturn:
    """The ledger cannot give a proof that verifies (a node missing or damaged): exit 1."""
    if as_json:
        ui.emit_json({"status": "invalid", "error": {"code": error.code, "message": error.message}})
    ui.err.print(error.diagnostics(), markup=False)
    raise typer.Exit(EXIT_INVALID)


@proof_app.command("inclusion")
def inclusion(
    archive_id: Annotated[str, typer.Argument(help="Archive id (ED-…) or 案号 of an archived dossier.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the inclusion proof of a dossier's ledger leaf (in the latest checkpoint that covers it)."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        with inst.sessions() as session:
            dossier = queries.find_dossier(session, archive_id)
            if dossier is None:
                exit_not_found(archive_id, as_json)
            found_id = dossier.archive_id
            got = ledger_proofs.inclusion_proof_for_archive(session, found_id)
    except (VerificationFailed, TreeSizeOutOfRange) as error:  # nodes or leaf damaged / missing
        _ledger_failure(error, as_json)
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    proof_b64 = [_b64s(p) for p in got.proof]
    payload: dict[str, Any] = {
        "archive_id": found_id,
        "index": got.index,
        "size": got.size,
        "leaf_hash": _b64s(got.leaf_hash),
        "root": _b64s(got.root),
        "proof": proof_b64,
    }
    if as_json:
        ui.emit_json(payload)
        return
    for key, value in payload.items():
        if key != "proof":
            ui.out.print(f"{key}: {value}", markup=False)
    ui.out.print("proof:", markup=False)
    for p in proof_b64:
        ui.out.print(f"  {p}", markup=False)
    ui.out.print(
        f"check: edossier proof check-inclusion --leaf-hash {payload['leaf_hash']} --index {got.index}"
        f" --size {got.size} --root {payload['root']} --proof '{','.join(proof_b64)}'",
        markup=False,
    )


@proof_app.command("consistency")
def consistency(
    size1: Annotated[int, typer.Argument(help="Size of the earlier tree.")],
    size2: Annotated[
        int | None, typer.Argument(help="Size of the later tree (default: current size).")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the consistency proof between two sizes of our ledger, with both roots."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    store = LedgerStore()
    try:
        with inst.sessions() as session:
            second = store.head(session).size if size2 is None else size2
            proof = ledger_proofs.consistency_proof(session, size1, second)
            root1, root2 = store.root_at(session, size1), store.root_at(session, second)
    except TreeSizeOutOfRange as error:
        if as_json:
            ui.emit_json({"status": "malformed", "error": {"code": error.code, "message": error.message}})
        ui.err.print(f"[red]usage error:[/] {error.message}")
        raise typer.Exit(EXIT_USAGE) from None
    except VerificationFailed as error:
        _ledger_failure(error, as_json)
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    proof_b64 = [_b64s(p) for p in proof]
    payload: dict[str, Any] = {
        "size1": size1,
        "size2": second,
        "root1": _b64s(root1),
        "root2": _b64s(root2),
        "proof": proof_b64,
    }
    if as_json:
        ui.emit_json(payload)
        return
    for key, value in payload.items():
        if key != "proof":
            ui.out.print(f"{key}: {value}", markup=False)
    ui.out.print("proof:", markup=False)
    for p in proof_b64:
        ui.out.print(f"  {p}", markup=False)
    ui.out.print(
        f"check: edossier proof check-consistency --size1 {size1} --size2 {second}"
        f" --root1 {payload['root1']} --root2 {payload['root2']} --proof '{','.join(proof_b64)}'",
        markup=False,
    )
