"""Fuzz ZIP intake: bytes → a ZIP file → ``archive.intake.open_package`` into a scratch staging root.

Only the BadInput family may escape. After every input the ZIP is unchanged; a refusal leaves the
staging root empty; an accepted package has exactly its listed files, regular, inside its staging
folder, with the recorded sizes and SHA-256; nothing is written anywhere else in the scratch folder.

Run: ``.venv/bin/python -m tests.fuzz.fuzz_zip_intake -max_total_time=120 tests/fuzz/corpus/zip_intake``
(or ``make fuzz FUZZ_TARGETS=zip_intake``).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from tests.fuzz.harness import Finding, check_scratch_is_empty, fuzz, instrumented, scratch_parent, tree

with instrumented(__name__ == "__main__", also=("zipfile",)):
    from archive.intake import open_package
    from standards.errors import BadInput
    from standards.limits import Limits
    from standards.package import StagedPackage

MIB = 1024 * 1024
#: Tight limits: the fuzzer should reach the limit checks, not fill the disk.
LIMITS = Limits(
    package_bytes=8 * MIB,
    file_count=64,
    file_bytes=4 * MIB,
    xml_bytes=1 * MIB,
    compression_ratio=100,
    ratio_floor_bytes=64 * 1024,
)


def _check_staged(staged: StagedPackage, staging_root: Path) -> None:
    root = staged.root
    if root.parent != staging_root or root.is_symlink() or not root.is_dir():
        raise Finding(f"staging folder {root} is not a folder directly inside {staging_root}")
    found = tree(root)
    files = {p for p, kind in found.items() if kind == "file"}
    if any(kind in ("link", "other") for kind in found.values()):
        raise Finding(f"staged a link or special file: {found}")
    listed = {f.path for f in staged.files}
    if files != listed:
        raise Finding(f"staged files {sorted(files)[:5]} differ from the inventory {sorted(listed)[:5]}")
    for f in staged.files:
        data = staged.local_path(f.path).read_bytes()
        if len(data) != f.size or hashlib.sha256(data).hexdigest() != f.digests["sha256"]:
            raise Finding(f"{f.path}: recorded size/SHA-256 differ from the staged bytes")
        if f.size > LIMITS.file_bytes:
            raise Finding(f"{f.path}: {f.size} bytes staged, limit {LIMITS.file_bytes}")
    if staged.total_bytes > LIMITS.package_bytes or len(staged.files) > LIMITS.file_count:
        raise Finding(f"package limits passed: {len(staged.files)} files, {staged.total_bytes} bytes")


def TestOneInput(data: bytes) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="zip-", dir=scratch_parent()))
    try:
        source = scratch / "in.zip"
        source.write_bytes(data)
        staging_root = scratch / "staging"
        try:
            staged: StagedPackage | None = open_package(source, staging_root, limits=LIMITS, workers=1)
        except BadInput:
            staged = None
        if source.read_bytes() != data:
            raise Finding("the submitted ZIP was modified")
        outside = {
            p
            for p in tree(scratch)
            if p not in ("in.zip", "staging")
            and (staged is None or not (scratch / p).is_relative_to(staged.root))
        }
        if outside:
            raise Finding(f"written outside the staging folder: {sorted(outside)[:5]}")
        if staged is not None:
            _check_staged(staged, staging_root)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    check_scratch_is_empty()


if __name__ == "__main__":
    fuzz(TestOneInput)
