"""Fuzz the BagIt reader: bytes → a bag folder (tag files + payload) → ``standards.bagit.validate_bag``.

Input format (:func:`encode` writes it, :func:`decode` reads it): byte 0 holds options — bits 0-2 pick
the manifest algorithm from :data:`ALGORITHMS`, bit 3 adds a tag manifest, bit 4 adds fetch.txt —
and the rest is split on NUL into bagit.txt, bag-info.txt, the payload manifest, the tag manifest,
fetch.txt, then one part per payload file, ``name\\x01content`` (a name intake would refuse becomes
``data/<n>.bin``). The folder is staged like intake does (SHA-256 + SM3 per file) and validated with
the real digest reader. Oracle: ``validate_bag`` never raises; a bag it calls valid has payload and
a verified manifest.

Run: ``.venv/bin/python -m tests.fuzz.fuzz_bagit_reader -max_total_time=120 tests/fuzz/corpus/bagit_reader``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.fuzz.harness import Finding, check_scratch_is_empty, fuzz, instrumented, scratch_parent

with instrumented(__name__ == "__main__"):
    from archive.bag_digests import digest_reader
    from archive.intake.names import parse_entry_name
    from integrity.hashing import digest_bytes
    from standards.bagit import validate_bag
    from standards.errors import BadInput
    from standards.limits import Limits
    from standards.package import StagedFile, StagedPackage

ALGORITHMS = ("sha256", "md5", "sha1", "sha512", "sm3", "blake2b", "SHA256", "sha-256")
LIMITS = Limits(file_count=64, xml_bytes=256 * 1024)
MAX_PAYLOAD_FILES = 16


def encode(
    *,
    algorithm: int = 0,
    bagit: bytes,
    info: bytes,
    manifest: bytes,
    tagmanifest: bytes | None = None,
    fetch: bytes | None = None,
    payload: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """The fuzz input for a bag (the inverse of :func:`decode`)."""
    options = algorithm | (8 if tagmanifest is not None else 0) | (16 if fetch is not None else 0)
    parts = [bagit, info, manifest, tagmanifest or b"", fetch or b""]
    parts += [name.encode("utf-8") + b"\x01" + content for name, content in payload]
    return bytes([options]) + b"\x00".join(parts)


def decode(data: bytes) -> dict[str, bytes]:
    """The bag's files (package path → bytes) described by ``data``."""
    if not data:
        return {}
    options, parts = data[0], data[1:].split(b"\x00")
    parts += [b""] * (5 - len(parts))
    algorithm = ALGORITHMS[options & 7]
    files = {"bagit.txt": parts[0], "bag-info.txt": parts[1], f"manifest-{algorithm}.txt": parts[2]}
    if options & 8:
        files[f"tagmanifest-{algorithm}.txt"] = parts[3]
    if options & 16:
        files["fetch.txt"] = parts[4]
    for n, part in enumerate(parts[5 : 5 + MAX_PAYLOAD_FILES]):
        raw, sep, content = part.partition(b"\x01")
        path = _payload_path(raw.decode("utf-8", "replace")) if sep else None
        if path is None or path in files or any(p.startswith(path + "/") for p in files):
            path = f"data/{n}.bin"
            content = part
        if any(path.startswith(p + "/") for p in files) or path in files:
            continue
        files[path] = content
    return files


def _payload_path(name: str) -> str | None:
    try:
        entry = parse_entry_name(name)
    except BadInput:
        return None
    path = "data/" + entry.path
    if entry.is_dir or len(path) > 120 or any(len(s.encode()) > 200 for s in path.split("/")):
        return None
    return path


def _stage(root: Path, files: dict[str, bytes]) -> StagedPackage:
    staged = []
    for path, data in files.items():
        target = root.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        staged.append(StagedFile(path, len(data), digest_bytes(data)))
    return StagedPackage(root, tuple(staged), "fuzz-bag", "folder", "0" * 64)


def TestOneInput(data: bytes) -> None:
    files = decode(data)
    if not files:
        return
    scratch = Path(tempfile.mkdtemp(prefix="bag-", dir=scratch_parent()))
    try:
        staged = _stage(scratch / "bag", files)
        report = validate_bag(staged, digest_reader(staged), LIMITS)
        if report.valid and (not report.algorithms or not any(p.startswith("data/") for p in files)):
            raise Finding(f"a bag without payload or verified manifest is valid: {sorted(files)}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    check_scratch_is_empty()


if __name__ == "__main__":
    fuzz(TestOneInput)
