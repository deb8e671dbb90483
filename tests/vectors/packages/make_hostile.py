"""Generate the hostile vectors in ``hostile/`` and their ``expected.csv``.

Run ``.venv/bin/python tests/vectors/packages/make_hostile.py`` from the repository root. Output is
deterministic (fixed timestamps, seeded padding), so the committed files can be checked for drift.
Each vector is named after the one mutation it makes. ``expected.csv`` has one row per vector:

* ``reader`` — who must refuse it: ``zip`` (``archive.intake.open_package``: the container itself is
  hostile), ``court`` (``standards.validation.validate_court_package`` on the staged package),
  ``bagit`` (``standards.bagit.validate_bag``) or ``eep`` (``standards.eep.decode_eep_files``);
* ``error_class`` and ``code`` — the exception that reader raises and its ``code`` (for ``court`` and
  ``bagit``, the problem code it reports; ``error_class`` is the XML parser's exception behind that
  problem, or ``Problem`` when there is none);
* ``ingest_code`` — the first error of ``IngestService.ingest`` (which takes court packages only).

ZIPs are written byte by byte (``craft_zip``) rather than with :mod:`zipfile`, which refuses to
write most of these mutations. The content-level vectors (hostile XML, digests, bags, EEPs) come
from ``hostile_content.py`` beside this file. Tests reuse ``craft_zip`` and ``Entry``.
"""

from __future__ import annotations

import csv
import importlib.util
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent / "hostile"
STORED, DEFLATED, BZIP2 = 0, 8, 12
REGULAR = 0o100644 << 16
SYMLINK = 0o120777 << 16
FIFO = 0o010644 << 16
UTF8_FLAG = 0x800
DOS_DATE = ((2024 - 1980) << 9) | (1 << 5) | 1
DOS_TIME = 12 << 11


@dataclass(frozen=True)
class Entry:
    """One entry to write; every ``None`` override means "the honest value"."""

    name: bytes
    data: bytes = b""
    method: int = STORED
    flags: int = 0
    external_attr: int = REGULAR
    create_system: int = 3  # Unix
    extra: bytes = b""
    crc: int | None = None
    file_size: int | None = None
    compress_size: int | None = None
    payload: bytes | None = None  # the compressed bytes actually written
    local_name: bytes | None = None


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def unicode_path_extra(raw_name: bytes, unicode_name: str) -> bytes:
    """Info-ZIP Unicode Path extra field (0x7075): version 1, CRC-32 of the header name, UTF-8 name."""
    body = b"\x01" + struct.pack("<L", zlib.crc32(raw_name)) + unicode_name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


def craft_zip(entries: Sequence[Entry]) -> bytes:
    """Local headers + data, central directory, end record (APPNOTE 4.3.6), with the overrides applied."""
    out = bytearray()
    central = bytearray()
    for e in entries:
        payload = (
            e.payload if e.payload is not None else (deflate(e.data) if e.method == DEFLATED else e.data)
        )
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        usize = len(e.data) if e.file_size is None else e.file_size
        csize = len(payload) if e.compress_size is None else e.compress_size
        local_name = e.name if e.local_name is None else e.local_name
        offset = len(out)
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            e.flags,
            e.method,
            DOS_TIME,
            DOS_DATE,
            crc,
            csize,
            usize,
            len(local_name),
            len(e.extra),
        )
        out += local_name + e.extra + payload
        central += struct.pack(
            "<4s4B4HL2L5H2L",
            b"PK\x01\x02",
            20,
            e.create_system,
            20,
            0,
            e.flags,
            e.method,
            DOS_TIME,
            DOS_DATE,
            crc,
            csize,
            usize,
            len(e.name),
            len(e.extra),
            0,
            0,
            0,
            e.external_attr,
            offset,
        )
        central += e.name + e.extra
    cd_offset = len(out)
    out += central
    out += struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), cd_offset, 0
    )
    return bytes(out)


def _one(name: bytes, **kw: object) -> bytes:
    return craft_zip([Entry(name, b"%PDF-1.7 test\n", **kw)])  # type: ignore[arg-type]


def _pdf(name: str) -> Entry:
    return Entry(name.encode("utf-8"), b"%PDF-1.7 " + name.encode("utf-8"), flags=UTF8_FLAG)


_BOMB_DATA = bytes(50 * 1024 * 1024)  # 50 MB of zeros: deflates about 1000:1
FIELDS = ["file", "error_class", "code", "reader", "ingest_code"]


def load_content() -> ModuleType:
    """``hostile_content`` beside this file, loaded by path (this file is itself loaded by path in tests)."""
    name = "hostile_content"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().with_name(f"{name}.py"))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def zip_files(files: dict[str, bytes]) -> bytes:
    """An honest ZIP (deflated, UTF-8 names) of ``files``: package path → bytes."""
    return craft_zip(
        [Entry(p.encode("utf-8"), b, method=DEFLATED, flags=UTF8_FLAG) for p, b in files.items()]
    )


def _gb18030(name: str) -> Entry:
    """An entry whose name is GB18030 bytes without the UTF-8 flag, as Chinese Windows tools write."""
    return Entry(name.encode("gb18030"), b"%PDF-1.7 " + name.encode("utf-8"))


def _vectors() -> list[tuple[str, Callable[[], bytes], str, str]]:
    ok = _pdf("正卷/0001-起诉状.pdf")
    honest = craft_zip([ok, _pdf("正卷/0002-答辩状.pdf")])
    half = len(honest) // 2
    first = Entry(b"a.pdf", b"A" * 64)
    return [
        ("absolute_slash.zip", lambda: _one(b"/etc/passwd"), "AbsolutePath", "absolute_path"),
        ("absolute_drive.zip", lambda: _one(b"C:\\Windows\\x.pdf"), "AbsolutePath", "absolute_path"),
        ("absolute_unc.zip", lambda: _one(b"\\\\server\\share\\x.pdf"), "AbsolutePath", "absolute_path"),
        ("dotdot_slash.zip", lambda: _one(b"a/../../x.pdf"), "ParentSegment", "parent_segment"),
        ("dotdot_backslash.zip", lambda: _one(b"a\\..\\..\\x.pdf"), "ParentSegment", "parent_segment"),
        ("empty_segment.zip", lambda: _one(b"a//x.pdf"), "EmptySegment", "empty_segment"),
        ("dot_segment.zip", lambda: _one(b"a/./x.pdf"), "DotSegment", "dot_segment"),
        (
            "nul_in_name.zip",
            lambda: _one(b"x.pdf\x00.exe"),
            "ControlCharacterInName",
            "control_character_in_name",
        ),
        (
            "control_char_in_name.zip",
            lambda: _one(b"x\x07.pdf"),
            "ControlCharacterInName",
            "control_character_in_name",
        ),
        ("undecodable_name.zip", lambda: _one(b"\xff\xfe.pdf"), "UndecodableName", "undecodable_name"),
        (
            "bad_utf8_flagged_name.zip",
            lambda: _one(b"\xc3(.pdf", flags=UTF8_FLAG),
            "UndecodableName",
            "undecodable_name",
        ),
        (  # regression: 90 characters, 274 bytes in UTF-8: staging could not create it (StagingFailed)
            "segment_too_long.zip",
            lambda: craft_zip([_pdf("正卷/" + "起" * 90 + ".pdf")]),
            "PathTooLong",
            "path_too_long",
        ),
        (
            "symlink_entry.zip",
            lambda: _one(b"link.pdf", external_attr=SYMLINK),
            "SymlinkEntry",
            "symlink_entry",
        ),
        (
            "fifo_entry.zip",
            lambda: _one(b"pipe.pdf", external_attr=FIFO),
            "SpecialFileEntry",
            "special_file_entry",
        ),
        ("duplicate_name.zip", lambda: craft_zip([ok, ok]), "DuplicateName", "duplicate_name"),
        (
            "nfc_collision.zip",
            lambda: craft_zip([_pdf("caf\u00e9.pdf"), _pdf("cafe\u0301.pdf")]),
            "NormalizationCollision",
            "normalization_collision",
        ),
        (
            "separator_collision.zip",
            lambda: craft_zip([_pdf("a/x.pdf"), _pdf("a\\x.pdf")]),
            "NormalizationCollision",
            "normalization_collision",
        ),
        (
            "gb18030_utf8_same_name.zip",
            lambda: craft_zip([_pdf("正卷/0001-起诉状.pdf"), _gb18030("正卷/0001-起诉状.pdf")]),
            "DuplicateName",
            "duplicate_name",
        ),
        (
            "gb18030_nfd_collision.zip",
            lambda: craft_zip([_pdf("正卷/0001-caf\u00e9.pdf"), _gb18030("正卷/0001-cafe\u0301.pdf")]),
            "NormalizationCollision",
            "normalization_collision",
        ),
        (
            "unicode_path_extra_parent_segment.zip",
            lambda: _one(b"a.pdf", extra=unicode_path_extra(b"a.pdf", "../../etc/cron.d/x")),
            "ParentSegment",
            "parent_segment",
        ),
        (
            "case_collision.zip",
            lambda: craft_zip([_pdf("Scan.PDF"), _pdf("scan.pdf")]),
            "CaseCollision",
            "case_collision",
        ),
        (
            "file_directory_collision.zip",
            lambda: craft_zip([_pdf("a"), _pdf("a/x.pdf")]),
            "FileDirectoryCollision",
            "file_directory_collision",
        ),
        ("encrypted_entry.zip", lambda: _one(b"x.pdf", flags=1), "EncryptedEntry", "encrypted_entry"),
        (
            "unsupported_compression_bzip2.zip",
            lambda: _one(b"x.pdf", method=BZIP2),
            "UnsupportedCompression",
            "unsupported_compression",
        ),
        (
            "overlapping_entries.zip",
            lambda: craft_zip(
                [replace(first, compress_size=64 + 60, file_size=64 + 60), Entry(b"b.pdf", b"B" * 64)]
            ),
            "OverlappingEntries",
            "overlapping_entries",
        ),
        (
            "entry_beyond_central_directory.zip",
            lambda: craft_zip([replace(first, compress_size=64 + 200, file_size=64 + 200)]),
            "EntryBeyondCentralDirectory",
            "entry_beyond_central_directory",
        ),
        (
            "local_header_name_mismatch.zip",
            lambda: _one(b"x.pdf", local_name=b"y.pdf"),
            "LocalHeaderMismatch",
            "local_header_mismatch",
        ),
        ("crc_mismatch.zip", lambda: _one(b"x.pdf", crc=0x12345678), "CrcMismatch", "crc_mismatch"),
        (
            "size_declared_smaller_stored.zip",
            lambda: _one(b"x.pdf", file_size=3),
            "SizeMismatch",
            "size_mismatch",
        ),
        (
            "size_declared_larger_deflate.zip",
            lambda: _one(b"x.pdf", method=DEFLATED, file_size=10_000),
            "SizeMismatch",
            "size_mismatch",
        ),
        (
            "lying_header_bomb.zip",
            lambda: craft_zip([Entry(b"x.pdf", _BOMB_DATA, method=DEFLATED, file_size=1000)]),
            "SizeMismatch",
            "size_mismatch",
        ),
        (
            "zip_bomb_ratio.zip",
            lambda: craft_zip([Entry(b"zeros.pdf", _BOMB_DATA, method=DEFLATED)]),
            "CompressionRatioExceeded",
            "compression_ratio_exceeded",
        ),
        (
            "truncated_deflate_stream.zip",
            lambda: _one(
                b"x.pdf", method=DEFLATED, payload=deflate(bytes(range(256)) * 8)[:40], crc=0, file_size=2048
            ),
            "CorruptZip",
            "corrupt_zip",
        ),
        (
            "directory_entry_with_data.zip",
            lambda: craft_zip([Entry(b"d/", b"hidden"), ok]),
            "CorruptZip",
            "corrupt_zip",
        ),
        ("truncated_archive.zip", lambda: honest[:half], "CorruptZip", "corrupt_zip"),
        (
            "not_a_zip.zip",
            lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
            "NotAZip",
            "not_a_zip",
        ),
        ("empty_file.zip", lambda: b"", "EmptySource", "empty_source"),
        ("empty_archive.zip", lambda: craft_zip([]), "EmptyPackage", "empty_package"),
        (
            "only_directories.zip",
            lambda: craft_zip([Entry(b"a/"), Entry(b"a/b/")]),
            "EmptyPackage",
            "empty_package",
        ),
    ]


def main(out: Path = HERE) -> list[Path]:
    """Write every vector and ``expected.csv`` into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    rows = []
    for filename, build, error, code in _vectors():
        path = out / filename
        path.write_bytes(build())
        written.append(path)
        rows.append(
            {"file": filename, "error_class": error, "code": code, "reader": "zip", "ingest_code": code}
        )
    for vector in load_content().content_vectors():
        built = vector.build()
        path = out / vector.name
        path.write_bytes(built if isinstance(built, bytes) else zip_files(built))
        written.append(path)
        rows.append(
            {
                "file": vector.name,
                "error_class": vector.error_class,
                "code": vector.code,
                "reader": vector.reader,
                "ingest_code": vector.ingest_code,
            }
        )
    with open(out / "expected.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    written.append(out / "expected.csv")
    return written


if __name__ == "__main__":
    for p in main():
        print(p.relative_to(Path.cwd()) if p.is_relative_to(Path.cwd()) else p)
