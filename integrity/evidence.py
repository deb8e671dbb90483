"""Evidence bundles: one text file that proves, offline, that a dossier's manifest is in the ledger.

A bundle is a C2SP tlog-proof (https://c2sp.org/tlog-proof) — the leaf index, the RFC 9162 §2.1.3
inclusion proof and the C2SP signed checkpoint note, byte for byte as that spec writes them —
followed by an ``edossier.evidence@v1`` trailer holding the leaf, the AIP manifest and any RFC 3161
timestamp tokens. Grammar (``LF`` = U+000A; no CR or other control characters anywhere; UTF-8)::

    bundle   = proof LF trailer
    proof    = "c2sp.org/tlog-proof@v1" LF            ; tlog-proof, verbatim
               [ "extra " base64 LF ]                 ; kept, never trusted; edossier writes none
               "index " decimal LF                    ; no leading zeros, < 2**63
               *( base64-hash LF )                    ; sibling of the leaf first, 32 bytes each
               LF
               note                                   ; signed note: checkpoint body, LF, "— " lines
    trailer  = "edossier.evidence@v1" LF
               "-----BEGIN LEAF-----" LF json-line LF "-----END LEAF-----" LF
               "-----BEGIN MANIFEST-----" LF json-line LF "-----END MANIFEST-----" LF
               *( "-----BEGIN TIMESTAMP TOKEN-----" LF 1*( b64-line LF ) "-----END TIMESTAMP TOKEN-----" LF )

``json-line`` is the RFC 8785 canonical JSON, verbatim: canonical JSON escapes every control
character, so it is one line and its UTF-8 bytes are exactly the hashed bytes. Timestamp tokens are
DER ``TimeStampToken``s (RFC 3161 §2.4.2) in base64, 64 characters a line, each over the UTF-8
checkpoint body (the text the log signed). Cutting the file before the empty line that follows the
signature lines gives a tlog-proof any C2SP tooling reads.

This module builds, strictly parses and verifies bundles (given trusted verifier keys, and
optionally what was observed in a folder of files); the content checks and the verdict are in
:mod:`integrity.evidence_checks`. Reading files, the ledger and the object store is left to
:mod:`integrity.ledger.evidence` and the CLI. Failures: a text that does not follow the grammar
raises a :class:`MalformedBundle` subclass (bad input); everything else is a failed check.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrity.checkpoint import MAX_TREE_SIZE, Checkpoint, MalformedCheckpoint, parse_checkpoint
from integrity.evidence_checks import (
    Check,
    CheckNotRun,
    ObservedFile,
    OriginMismatch,
    Verdict,
    check_archive_id,
    check_files,
    check_manifest_digest,
    fail,
    leaf_record,
    manifest_record,
    ok,
)
from integrity.merkle.hashes import SHA256, Hasher
from integrity.merkle.proofs import verify_inclusion
from integrity.signed_note import SIG_PREFIX, MalformedNote, NoteVerifier, is_valid_name, open_note
from standards.errors import BadInput, EdossierError, VerificationFailed

__all__ = [
    "Check",
    "CheckNotRun",
    "EvidenceBundle",
    "MalformedBundle",
    "MalformedCheckpointNote",
    "MalformedProofPart",
    "MalformedTrailer",
    "ObservedFile",
    "OriginMismatch",
    "TimestampVerifier",
    "Verdict",
    "check_bundle",
    "format_bundle",
    "parse_bundle",
    "proof_text",
    "verify_bundle",
]

PROOF_HEADER = "c2sp.org/tlog-proof@v1"  # C2SP tlog-proof, first line
TRAILER_HEADER = "edossier.evidence@v1"
LEAF, MANIFEST, TIMESTAMP = "LEAF", "MANIFEST", "TIMESTAMP TOKEN"
B64_LINE = 64
MAX_PROOF_HASHES = 63  # a tree of fewer than 2**63 leaves has an inclusion path of at most 63 hashes


# ---------------------------------------------------------------- errors: malformed (exit 2)
class MalformedBundle(BadInput):
    """The text is not an evidence bundle in the grammar above."""

    code = "evidence_malformed"


class MalformedProofPart(MalformedBundle):
    """The tlog-proof header, ``extra``, ``index`` or proof hash lines are malformed."""

    code = "evidence_malformed_proof"


class MalformedCheckpointNote(MalformedBundle):
    """The checkpoint signed note (body or signature lines) is malformed."""

    code = "evidence_malformed_checkpoint"


class MalformedTrailer(MalformedBundle):
    """The ``edossier.evidence@v1`` trailer or one of its sections is malformed."""

    code = "evidence_malformed_trailer"


# ---------------------------------------------------------------- values
@dataclass(frozen=True)
class EvidenceBundle:
    """The parts of a bundle. ``note`` is the signed checkpoint note, verbatim."""

    index: int
    proof: tuple[bytes, ...]
    note: str
    leaf: bytes
    manifest: bytes
    timestamps: tuple[bytes, ...] = ()
    extra: bytes | None = None

    def checkpoint_body(self) -> str:
        """The signed text of the note (the checkpoint body), unverified."""
        return self.note[: self.note.rfind("\n\n") + 1]


# ---------------------------------------------------------------- format
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json_line(data: bytes, what: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{what}: not UTF-8, cannot be written verbatim") from None
    if not text or any(c < " " for c in text):
        raise ValueError(f"{what}: empty or holds a control character, so it is not canonical JSON")
    return text


def format_bundle(bundle: EvidenceBundle) -> str:
    """The bundle text (see the module docstring); it always parses back to ``bundle``.

    Raises:
        ValueError: the leaf or manifest is not one line of UTF-8 text, or the parts do not form a
            well-formed bundle (e.g. a malformed note or a proof hash of the wrong length).
    """
    lines = [PROOF_HEADER]
    if bundle.extra is not None:
        lines.append("extra " + _b64(bundle.extra))
    lines.append(f"index {bundle.index}")
    lines.extend(_b64(h) for h in bundle.proof)
    text = "\n".join(lines) + "\n\n" + bundle.note + "\n" + TRAILER_HEADER + "\n"
    text += _section(LEAF, [_json_line(bundle.leaf, "leaf")])
    text += _section(MANIFEST, [_json_line(bundle.manifest, "manifest")])
    for token in bundle.timestamps:
        b64 = _b64(token)
        text += _section(TIMESTAMP, [b64[i : i + B64_LINE] for i in range(0, len(b64), B64_LINE)])
    try:
        parsed = parse_bundle(text, hash_size=len(bundle.proof[0]) if bundle.proof else 32)
    except MalformedBundle as exc:
        raise ValueError(f"the parts do not form a bundle: {exc.message}") from None
    if parsed != bundle:
        raise ValueError("the parts do not round-trip through the bundle text")
    return text


def _section(name: str, body: Sequence[str]) -> str:
    return f"-----BEGIN {name}-----\n" + "".join(line + "\n" for line in body) + f"-----END {name}-----\n"


def proof_text(bundle: EvidenceBundle) -> str:
    """Only the C2SP tlog-proof part (for tools that know nothing of the trailer)."""
    text = format_bundle(bundle)
    return text[: text.index("\n" + TRAILER_HEADER + "\n")]


# ---------------------------------------------------------------- parse
def _decimal(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or (text.startswith("0") and text != "0"):
        raise MalformedProofPart(f"{what}: expected decimal without leading zeros, found {text[:30]!r}")
    value = int(text)
    if value > MAX_TREE_SIZE:
        raise MalformedProofPart(f"{what}: at most {MAX_TREE_SIZE}, found {text[:30]}")
    return value


def _strict_b64(text: str, what: str, error: type[MalformedBundle]) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise error(f"{what}: expected standard base64, found {text[:60]!r}") from None
    if _b64(raw) != text:
        raise error(f"{what}: non-canonical base64 {text[:60]!r}")
    return raw


class _Lines:
    """A cursor over the lines of the bundle, reporting 1-based line numbers in errors."""

    def __init__(self, lines: list[str]) -> None:
        self.lines, self.pos = lines, 0

    def at_end(self) -> bool:
        return self.pos >= len(self.lines)

    def peek(self) -> str | None:
        return None if self.at_end() else self.lines[self.pos]

    def take(self, what: str, error: type[MalformedBundle]) -> str:
        if self.at_end():
            raise error(f"line {self.pos + 1}: expected {what}, found the end of the bundle")
        self.pos += 1
        return self.lines[self.pos - 1]

    def expect(self, line: str, error: type[MalformedBundle]) -> None:
        found = self.take(repr(line), error)
        if found != line:
            raise error(f"line {self.pos}: expected {line!r}, found {found[:60]!r}")


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedBundle(f"bundle: not UTF-8 (byte offset {exc.start})") from None
    for i, c in enumerate(text):
        if c < " " and c != "\n":
            raise MalformedBundle(f"bundle: control character U+{ord(c):04X} at offset {i} (only LF allowed)")
    if not text.endswith("\n"):
        raise MalformedBundle("bundle: must end with a newline")
    return text


def _parse_note(cur: _Lines, hash_size: int) -> str:
    """The signed note: checkpoint body lines, an empty line, ``— name base64`` lines (signed-note)."""
    body: list[str] = []
    while (line := cur.take("checkpoint line", MalformedCheckpointNote)) != "":
        body.append(line)
    try:
        parse_checkpoint("".join(x + "\n" for x in body), hash_size=hash_size)
    except MalformedCheckpoint as exc:
        raise MalformedCheckpointNote(exc.message) from None
    sigs: list[str] = []
    while (sig := cur.peek()) is not None and sig != "":
        cur.pos += 1
        name, _, b64 = sig.removeprefix(SIG_PREFIX).partition(" ")
        if not sig.startswith(SIG_PREFIX) or not is_valid_name(name):
            raise MalformedCheckpointNote(
                f"line {cur.pos}: expected '— <key name> <base64>', found {sig[:60]!r}"
            )
        if len(_strict_b64(b64, f"line {cur.pos}: signature", MalformedCheckpointNote)) < 5:
            raise MalformedCheckpointNote(f"line {cur.pos}: signature shorter than a key id and one byte")
        sigs.append(sig)
    if not sigs:
        raise MalformedCheckpointNote(f"line {cur.pos + 1}: expected signature lines after the checkpoint")
    return "".join(x + "\n" for x in body) + "\n" + "".join(x + "\n" for x in sigs)


def _parse_section(cur: _Lines, name: str) -> list[str]:
    cur.expect(f"-----BEGIN {name}-----", MalformedTrailer)
    body: list[str] = []
    while (line := cur.take(f"-----END {name}-----", MalformedTrailer)) != f"-----END {name}-----":
        body.append(line)
    if not body:
        raise MalformedTrailer(f"line {cur.pos}: section {name} is empty")
    return body


def parse_bundle(data: bytes | str, *, hash_size: int = 32) -> EvidenceBundle:
    """Strictly parse a bundle (see the module docstring for the grammar).

    Raises:
        MalformedBundle: not UTF-8, a control character or CR, no final newline.
        MalformedProofPart: a bad tlog-proof header, ``extra``, ``index`` or hash line.
        MalformedCheckpointNote: the checkpoint body or signature lines are malformed.
        MalformedTrailer: the trailer header or a section is missing, misplaced or malformed.
    """
    cur = _Lines(_decode(data)[:-1].split("\n"))
    cur.expect(PROOF_HEADER, MalformedProofPart)
    extra = None
    if (line := cur.peek()) is not None and line.startswith("extra "):
        extra = _strict_b64(cur.take("extra", MalformedProofPart)[6:], "extra", MalformedProofPart)
    index_line = cur.take("'index N'", MalformedProofPart)
    if not index_line.startswith("index "):
        raise MalformedProofPart(f"line {cur.pos}: expected 'index N', found {index_line[:60]!r}")
    index = _decimal(index_line[6:], "index")
    proof: list[bytes] = []
    while (line := cur.take("proof hash or empty line", MalformedProofPart)) != "":
        raw = _strict_b64(line, f"line {cur.pos}: proof hash", MalformedProofPart)
        if len(raw) != hash_size:
            raise MalformedProofPart(
                f"line {cur.pos}: proof hash of {hash_size} bytes expected, found {len(raw)}"
            )
        proof.append(raw)
    if len(proof) > MAX_PROOF_HASHES:
        raise MalformedProofPart(f"proof: at most {MAX_PROOF_HASHES} hashes, found {len(proof)}")
    note = _parse_note(cur, hash_size)
    if cur.at_end():
        raise MalformedTrailer(f"no {TRAILER_HEADER} trailer after the checkpoint (a bare tlog-proof?)")
    cur.expect("", MalformedTrailer)
    cur.expect(TRAILER_HEADER, MalformedTrailer)
    leaf, manifest = (_parse_section(cur, name) for name in (LEAF, MANIFEST))
    if len(leaf) != 1 or len(manifest) != 1:
        raise MalformedTrailer("the LEAF and MANIFEST sections must each hold exactly one line of JSON")
    tokens: list[bytes] = []
    while not cur.at_end():
        lines = _parse_section(cur, TIMESTAMP)
        if any(not 0 < len(x) <= B64_LINE for x in lines) or any(len(x) != B64_LINE for x in lines[:-1]):
            raise MalformedTrailer(f"timestamp token {len(tokens) + 1}: base64 lines must be {B64_LINE} wide")
        tokens.append(_strict_b64("".join(lines), f"timestamp token {len(tokens) + 1}", MalformedTrailer))
    return EvidenceBundle(
        index, tuple(proof), note, leaf[0].encode(), manifest[0].encode(), tuple(tokens), extra
    )


# ---------------------------------------------------------------- verify
TimestampVerifier = Callable[[bytes, bytes], str]
"""``(token, data) -> detail``: verify an RFC 3161 token over ``data``, raise an EdossierError if not."""


def _signature(bundle: EvidenceBundle, verifiers: Iterable[NoteVerifier]) -> Check:
    try:
        opened = open_note(bundle.note, verifiers)  # C2SP signed-note
    except MalformedNote as exc:
        raise MalformedCheckpointNote(exc.message) from None
    except VerificationFailed as exc:
        return fail("signature", exc)
    return ok("signature", f"checkpoint signed by trusted key {', '.join(opened.verified)}")


def _inclusion(bundle: EvidenceBundle, cp: Checkpoint, hasher: Hasher) -> Check:
    leaf_hash = hasher.leaf_hash(bundle.leaf)  # RFC 9162 §2.1.1
    try:  # RFC 9162 §2.1.3.2
        verify_inclusion(bundle.index, cp.size, leaf_hash, bundle.proof, cp.root, hasher)
    except VerificationFailed as exc:
        return fail("inclusion", exc)
    return ok("inclusion", f"leaf {bundle.index} (hash {leaf_hash.hex()}) is in the tree of size {cp.size}")


def _parsed(
    name: str, parse: Callable[[bytes], dict[str, Any]], data: bytes
) -> tuple[Check, dict[str, Any] | None]:
    try:
        value = parse(data)
    except VerificationFailed as exc:
        return fail(name, exc), None
    if name == "leaf":
        return ok(name, f"canonical dossier.archived event of {value['archive_id']}"), value
    return ok(name, f"manifest of {value['archive_id']}, {len(value['files'])} files"), value


def check_bundle(
    bundle: EvidenceBundle,
    verifiers: Iterable[NoteVerifier],
    *,
    files: Mapping[str, ObservedFile] | None = None,
    origin: str | None = None,
    verify_timestamp: TimestampVerifier | None = None,
    hasher: Hasher = SHA256,
) -> Verdict:
    """Every check of a bundle, offline: signature, inclusion, leaf, manifest binding, files.

    Checks, in order: ``signature`` (a trusted key signed the checkpoint), ``origin`` (only when
    ``origin`` is given), ``leaf``, ``inclusion``, ``manifest``, ``manifest-digest``, ``archive-id``,
    one ``timestamp`` per token when ``verify_timestamp`` is given (otherwise a warning says the
    token is present, not verified), and with ``files`` the ``file``/``files`` checks of
    :func:`~integrity.evidence_checks.check_files`. Every check runs even after one failed.

    Raises:
        ValueError: two verifiers share a name and key id (a caller bug).
        MalformedCheckpointNote: the note is not a well-formed signed checkpoint.
    """
    checks = [_signature(bundle, verifiers)]
    warnings: list[str] = []
    try:
        cp = parse_checkpoint(bundle.checkpoint_body(), hash_size=hasher.digest_size)  # C2SP tlog-checkpoint
    except MalformedCheckpoint as exc:
        raise MalformedCheckpointNote(exc.message) from None
    if origin is not None:
        mismatch = OriginMismatch(f"checkpoint origin: expected {origin!r}, found {cp.origin!r}")
        checks.append(ok("origin", f"log {cp.origin}") if cp.origin == origin else fail("origin", mismatch))
    leaf_check, leaf = _parsed("leaf", leaf_record, bundle.leaf)
    manifest_check, manifest = _parsed("manifest", manifest_record, bundle.manifest)
    checks += [leaf_check, _inclusion(bundle, cp, hasher), manifest_check]
    checks += [check_manifest_digest(leaf, bundle.manifest), check_archive_id(leaf, manifest)]
    body = bundle.checkpoint_body().encode("utf-8")  # RFC 3161 tokens cover the signed checkpoint body
    for n, token in enumerate(bundle.timestamps, 1):
        if verify_timestamp is None:
            warnings.append(f"timestamp token {n}: present, not verified (no TSA root certificates given)")
            continue
        try:
            checks.append(ok("timestamp", f"token {n}: {verify_timestamp(token, body)}"))
        except EdossierError as exc:
            checks.append(fail("timestamp", exc))
    if files is not None and manifest is None:
        checks.append(fail("files", CheckNotRun("not run: the manifest is invalid")))
    elif files is not None and manifest is not None:
        file_checks, file_warnings = check_files(manifest, files)
        checks += file_checks
        warnings += file_warnings
    return Verdict(tuple(checks), tuple(warnings))


def verify_bundle(
    bundle: EvidenceBundle,
    verifiers: Iterable[NoteVerifier],
    *,
    files: Mapping[str, ObservedFile] | None = None,
    origin: str | None = None,
    verify_timestamp: TimestampVerifier | None = None,
    hasher: Hasher = SHA256,
) -> None:
    """As :func:`check_bundle`, raising the first failure instead of returning a verdict.

    Raises:
        EdossierError: the first failed check's own error (a ``VerificationFailed`` subclass, or a
            ``MalformedTimestamp`` for a token that does not parse).
        ValueError, MalformedCheckpointNote: see :func:`check_bundle`.
    """
    verdict = check_bundle(
        bundle, verifiers, files=files, origin=origin, verify_timestamp=verify_timestamp, hasher=hasher
    )
    for check in verdict.failures():
        if check.error is not None:
            raise check.error
        raise VerificationFailed(f"{check.name}: {check.detail}")
