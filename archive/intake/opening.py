"""``open_package``: detect ZIP or folder, check the whole container, stage a hashed copy.

The one entry point of intake. Steps, each refusing with its own :class:`IntakeError`:
detect the kind (ZIP by magic bytes, not extension) → plan entries (:mod:`.zip_reader`,
:mod:`.folder_reader`) → names and collisions (:mod:`.names`) → layout (strip one wrapping top
folder) → path and declared-size limits (:mod:`.names`, :mod:`.guard`) → copy and hash on worker
threads (:mod:`.staging`). On any failure the staging folder is removed; the input is only read.
Checking the package *contents* (XML, digests against 目录文件) is left to ``standards`` and
``integrity.checks``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from archive.intake.errors import (
    EmptyPackage,
    EmptySource,
    NotAZip,
    SourceChanged,
    SourceNotFound,
    SourceUnreadable,
)
from archive.intake.folder_reader import FolderEntry, folder_reader, plan_folder
from archive.intake.guard import Declared, check_declared
from archive.intake.names import EntryName, check_collisions, check_path_limits, common_top_folder
from archive.intake.staging import Cancelled, StageJob, new_staging_folder, stage_files
from archive.intake.zip_reader import ZipEntry, is_zip_magic, plan_zip, zip_reader
from integrity.hashing import CHUNK, SUPPORTED
from standards.limits import Limits
from standards.package import StagedFile, StagedPackage


def detect_kind(source: Path) -> str:
    """``"folder"`` or ``"zip"`` (by the first bytes, whatever the extension).

    Raises:
        SourceNotFound: nothing at ``source``, or neither a file nor a folder.
        EmptySource: a zero-byte file.
        NotAZip: a file that does not start with a ZIP signature.
        SourceUnreadable: the file cannot be read.
    """
    try:
        st = os.stat(source)
    except FileNotFoundError:
        raise SourceNotFound(
            f"source {str(source)!r}: expected a ZIP file or folder, found nothing"
        ) from None
    except OSError as exc:
        raise SourceUnreadable(f"source {str(source)!r}: cannot stat: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        return "folder"
    if not stat.S_ISREG(st.st_mode):
        raise SourceNotFound(
            f"source {str(source)!r}: expected a ZIP file or folder, found another kind of file"
        )
    if st.st_size == 0:
        raise EmptySource(f"source {source.name!r}: expected a ZIP file, found 0 bytes")
    try:
        with open(source, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise SourceUnreadable(f"source {source.name!r}: cannot read: {exc.strerror}") from None
    if not is_zip_magic(head):
        raise NotAZip(f"source {source.name!r}: expected ZIP signature b'PK\\x03\\x04', found {head!r}")
    return "zip"


def _package_paths(files: Sequence[EntryName], dirs: Sequence[EntryName], limits: Limits) -> list[str]:
    """Collision-checked, layout-stripped, limit-checked package paths, in ``files`` order."""
    if not files:
        raise EmptyPackage("package: expected at least one file, found none")
    check_collisions([*files, *dirs])
    paths = [f.path for f in files]
    top = common_top_folder(paths)
    if top is not None:  # GD-1-13: a package wrapped in its 案号 folder
        paths = [p[len(top) + 1 :] for p in paths]
    for p in paths:
        check_path_limits(p, limits)
    return paths


def _zip_digest(source: Path) -> Callable[[threading.Event], str]:
    def run(stop: threading.Event) -> str:
        h = hashlib.sha256()
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        try:
            with open(source, "rb", buffering=0) as fh:
                while n := fh.readinto(buf):
                    if stop.is_set():
                        raise Cancelled
                    h.update(view[:n])
        except OSError as exc:
            raise SourceUnreadable(f"source {source.name!r}: cannot read: {exc.strerror}") from None
        return h.hexdigest()

    return run


def _inventory_digest(files: Sequence[tuple[StagedFile, str]]) -> str:
    # GD-1-14 (信息包一致性): the folder's digest is SHA-256 of sorted "path\tsize\tsha256\n" lines.
    lines = sorted(f"{f.path}\t{f.size}\t{sha}\n" for f, sha in files)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def open_package(
    source: Path,
    staging_root: Path,
    *,
    limits: Limits,
    algorithms: Sequence[str] = ("sha256", "sm3"),
    workers: int = 2,
) -> StagedPackage:
    """Open a submitted ZIP or folder safely and stage a hashed copy in a fresh folder under ``staging_root``.

    Paths in the result are package-relative, POSIX and NFC; one wrapping top folder is stripped
    when there is no 说明文件.xml at the root. ``source_digest`` is the SHA-256 of the ZIP file, or of the
    sorted inventory lines ``"path\\tsize\\tsha256\\n"`` of a folder.

    Raises:
        ValueError: ``workers`` < 1 or an unsupported or empty ``algorithms``.
        IntakeError: the container is refused; the subclass and message say which entry and why.
        StagingFailed: the staged copy could not be written.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    wanted = tuple(dict.fromkeys(algorithms))
    if not wanted or any(a not in SUPPORTED for a in wanted):
        raise ValueError(f"algorithms must be a non-empty subset of {SUPPORTED}, got {tuple(algorithms)}")
    hashing = tuple(dict.fromkeys((*wanted, "sha256")))
    source = Path(source)
    kind = detect_kind(source)
    zip_jobs: list[StageJob[ZipEntry]] = []
    folder_jobs: list[StageJob[FolderEntry]] = []
    if kind == "zip":
        zip_entries, dirs = plan_zip(source)
        paths = _package_paths([e.name for e in zip_entries], dirs, limits)
        zip_jobs = [
            StageJob(p, Declared(e.name.raw, e.file_size, e.compress_size), e)
            for p, e in zip(paths, zip_entries, strict=True)
        ]
        check_declared([j.declared for j in zip_jobs], limits)
    else:
        folder_entries, dirs = plan_folder(source, limits)
        paths = _package_paths([e.name for e in folder_entries], dirs, limits)
        folder_jobs = [
            StageJob(p, Declared(e.name.raw, e.size), e) for p, e in zip(paths, folder_entries, strict=True)
        ]
        check_declared([j.declared for j in folder_jobs], limits)

    root = new_staging_folder(staging_root)
    try:
        if kind == "zip":
            staged, digest = stage_files(
                root,
                zip_jobs,
                lambda: zip_reader(source),
                limits=limits,
                algorithms=hashing,
                workers=workers,
                beside=_zip_digest(source),
            )
        else:
            staged, digest = stage_files(
                root,
                folder_jobs,
                lambda: folder_reader(source),
                limits=limits,
                algorithms=hashing,
                workers=workers,
                mismatch=SourceChanged,
            )
            digest = _inventory_digest(staged)
        files = tuple(
            sorted(
                (StagedFile(f.path, f.size, {a: f.digests[a] for a in wanted}) for f, _ in staged),
                key=lambda f: f.path,
            )
        )
        if digest is None:  # pragma: no cover - stage_files returns the side result it was given
            raise RuntimeError("ZIP digest missing")
        return StagedPackage(
            root=root, files=files, source_name=source.name, source_kind=kind, source_digest=digest
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
