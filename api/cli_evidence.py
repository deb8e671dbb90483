"""``edossier evidence``, ``edossier verify`` and ``edossier ledger public-key``: bundles for auditors.

``evidence ID -o FILE`` writes a dossier's evidence bundle (:mod:`integrity.evidence`; it may sign a
checkpoint first). ``verify FILE --key PUBKEY_FILE [--files DIR]`` needs no data directory, database
or network: it checks the bundle against the verifier key(s) in ``PUBKEY_FILE`` (one signed-note key
string a line, ``#`` comments allowed) and, with ``--files``, re-hashes the files under ``DIR``
against the manifest. Exit codes of ``verify``: 0 valid, 1 invalid, 2 malformed bundle or key file.
``ledger public-key`` prints the verifier key to give auditors.

This module only reads and writes files and renders; every decision is :mod:`integrity.evidence`'s.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
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
    fail_usage,
    open_or_exit,
    settings_for,
)
from integrity.evidence import (
    EvidenceBundle,
    ObservedFile,
    TimestampVerifier,
    Verdict,
    check_bundle,
    format_bundle,
    parse_bundle,
)
from integrity.evidence_checks import ManifestInvalid, manifest_record
from integrity.hashing import SUPPORTED, digest_stream
from integrity.keys import key_paths
from integrity.ledger.evidence import gather_evidence
from integrity.ledger.proofs import ArchiveNotInLedger
from integrity.ledger.rotation import load_known_verifiers
from integrity.ledger.store import LedgerStore
from integrity.signed_note import NoteVerifier
from integrity.sm2 import parse_verifier_key
from integrity.timestamp import parse_roots_pem, verify_token
from standards.errors import BadInput, EdossierError, StorageError, VerificationFailed


# ---------------------------------------------------------------------------- evidence
def _write_new(path: Path, text: str, force: bool) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder (never half a bundle)."""
    if path.exists() and not force:
        fail_usage(f"{path} exists; pass --force to replace it")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def evidence(
    archive_id: Annotated[str, typer.Argument(help="Archive id (ED-…) or 案号 of an archived dossier.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Bundle file to write (.tlog-proof).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a dossier's evidence bundle: tlog-proof, checkpoint, leaf, manifest, timestamps."""
    if not output.parent.is_dir():
        fail_usage(f"folder {output.parent} does not exist")
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    ledger = LedgerStore()
    try:
        with inst.write_sessions.begin() as session:  # commits a checkpoint signed on the way
            before = ledger.latest_checkpoint(session)
            bundle = gather_evidence(
                session,
                inst.store,
                archive_id,
                signers=inst.signers,
                origin=settings.ledger_origin,
                now=dt.datetime.now(dt.UTC),
            )
            after = ledger.latest_checkpoint(session)
        if after is not None and (before is None or after.id != before.id):
            inst.publisher.after_commit(after)  # a new checkpoint: timestamp and witnesses
    except ArchiveNotInLedger:
        exit_not_found(archive_id, as_json)
    except StorageError as error:
        exit_unavailable(error, as_json)
    except VerificationFailed as error:  # our own store or ledger does not match what was recorded
        if as_json:
            ui.emit_json({"status": "invalid", "error": {"code": error.code, "message": error.message}})
        ui.err.print(error.diagnostics(), markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    finally:
        inst.close()
    _write_new(output, format_bundle(bundle), force)
    size = bundle.note.split("\n", 2)[1]
    facts = {
        "file": str(output),
        "index": bundle.index,
        "tree_size": int(size),
        "timestamps": len(bundle.timestamps),
    }
    if as_json:
        ui.emit_json({"status": "written", **facts})
    else:
        ui.out.print(f"证据包已写出 evidence bundle written: {output}", markup=False)
        ui.out.print(
            f"  leaf {bundle.index} in tree of size {size}, {len(bundle.timestamps)} timestamp token(s)"
        )
        ui.out.print(f"  verify offline: edossier verify {output} --key <public key file>", markup=False)


# ---------------------------------------------------------------------------- verify
def _malformed(error: EdossierError | OSError, as_json: bool, source: str) -> NoReturn:
    code = error.code if isinstance(error, EdossierError) else "unreadable"
    message = error.message if isinstance(error, EdossierError) else f"{source}: {error.strerror}"
    if as_json:
        ui.emit_json({"status": "malformed", "valid": False, "error": {"code": code, "message": message}})
    ui.err.print(f"[red]malformed {source}:[/] {message}")
    raise typer.Exit(EXIT_USAGE)


def read_verifiers(path: Path) -> list[NoteVerifier]:
    """The verifier keys in ``path``: one key string a line; blank lines and ``#`` comments ignored.

    Raises:
        OSError: the file cannot be read.
        MalformedKey, UnsupportedKeyAlgorithm, KeyIdMismatch: a line is not a verifier key.
        BadInput: the file is not UTF-8 or holds no key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"key file {path}: not UTF-8 text", path=str(path)) from None
    lines = [x.strip() for x in text.split("\n")]
    keys = [parse_verifier_key(x) for x in lines if x and not x.startswith("#")]
    if not keys:
        raise BadInput(f"key file {path}: no verifier key in it", path=str(path))
    return keys


def observe_folder(folder: Path, wanted: set[str]) -> tuple[dict[str, ObservedFile], list[str]]:
    """Size and SHA-256/SM3 of every regular file under ``folder`` whose relative path is ``wanted``.

    Other files are listed with their size only; symbolic links are not followed (a warning each).
    """
    seen: dict[str, ObservedFile] = {}
    warnings: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names) + [d for d in dirs if Path(root, d).is_symlink()]:
            path = Path(root, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink() or not path.is_file():
                warnings.append(f"{rel}: not a regular file (symbolic links are not followed)")
                continue
            if rel not in wanted:
                seen[rel] = ObservedFile(path.stat().st_size, {})
                continue
            with path.open("rb") as fh:
                digests, size = digest_stream(fh, SUPPORTED)
            seen[rel] = ObservedFile(size, digests)
    return seen, warnings


def _timestamp_verifier(roots_file: Path | None) -> TimestampVerifier | None:
    if roots_file is None:
        return None
    roots = parse_roots_pem(roots_file.read_bytes())

    def check(token: bytes, data: bytes) -> str:
        info = verify_token(token, data, roots)  # RFC 3161 over the checkpoint body
        return f"genTime {info.gen_time.isoformat()} by {info.tsa_name} (serial {info.serial})"

    return check


def _render(verdict: Verdict, bundle: EvidenceBundle, source: Path) -> None:
    ui.out.print(f"证据包核验 evidence bundle: {source}", markup=False)
    for c in verdict.checks:
        mark = "[green]✔[/]" if c.passed else "[red]✘[/]"
        reason = f"  [{c.code}]" if c.code else ""
        ui.out.print(f"  {mark} ", end="")
        ui.out.print(f"{c.name:<16}{c.detail}{reason}", markup=False)
    for w in verdict.warnings:
        ui.out.print("  [yellow]![/] ", end="")
        ui.out.print(f"{'warning':<16}{w}", markup=False)
    if verdict.valid:
        ui.out.print(f"[bold green]有效 VALID[/]: leaf {bundle.index} verified against the signed checkpoint")
    else:
        names = ", ".join(sorted({c.name for c in verdict.failures()}))
        ui.out.print(f"[bold red]无效 INVALID[/]: failed {names}")


def verify(
    bundle_file: Annotated[Path, typer.Argument(help="Evidence bundle (.tlog-proof).")],
    key: Annotated[Path, typer.Option("--key", help="File with the log's verifier key string(s).")],
    files: Annotated[
        Path | None,
        typer.Option("--files", help="Folder of the dossier's files to re-hash.", file_okay=False),
    ] = None,
    tsa_roots: Annotated[
        Path | None, typer.Option("--tsa-roots", help="PEM file of TSA root certificates (verifies tokens).")
    ] = None,
    origin: Annotated[str | None, typer.Option("--origin", help="Expected log origin line.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify an evidence bundle offline (signature, inclusion, manifest binding, files)."""
    try:
        bundle = parse_bundle(bundle_file.read_bytes())
    except (BadInput, OSError) as error:
        _malformed(error, as_json, "bundle")
    try:
        verifiers = read_verifiers(key)
    except (BadInput, OSError) as error:
        _malformed(error, as_json, "key file")
    try:
        verify_timestamp = _timestamp_verifier(tsa_roots)
    except (BadInput, OSError) as error:
        _malformed(error, as_json, "TSA roots file")
    observed: dict[str, ObservedFile] | None = None
    folder_warnings: list[str] = []
    if files is not None:
        if not files.is_dir():
            _malformed(BadInput(f"--files: {files} is not a folder"), as_json, "files folder")
        try:
            wanted = {rec["path"] for rec in manifest_record(bundle.manifest)["files"]}
        except ManifestInvalid:
            wanted = set()  # the manifest check fails and says why
        observed, folder_warnings = observe_folder(files, wanted)
    try:
        verdict = check_bundle(
            bundle, verifiers, files=observed, origin=origin, verify_timestamp=verify_timestamp
        )
    except BadInput as error:
        _malformed(error, as_json, "bundle")
    verdict = Verdict(verdict.checks, verdict.warnings + tuple(folder_warnings))
    if as_json:
        payload: dict[str, Any] = {
            "status": "valid" if verdict.valid else "invalid",
            "file": str(bundle_file),
        }
        ui.emit_json({**payload, "index": bundle.index, **verdict.to_json()})
    else:
        _render(verdict, bundle, bundle_file)
    raise typer.Exit(EXIT_OK if verdict.valid else EXIT_INVALID)


# ---------------------------------------------------------------------------- ledger public-key
def public_key(
    all_keys: Annotated[
        bool, typer.Option("--all", help="Every known verifier key: live, SM2 co-signer and retired.")
    ] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the ledger's verifier key (give it to auditors for `edossier verify --key`)."""
    settings = settings_for(data_dir)
    pub = key_paths(settings.keys_dir, settings.signing_key_name)[1]
    if not pub.exists():
        fail_usage(f"no verifier key {pub}; run `edossier init` first")
    try:
        live = parse_verifier_key(pub.read_text(encoding="utf-8").strip()).to_key_string()
        known = [v.to_key_string() for v in load_known_verifiers(settings.keys_dir)] if all_keys else []
    except OSError as error:
        exit_unavailable(StorageError(f"key file {pub} cannot be read: {error.strerror}"), as_json)
    except StorageError as error:
        exit_unavailable(error, as_json)
    except BadInput as error:
        ui.err.print(error.diagnostics(), markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    keys = [live, *(k for k in known if k != live)]
    if as_json:
        ui.emit_json({"key": live, "keys": keys})
        return
    for k in keys:
        ui.out.print(k, markup=False, soft_wrap=True)
