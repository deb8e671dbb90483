"""File helpers of the transfer package writer: exclusive writes, hashing a folder we wrote ourselves.

Only for folders edossier creates (the export's temporary folder). Untrusted folders — a package to
import — go through :func:`archive.intake.open_package`, which refuses links and special files,
enforces the limits and stages a hashed copy.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from integrity.hashing import SUPPORTED, digest_stream
from standards.package import StagedFile


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (and its folders) with ``data``; never replaces a file (``x`` mode), fsyncs it.

    Raises:
        FileExistsError: ``path`` exists.
        OSError: the file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def hash_tree(root: Path) -> dict[str, StagedFile]:
    """Every regular file under ``root`` (POSIX relative path → size, SHA-256, SM3), links not followed.

    Raises:
        ValueError: the folder holds a link or a special file (it is not one we wrote).
        OSError: a file cannot be read.
    """
    out: dict[str, StagedFile] = {}
    for folder, dirs, names in os.walk(root, followlinks=False):
        for name in sorted((*dirs, *names)):
            mode = os.lstat(Path(folder) / name).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise ValueError(f"{Path(folder) / name}: expected a file or folder, found another kind")
        for name in names:
            local = Path(folder) / name
            rel = local.relative_to(root).as_posix()
            with local.open("rb") as fh:
                digests, size = digest_stream(fh, SUPPORTED)
            out[rel] = StagedFile(rel, size, digests)
    return out


def fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` so that renaming ``root`` publishes durable content."""
    for folder, _, names in os.walk(root, followlinks=False):
        for path in (*(Path(folder) / n for n in names), Path(folder)):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
