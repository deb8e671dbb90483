"""Read a submitted ZIP without trusting it: plan its entries, then stream each one with real-byte checks.

:func:`plan_zip` parses the central directory with :mod:`zipfile` (errors translated), decodes names
(GB18030 for Chinese Windows tools), refuses hostile entries and reads every local header to find
each entry's true byte range. :func:`zip_copier` streams one entry with our own stored/inflate loop,
so the real byte count, the CRC-32 and the end of the deflate stream are checked by us rather than
cut off at the header's ``file_size``. Name rules live in :mod:`.names`, limits in :mod:`.guard`,
threads and the staging folder in :mod:`.staging`.
"""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path

from archive.intake.errors import (
    CorruptZip,
    CrcMismatch,
    EncryptedEntry,
    EntryBeyondCentralDirectory,
    LocalHeaderMismatch,
    OverlappingEntries,
    SourceUnreadable,
    SpecialFileEntry,
    SymlinkEntry,
    UndecodableName,
    UnsupportedCompression,
)
from archive.intake.names import EntryName, decode_zip_name, parse_entry_name
from archive.intake.staging import CopyFn, Sink
from integrity.hashing import CHUNK

LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # APPNOTE 4.3.7 local file header, 30 bytes
LOCAL_SIGNATURE = b"PK\x03\x04"
EMPTY_ZIP_SIGNATURE = b"PK\x05\x06"
ALLOWED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_METHOD_NAMES = {
    1: "shrink",
    6: "implode",
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstd",
    95: "xz",
    99: "AES",
}
FLAG_ENCRYPTED = 0x1
FLAG_UTF8 = 0x800


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One central-directory record, checked; ``data_offset`` comes from the real local header."""

    name: EntryName
    raw_name: bytes
    header_offset: int
    data_offset: int
    method: int
    compress_size: int
    file_size: int
    crc: int


def is_zip_magic(head: bytes) -> bool:
    """True when a file starts like a ZIP: a local header, or the end record of an empty archive."""
    return head[:4] in (LOCAL_SIGNATURE, EMPTY_ZIP_SIGNATURE)


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    # zipfile decodes names without flag bit 11 as cp437, a bijection: encoding gives back the bytes.
    # orig_filename keeps what follows a NUL, which zipfile cuts off in .filename.
    return info.orig_filename.encode("utf-8" if info.flag_bits & FLAG_UTF8 else "cp437")


def _check_kind(info: zipfile.ZipInfo, name: EntryName) -> None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise SymlinkEntry(
            f"entry {name.raw!r}: expected a regular file, found a symbolic link", path=name.raw
        )
    if kind in (0, stat.S_IFREG) or (kind == stat.S_IFDIR and name.is_dir):
        return
    raise SpecialFileEntry(
        f"entry {name.raw!r}: expected a regular file or directory, found file type {oct(kind)}",
        path=name.raw,
    )


def _check_file_entry(info: zipfile.ZipInfo, name: EntryName) -> None:
    if info.flag_bits & FLAG_ENCRYPTED:  # APPNOTE 4.4.4 bit 0; DA/T 70 GD-3-8: no encryption
        raise EncryptedEntry(f"entry {name.raw!r}: expected unencrypted, found encrypted", path=name.raw)
    if info.compress_type not in ALLOWED_METHODS:  # DA/T 70 GD-3-8: only public, supported compression
        method = _METHOD_NAMES.get(info.compress_type, "unknown")
        raise UnsupportedCompression(
            f"entry {name.raw!r}: expected compression stored (0) or deflate (8), found {method} "
            f"({info.compress_type})",
            path=name.raw,
        )


def _open_directory(path: Path) -> tuple[list[zipfile.ZipInfo], int]:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.infolist(), zf.start_dir
    except UnicodeDecodeError as exc:  # zipfile decodes names flagged UTF-8 (bit 11) itself
        raise UndecodableName(
            f"ZIP {path.name!r}: expected UTF-8 entry names (flag bit 11), found {exc.object[:80]!r}"
        ) from None
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        ValueError,
        struct.error,
    ) as exc:
        raise CorruptZip(f"ZIP {path.name!r}: expected a readable central directory, found: {exc}") from None
    except OSError as exc:
        raise SourceUnreadable(f"ZIP {path.name!r}: cannot read: {exc.strerror}") from None


def _read_local_header(
    fh: BufferedReader, info: zipfile.ZipInfo, raw: bytes, name: EntryName, start_dir: int
) -> int:
    if info.header_offset < 0 or info.header_offset + LOCAL_HEADER.size > start_dir:
        raise EntryBeyondCentralDirectory(
            f"entry {name.raw!r}: local header at offset {info.header_offset} is not before the central "
            f"directory at {start_dir}",
            path=name.raw,
        )
    fh.seek(info.header_offset)
    head = fh.read(LOCAL_HEADER.size)
    if len(head) != LOCAL_HEADER.size:
        raise CorruptZip(f"entry {name.raw!r}: local header truncated", path=name.raw)
    sig, _version, flags, method, _time, _date, _crc, _csize, _usize, name_len, extra_len = (
        LOCAL_HEADER.unpack(head)
    )
    if sig != LOCAL_SIGNATURE:
        raise CorruptZip(
            f"entry {name.raw!r}: expected local header signature {LOCAL_SIGNATURE!r} at offset "
            f"{info.header_offset}, found {sig!r}",
            path=name.raw,
        )
    local_name = fh.read(name_len)
    if local_name != raw:
        raise LocalHeaderMismatch(
            f"entry {name.raw!r}: central directory name {raw!r}, local header name {local_name!r}",
            path=name.raw,
        )
    if method != info.compress_type:
        raise LocalHeaderMismatch(
            f"entry {name.raw!r}: central directory method {info.compress_type}, "
            f"local header method {method}",
            path=name.raw,
        )
    if flags & FLAG_ENCRYPTED and not name.is_dir:
        raise EncryptedEntry(
            f"entry {name.raw!r}: expected unencrypted, local header says encrypted", path=name.raw
        )
    return int(info.header_offset + LOCAL_HEADER.size + name_len + extra_len)


def check_ranges(ranges: Sequence[tuple[int, int, str]], start_dir: int) -> None:
    """Refuse overlapping entry byte ranges ``[start, end)`` or any reaching the central directory.

    Raises:
        OverlappingEntries: two ranges share bytes (overlapping-entry zip bombs reuse one stream).
        EntryBeyondCentralDirectory: a range ends after ``start_dir``.
    """
    previous: tuple[int, int, str] | None = None
    for start, end, name in sorted(ranges):
        if end > start_dir:
            raise EntryBeyondCentralDirectory(
                f"entry {name!r}: data ends at offset {end}, expected at most the central directory start "
                f"{start_dir}",
                path=name,
            )
        if previous is not None and start < previous[1]:
            raise OverlappingEntries(
                f"entries {previous[2]!r} and {name!r}: expected disjoint byte ranges, found "
                f"[{previous[0]}, {previous[1]}) and [{start}, {end})",
                path=name,
            )
        previous = (start, end, name)


def plan_zip(path: Path) -> tuple[list[ZipEntry], list[EntryName]]:
    """Check every entry of the ZIP at ``path``; return the files to copy and the directory entries.

    Limits that depend on the layout (path length, counts, sizes) are checked by the caller.

    Raises:
        CorruptZip: the central directory or a local header is broken.
        UndecodableName: a name flagged UTF-8 is not UTF-8.
        SourceUnreadable: the file cannot be read.
        UndecodableName, AbsolutePath, ParentSegment, EmptySegment, DotSegment, ControlCharacterInName:
            a hostile name (:mod:`.names`).
        SymlinkEntry, SpecialFileEntry: a non-regular entry.
        EncryptedEntry, UnsupportedCompression: an entry we may not or cannot read.
        LocalHeaderMismatch: local header and central directory disagree.
        OverlappingEntries, EntryBeyondCentralDirectory: hostile entry byte ranges.
    """
    infos, start_dir = _open_directory(path)
    checked: list[tuple[zipfile.ZipInfo, bytes, EntryName]] = []
    for info in infos:
        raw = _raw_name(info)
        name = parse_entry_name(
            decode_zip_name(raw, utf8_flag=bool(info.flag_bits & FLAG_UTF8), extra=info.extra)
        )
        _check_kind(info, name)
        if name.is_dir:
            if info.file_size or info.compress_size > 2:  # an empty deflate stream is 2 bytes
                raise CorruptZip(f"entry {name.raw!r}: a directory entry carries data", path=name.raw)
        else:
            _check_file_entry(info, name)
        checked.append((info, raw, name))
    files: list[ZipEntry] = []
    dirs: list[EntryName] = []
    ranges: list[tuple[int, int, str]] = []
    try:
        with open(path, "rb") as fh:
            for info, raw, name in checked:
                data_offset = _read_local_header(fh, info, raw, name, start_dir)
                ranges.append((info.header_offset, data_offset + info.compress_size, name.raw))
                if name.is_dir:
                    dirs.append(name)
                else:
                    files.append(
                        ZipEntry(
                            name,
                            raw,
                            info.header_offset,
                            data_offset,
                            info.compress_type,
                            info.compress_size,
                            info.file_size,
                            info.CRC,
                        )
                    )
    except OSError as exc:
        raise SourceUnreadable(f"ZIP {path.name!r}: cannot read: {exc.strerror}") from None
    check_ranges(ranges, start_dir)
    return files, dirs


# ------------------------------------------------------------------ streaming
def _read(fh: BufferedReader, n: int, entry: ZipEntry) -> bytes:
    try:
        data = fh.read(n)
    except OSError as exc:
        raise SourceUnreadable(
            f"entry {entry.name.raw!r}: cannot read: {exc.strerror}", path=entry.name.raw
        ) from None
    if not data:
        raise CorruptZip(
            f"entry {entry.name.raw!r}: ZIP file ends inside the entry's data", path=entry.name.raw
        )
    return data


def _copy_stored(fh: BufferedReader, entry: ZipEntry, sink: Sink) -> int:
    crc = 0
    left = entry.compress_size
    buf = bytearray(min(CHUNK, max(left, 1)))
    view = memoryview(buf)
    while left:
        want = view[: min(len(buf), left)]
        try:
            n = fh.readinto(want)
        except OSError as exc:
            raise SourceUnreadable(
                f"entry {entry.name.raw!r}: cannot read: {exc.strerror}", path=entry.name.raw
            ) from None
        if not n:
            raise CorruptZip(
                f"entry {entry.name.raw!r}: ZIP file ends inside the entry's data", path=entry.name.raw
            )
        chunk = view[:n]
        crc = zlib.crc32(chunk, crc)
        sink.write(chunk)
        left -= n
    return crc


def _copy_deflated(fh: BufferedReader, entry: ZipEntry, sink: Sink) -> int:
    crc = 0
    left = entry.compress_size
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, APPNOTE 4.4.5 method 8
    while not inflater.eof:
        if inflater.unconsumed_tail:
            data = inflater.unconsumed_tail
        elif left:
            data = _read(fh, min(CHUNK, left), entry)
            left -= len(data)
        else:
            data = b""
        try:
            out = inflater.decompress(data, CHUNK)  # bounded output: memory stays flat for any ratio
        except zlib.error as exc:
            raise CorruptZip(
                f"entry {entry.name.raw!r}: broken deflate data ({exc})", path=entry.name.raw
            ) from None
        if out:
            crc = zlib.crc32(out, crc)
            sink.write(out)
        elif not data:
            raise CorruptZip(
                f"entry {entry.name.raw!r}: deflate stream ends before its end marker (compressed size "
                f"{entry.compress_size})",
                path=entry.name.raw,
            )
    if left or inflater.unused_data:
        raise CorruptZip(
            f"entry {entry.name.raw!r}: header declares {entry.compress_size} compressed bytes, "
            f"deflate stream ends {left + len(inflater.unused_data)} bytes earlier",
            path=entry.name.raw,
        )
    return crc


def copy_zip_entry(fh: BufferedReader, entry: ZipEntry, sink: Sink) -> None:
    """Stream one entry from ``fh`` into ``sink``, then compare the CRC-32 with the header's.

    Size and ratio limits and the declared size are enforced chunk by chunk by the sink's guard.

    Raises:
        CorruptZip: truncated or broken data.
        CrcMismatch: the data's CRC-32 differs from the header's.
        SourceUnreadable: an I/O error.
        IntakeError: a limit crossed while streaming (see :class:`archive.intake.guard.EntryGuard`).
    """
    fh.seek(entry.data_offset)
    if entry.method == zipfile.ZIP_STORED:
        crc = _copy_stored(fh, entry, sink)
    else:
        crc = _copy_deflated(fh, entry, sink)
    if crc != entry.crc:
        raise CrcMismatch(
            f"entry {entry.name.raw!r}: header CRC-32 {entry.crc:08x}, data CRC-32 {crc:08x}",
            path=entry.name.raw,
        )


@contextmanager
def zip_reader(path: Path) -> Iterator[CopyFn[ZipEntry]]:
    """Per-thread reader: opens its own handle on the ZIP and yields a copy function using it."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        raise SourceUnreadable(f"ZIP {path.name!r}: cannot read: {exc.strerror}") from None
    try:
        yield lambda entry, sink: copy_zip_entry(fh, entry, sink)
    finally:
        fh.close()
