"""The checks of an evidence bundle's contents: leaf, manifest, files; and the verdict they make.

Pure: every function takes bytes, parsed JSON or what the caller observed in a folder
(:class:`ObservedFile`: size and digests by path) and never reads a file itself. The bundle format
and the order in which the checks run are :mod:`integrity.evidence`'s; this module holds the
pieces, one failure class per reason (all :class:`~standards.errors.VerificationFailed`).

A leaf is the RFC 8785 canonical JSON of a ``dossier.archived`` event (:mod:`integrity.events`); a
manifest is an AIP manifest (:mod:`archive.ingest.manifest`) whose ``files`` list records
``{path, size, digests{sha256, sm3}}`` for every file of the package.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrity.canonical import canonical_json
from integrity.hashing import digests_equal
from standards.errors import EdossierError, VerificationFailed


class LeafInvalid(VerificationFailed):
    """The leaf is not a canonical-JSON ``dossier.archived`` event naming an archive and manifest."""

    code = "evidence_leaf_invalid"


class ManifestInvalid(VerificationFailed):
    """The manifest is not a JSON object with an ``archive_id`` and a well-formed ``files`` list."""

    code = "evidence_manifest_invalid"


class ManifestDigestMismatch(VerificationFailed):
    """The SHA-256 of the manifest bytes is not the ``manifest_sha256`` the leaf names."""

    code = "evidence_manifest_digest_mismatch"


class ArchiveIdMismatch(VerificationFailed):
    """The leaf and the manifest name different archive ids."""

    code = "evidence_archive_id_mismatch"


class OriginMismatch(VerificationFailed):
    """The checkpoint comes from another log than the one expected."""

    code = "evidence_origin_mismatch"


class FileMissing(VerificationFailed):
    """A file the manifest lists is not in the folder."""

    code = "evidence_file_missing"


class FileSizeMismatch(VerificationFailed):
    """A file in the folder has another size than the manifest records."""

    code = "evidence_file_size_mismatch"


class FileDigestMismatch(VerificationFailed):
    """A file in the folder has another digest than the manifest records."""

    code = "evidence_file_digest_mismatch"


class FilesDiffer(VerificationFailed):
    """Some files in the folder are missing or differ from the manifest (the summary of ``file`` checks)."""

    code = "evidence_files_differ"


class CheckNotRun(VerificationFailed):
    """A check could not run because a check it depends on failed."""

    code = "evidence_not_run"


@dataclass(frozen=True)
class ObservedFile:
    """What was found at a manifest path in a folder: its size and hex digests by algorithm."""

    size: int
    digests: Mapping[str, str]


@dataclass(frozen=True)
class Check:
    """One named check of a verdict; ``code`` is the failure's error code, ``path`` a file path."""

    name: str
    passed: bool
    detail: str
    code: str | None = None
    path: str | None = None
    error: EdossierError | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Verdict:
    """The checks made on a bundle; valid only if there is at least one and all passed."""

    checks: tuple[Check, ...]
    warnings: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_json(self) -> dict[str, Any]:
        checks = [
            {"name": c.name, "passed": c.passed, "detail": c.detail, "code": c.code, "path": c.path}
            for c in self.checks
        ]
        return {"valid": self.valid, "checks": checks, "warnings": list(self.warnings)}


def ok(name: str, detail: str, path: str | None = None) -> Check:
    """A passed check."""
    return Check(name, True, detail, path=path)


def fail(name: str, error: EdossierError, path: str | None = None) -> Check:
    """A failed check carrying ``error`` (its message is the detail, its code the check's code)."""
    return Check(name, False, error.message, code=error.code, path=path, error=error)


def _json_object(data: bytes, error: type[VerificationFailed], what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise error(f"{what}: not JSON") from None
    if not isinstance(value, dict):
        raise error(f"{what}: expected a JSON object, found {type(value).__name__}")
    return value


def leaf_record(data: bytes) -> dict[str, Any]:
    """The leaf as a JSON object, if it is a canonical ``dossier.archived`` event (RFC 8785).

    Raises:
        LeafInvalid: not JSON, not canonical, another event type, or no archive id / manifest digest.
    """
    leaf = _json_object(data, LeafInvalid, "leaf")
    try:
        canonical = canonical_json(leaf)
    except (TypeError, ValueError) as exc:
        raise LeafInvalid(f"leaf: not canonical JSON ({exc})") from None
    if canonical != data:
        raise LeafInvalid("leaf: JSON is not in RFC 8785 canonical form")
    if leaf.get("type") != "dossier.archived":
        raise LeafInvalid(f"leaf type: expected 'dossier.archived', found {str(leaf.get('type'))[:40]!r}")
    for key in ("archive_id", "manifest_sha256"):
        if not isinstance(leaf.get(key), str) or not leaf[key]:
            raise LeafInvalid(f"leaf {key}: expected a non-empty string")
    return leaf


def manifest_record(data: bytes) -> dict[str, Any]:
    """The manifest as a JSON object, if it names an archive and lists files with size and digests.

    Raises:
        ManifestInvalid: not a JSON object, no ``archive_id``, or a malformed ``files`` list.
    """
    manifest = _json_object(data, ManifestInvalid, "manifest")
    if not isinstance(manifest.get("archive_id"), str):
        raise ManifestInvalid("manifest archive_id: expected a string")
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise ManifestInvalid("manifest files: expected a non-empty list")
    for i, rec in enumerate(files):
        shaped = (
            isinstance(rec, dict) and isinstance(rec.get("path"), str) and isinstance(rec.get("size"), int)
        )
        digests = rec.get("digests") if isinstance(rec, dict) else None
        if (
            not shaped
            or not isinstance(digests, dict)
            or "sha256" not in digests
            or not all(isinstance(v, str) for v in digests.values())
        ):
            raise ManifestInvalid(f"manifest files[{i}]: expected {{path, size, digests{{sha256, ...}}}}")
    return manifest


def check_files(
    manifest: Mapping[str, Any], observed: Mapping[str, ObservedFile]
) -> tuple[list[Check], list[str]]:
    """Compare the manifest's ``files`` with what was observed in a folder (path → size, digests).

    Returns one failed ``file`` check per missing or changed file, then a ``files`` summary, and a
    warning per observed file the manifest does not list. Digests compared are every algorithm the
    record lists (both SHA-256 and SM3 for edossier manifests).
    """
    checks: list[Check] = []
    listed = {rec["path"] for rec in manifest["files"]}
    for rec in manifest["files"]:
        path, seen = rec["path"], observed.get(rec["path"])
        error: VerificationFailed | None = None
        if seen is None:
            error = FileMissing(f"{path}: listed in the manifest, not found in the folder")
        elif seen.size != rec["size"]:
            error = FileSizeMismatch(f"{path}: size expected {rec['size']}, found {seen.size}")
        else:
            for alg, want in sorted(rec["digests"].items()):
                got = seen.digests.get(alg)
                if got is None or not digests_equal(str(want), got):
                    error = FileDigestMismatch(
                        f"{path}: {alg} expected {want}, found {got or 'not computed'}"
                    )
                    break
        if error is not None:
            checks.append(fail("file", error, path))
    bad = len(checks)
    summary = f"{len(listed) - bad} of {len(listed)} files match the manifest (size and every digest)"
    checks.append(ok("files", summary) if bad == 0 else fail("files", FilesDiffer(summary)))
    warnings = [f"{p}: in the folder but not listed in the manifest" for p in sorted(set(observed) - listed)]
    return checks, warnings


def check_manifest_digest(leaf: Mapping[str, Any] | None, manifest: bytes) -> Check:
    """``manifest-digest``: the leaf's ``manifest_sha256`` is the SHA-256 of the manifest bytes."""
    if leaf is None:
        return fail("manifest-digest", CheckNotRun("not run: the leaf is invalid"))
    digest = hashlib.sha256(manifest).hexdigest()
    if digests_equal(str(leaf["manifest_sha256"]), digest):
        return ok("manifest-digest", f"the leaf names the manifest's sha256 {digest}")
    named = str(leaf["manifest_sha256"])[:64]
    return fail(
        "manifest-digest", ManifestDigestMismatch(f"manifest sha256: leaf names {named}, found {digest}")
    )


def check_archive_id(leaf: Mapping[str, Any] | None, manifest: Mapping[str, Any] | None) -> Check:
    """``archive-id``: the leaf and the manifest name the same archive."""
    if leaf is None or manifest is None:
        return fail("archive-id", CheckNotRun("not run: the leaf or the manifest is invalid"))
    if leaf["archive_id"] == manifest["archive_id"]:
        return ok("archive-id", f"leaf and manifest name {leaf['archive_id']}")
    found = f"leaf names {str(leaf['archive_id'])[:80]!r}, manifest {str(manifest['archive_id'])[:80]!r}"
    return fail("archive-id", ArchiveIdMismatch(f"archive id: {found}"))
