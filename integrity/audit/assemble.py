"""Re-assemble an archived AIP from the store into a scratch folder, hashing while streaming.

The BC (长期保存) stage of DA/T 70 checks a package as it is *now* in long-term storage, so the
audit runner rebuilds it from what the store returns, never from the catalog's idea of it:

* :func:`manifest_files` (pure) reads the manifest's ``files`` list — every file of the accepted
  package (content, 元数据 XML, 说明文件, 目录文件) with size and digests — and refuses unsafe paths;
* :func:`object_key_for` (pure) names where each file lives: 说明文件/目录文件 beside the manifest
  (``aips/<id>/v<n>/``), everything else content-addressed by its SHA-256 (``blobs/sha256/…``);
* :func:`assemble_aip` (I/O) streams each object to ``<scratch>/<path>`` in 1 MiB chunks while
  hashing it (SHA-256 and SM3) and compares what it found with the manifest
  (:func:`integrity.audit.fixity.compare`). A mismatch is recorded and the file is kept as found —
  the BC checks must see the damaged bytes; a missing object is recorded and left out.

The :class:`~standards.package.StagedPackage` it returns carries the digests *found*, so the BC
checks (1-1, 1-14, 2-2, 3-4 …) judge the stored bytes. Creating and removing the scratch folder,
recording results and running the checks are left to :mod:`integrity.audit.runner`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from archive.ingest.manifest import inventory_digest
from archive.reconcile import aip_keys
from archive.stores.base import ObjectStore
from archive.stores.errors import InvalidKey, ObjectNotFound, StoreError, StoreUnavailable
from archive.stores.keys import blob_key
from integrity.audit.fixity import ExpectedFixity, FixityResult, compare, missing
from integrity.hashing import CHUNK, MultiHasher
from standards.court_package import CATALOG_FILE, DESCRIPTION_FILE
from standards.errors import VerificationFailed
from standards.package import StagedFile, StagedPackage

#: Algorithms a re-assembled file is hashed with (the manifest records both).
ALGORITHMS = ("sha256", "sm3")


class ManifestUnusable(VerificationFailed):
    """The AIP manifest's ``files`` list cannot be used to re-assemble the package.

    Evidence, not an outage: the manifest hashed to what the ledger names, yet lists no files,
    a malformed record or a path that would leave the scratch folder.
    """

    code = "aip_manifest_unusable"


@dataclass(frozen=True)
class ManifestFile:
    """One ``files`` record of a manifest: package-relative path, size and digests."""

    path: str
    size: int
    digests: dict[str, str]


@dataclass(frozen=True)
class Assembly:
    """A re-assembled AIP: the package (found digests), and per file what the comparison said."""

    package: StagedPackage
    checks: tuple[FixityResult, ...] = field(default=())
    paths: tuple[str, ...] = field(default=())  # package path of each check, same order

    @property
    def problems(self) -> list[tuple[str, FixityResult]]:
        """``(path, result)`` of every file that was missing or did not match the manifest."""
        return [(p, r) for p, r in zip(self.paths, self.checks, strict=True) if r.outcome != "ok"]

    def evidence(self) -> dict[str, Any]:
        """Counts and the evidence of each problem (path, key, expected and found values)."""
        return {
            "files": len(self.checks),
            "assembled": len(self.package.files),
            "package_digest": self.package.source_digest,
            "problems": [
                {"path": path, "key": r.key, "fixity": r.outcome, **r.evidence} for path, r in self.problems
            ],
        }


# ---------------------------------------------------------------- pure decisions
def _safe_path(path: object) -> str:
    if not isinstance(path, str) or not path or "\\" in path or "\x00" in path:
        raise ManifestUnusable(f"manifest files[].path: expected a relative POSIX path, found {path!r}")
    parts = PurePosixPath(path).parts
    if path.startswith("/") or any(p in ("", ".", "..") for p in path.split("/")) or not parts:
        raise ManifestUnusable(f"manifest files[].path: expected a path inside the package, found {path!r}")
    return path


def manifest_files(manifest: Mapping[str, Any]) -> list[ManifestFile]:
    """The manifest's ``files`` records, validated.

    >>> manifest_files({"files": [{"path": "a.pdf", "size": 1, "digests": {"sha256": "ab" * 32}}]})[0].path
    'a.pdf'

    Raises:
        ManifestUnusable: no ``files`` list, a record without path/size/SHA-256, an unsafe or
            repeated path.
    """
    records = manifest.get("files")
    if not isinstance(records, list) or not records:
        raise ManifestUnusable("manifest.files: expected a non-empty list, found none")
    out: list[ManifestFile] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise ManifestUnusable(
                f"manifest.files[{index}]: expected an object, found {type(record).__name__}"
            )
        path = _safe_path(record.get("path"))
        if path in seen:
            raise ManifestUnusable(
                f"manifest.files[{index}].path: expected a unique path, found {path!r} again"
            )
        seen.add(path)
        size = record.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestUnusable(f"manifest.files[{index}].size: expected a byte count, found {size!r}")
        raw = record.get("digests")
        digests = {k: str(v) for k, v in raw.items() if k in ALGORITHMS} if isinstance(raw, Mapping) else {}
        if "sha256" not in digests:
            raise ManifestUnusable(f"manifest.files[{index}].digests: expected sha256, found {raw!r}")
        out.append(ManifestFile(path, size, digests))
    return out


def object_key_for(manifest_key: str, file: ManifestFile) -> str:
    """Where a manifest file is stored: 说明文件/目录文件 beside the manifest, others by SHA-256.

    >>> f = ManifestFile("说明文件.xml", 1, {"sha256": "ab" * 32})
    >>> object_key_for("aips/ED-1/v1/manifest.json", f)
    'aips/ED-1/v1/说明文件.xml'

    Raises:
        ManifestUnusable: the SHA-256 is not 64 lowercase hex digits (no blob key can be built).
    """
    _, description_key, catalog_key = aip_keys(manifest_key)
    if file.path == DESCRIPTION_FILE:
        return description_key
    if file.path == CATALOG_FILE:
        return catalog_key
    try:
        return blob_key(file.digests["sha256"])
    except InvalidKey:
        raise ManifestUnusable(
            f"manifest files[{file.path!r}].digests.sha256: expected 64 lowercase hex, "
            f"found {file.digests['sha256']!r}"
        ) from None


# ---------------------------------------------------------------- streaming (thin I/O)
def _copy(store: ObjectStore, key: str, target: Path, chunk: int) -> tuple[dict[str, str], int]:
    """Stream ``key`` to ``target`` while hashing; returns the digests and byte count.

    Raises:
        ObjectNotFound: the store has no object under the key.
        StoreUnavailable, StoreError: the store failed (a read failing mid-stream included).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    hasher = MultiHasher(ALGORITHMS)
    try:
        with store.open(key) as stream, target.open("wb") as out:
            while data := stream.read(chunk):
                hasher.update(data)
                out.write(data)
    except (ObjectNotFound, StoreError, StoreUnavailable):
        target.unlink(missing_ok=True)
        raise
    except (OSError, TimeoutError) as exc:  # a backend read failing mid-stream (reset, timeout)
        target.unlink(missing_ok=True)
        raise StoreUnavailable(f"reading {key!r} failed: {type(exc).__name__}: {exc}") from exc
    return hasher.hexdigests(), hasher.size


def assemble_aip(
    store: ObjectStore,
    manifest_key: str,
    manifest: Mapping[str, Any],
    scratch: Path,
    *,
    archive_id: str | None = None,
    chunk: int = CHUNK,
) -> Assembly:
    """Re-assemble the AIP described by ``manifest`` into ``scratch`` (an empty folder the caller owns).

    Each file is compared with the manifest's digests and size; a mismatching file is kept as
    found, a missing one is left out, and both are listed in :attr:`Assembly.problems`.

    Raises:
        ManifestUnusable: the manifest's ``files`` list is unusable (evidence).
        StoreUnavailable, StoreError: the store could not be read (an outage; nothing is judged).
    """
    files = manifest_files(manifest)
    root = scratch.resolve()
    staged: list[StagedFile] = []
    checks: list[FixityResult] = []
    paths: list[str] = []
    for f in files:
        key = object_key_for(manifest_key, f)
        target = root.joinpath(*f.path.split("/"))
        if not target.resolve().is_relative_to(root):  # pragma: no cover - _safe_path refuses '..'
            raise ManifestUnusable(f"manifest files[].path: {f.path!r} leaves the scratch folder")
        expected = ExpectedFixity(key, dict(f.digests), f.size, archive_id, "aip-file")
        paths.append(f.path)
        try:
            found, size = _copy(store, key, target, chunk)
        except ObjectNotFound:
            checks.append(missing(expected))
            continue
        checks.append(compare(expected, found, size))
        staged.append(StagedFile(f.path, size, found))
    ordered = tuple(sorted(staged, key=lambda s: s.path.encode("utf-8")))
    package = StagedPackage(
        root=root,
        files=ordered,
        source_name=archive_id or manifest_key,
        source_kind="folder",
        source_digest=inventory_digest(ordered),
    )
    return Assembly(package, tuple(checks), tuple(paths))


def missing_paths(assembly: Assembly) -> Sequence[str]:
    """Package paths the store no longer has (left out of the re-assembled package)."""
    return [p for p, r in assembly.problems if r.outcome == "missing"]
