"""Read a submitted folder without trusting it: walk with ``lstat``, copy without following links.

:func:`plan_folder` walks the tree without following anything and refuses symlinks (anywhere,
including the folder itself), devices, FIFOs and sockets. :func:`folder_reader` opens each file
component by component beneath the source folder with ``O_NOFOLLOW`` so a file swapped for a link
after the walk is refused, not followed. The folder is only read, never changed (bagit-python's old
mistake). Name rules live in :mod:`.names`, limits in :mod:`.guard`, threads in :mod:`.staging`.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive.intake.errors import (
    PathTooDeep,
    SourceChanged,
    SourceNotFound,
    SourceUnreadable,
    SpecialFileEntry,
    SymlinkEntry,
    TooManyFiles,
)
from archive.intake.names import EntryName, parse_entry_name
from archive.intake.staging import CopyFn, Sink
from integrity.hashing import CHUNK
from standards.limits import Limits

_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in must not block the open


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """One regular file found by the walk: its raw OS name parts, checked name and ``lstat`` size."""

    parts: tuple[str, ...]
    name: EntryName
    size: int


def plan_folder(root: Path, limits: Limits) -> tuple[list[FolderEntry], list[EntryName]]:
    """Walk ``root`` without following links; return its regular files and its directories.

    Stops early once more than ``limits.file_count`` files or ``limits.path_depth`` + 1 levels are seen
    (one extra level for a wrapping top folder that the layout detection may strip).

    Raises:
        SourceNotFound: ``root`` does not exist.
        SymlinkEntry: ``root`` or anything in it is a symbolic link.
        SpecialFileEntry: a device, FIFO or socket.
        TooManyFiles: more than ``limits.file_count`` files.
        PathTooDeep: folders nested deeper than the limit allows.
        SourceUnreadable: a folder cannot be listed.
        IntakeError: a hostile name (:func:`archive.intake.names.parse_entry_name`).
    """
    try:
        if stat.S_ISLNK(os.lstat(root).st_mode):
            raise SymlinkEntry(f"folder {str(root)!r}: expected a real folder, found a symbolic link")
    except FileNotFoundError:
        raise SourceNotFound(f"source {str(root)!r}: expected a ZIP file or folder, found nothing") from None
    files: list[FolderEntry] = []
    dirs: list[EntryName] = []
    stack: list[tuple[tuple[str, ...], str]] = [((), os.fspath(root))]
    while stack:
        parts, where = stack.pop()
        try:
            with os.scandir(where) as listing:
                children = list(listing)
        except OSError as exc:
            raise SourceUnreadable(
                f"folder {'/'.join(parts) or '.'!r}: cannot list: {exc.strerror}"
            ) from None
        for child in children:
            child_parts = (*parts, child.name)
            rel = "/".join(child_parts)
            try:
                mode = child.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                raise SourceUnreadable(f"entry {rel!r}: cannot stat: {exc.strerror}", path=rel) from None
            if stat.S_ISLNK(mode):
                raise SymlinkEntry(
                    f"entry {rel!r}: expected a regular file or folder, found a symbolic link", path=rel
                )
            if stat.S_ISDIR(mode):
                dirs.append(parse_entry_name(rel, is_dir=True))
                if len(child_parts) > limits.path_depth + 1:
                    raise PathTooDeep(
                        f"folder {rel!r}: expected at most {limits.path_depth} folder levels, found "
                        f"{len(child_parts) - 1} or more",
                        path=rel,
                    )
                stack.append((child_parts, child.path))
            elif stat.S_ISREG(mode):
                files.append(
                    FolderEntry(child_parts, parse_entry_name(rel), child.stat(follow_symlinks=False).st_size)
                )
                if len(files) > limits.file_count:
                    raise TooManyFiles(f"package: expected at most {limits.file_count} files, found more")
            else:
                kind = _KINDS.get(stat.S_IFMT(mode), f"file type {oct(stat.S_IFMT(mode))}")
                raise SpecialFileEntry(
                    f"entry {rel!r}: expected a regular file or folder, found {kind}", path=rel
                )
    return files, dirs


def _open_beneath(root: Path, entry: FolderEntry) -> int:
    """Open ``entry`` under ``root`` one component at a time, never following a link."""
    rel = entry.name.raw
    fd = -1
    try:
        fd = os.open(root, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
        for part in entry.parts[:-1]:
            next_fd = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        file_fd = os.open(entry.parts[-1], os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT, errno.ENXIO):
            raise SourceChanged(f"entry {rel!r}: changed while reading ({exc.strerror})", path=rel) from None
        raise SourceUnreadable(f"entry {rel!r}: cannot open: {exc.strerror}", path=rel) from None
    finally:
        if fd >= 0:
            os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise SourceChanged(
            f"entry {rel!r}: expected a regular file, found another kind while reading", path=rel
        )
    return file_fd


def copy_folder_file(root: Path, entry: FolderEntry, sink: Sink) -> None:
    """Stream one file of the folder into ``sink`` in 1 MiB chunks.

    Raises:
        SourceChanged: the file was replaced, or grew or shrank (via the sink's guard).
        SourceUnreadable: an I/O error.
        IntakeError: a limit crossed while streaming.
    """
    with open(_open_beneath(root, entry), "rb", buffering=0) as fh:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while True:
            try:
                n = fh.readinto(buf)
            except OSError as exc:
                raise SourceUnreadable(
                    f"entry {entry.name.raw!r}: cannot read: {exc.strerror}", path=entry.name.raw
                ) from None
            if not n:
                return
            sink.write(view[:n])


@contextmanager
def folder_reader(root: Path) -> Iterator[CopyFn[FolderEntry]]:
    """Per-thread reader for :func:`archive.intake.staging.stage_files`."""
    yield lambda entry, sink: copy_folder_file(root, entry, sink)
