"""Entry names: decode them, refuse hostile ones, normalise them, find collisions, detect the layout.

Pure functions on strings and bytes; no file system access. Readers (:mod:`.zip_reader`,
:mod:`.folder_reader`) feed raw names in; :mod:`.staging` uses the normalised paths.
A normalised path is package-relative, POSIX (``/``), NFC, without empty, ``.`` or ``..`` segments.
Both ``/`` and ``\\`` are separators, because Windows tools write either.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archive.intake.errors import (
    AbsolutePath,
    CaseCollision,
    ControlCharacterInName,
    DotSegment,
    DuplicateName,
    EmptySegment,
    FileDirectoryCollision,
    NormalizationCollision,
    ParentSegment,
    PathTooDeep,
    PathTooLong,
    UndecodableName,
)
from standards.limits import Limits

#: Info-ZIP Unicode Path extra field (APPNOTE.TXT 4.6.9): version 1, CRC-32 of the header name, UTF-8 name.
UNICODE_PATH_EXTRA = 0x7075
#: The 说明文件 of a court package sits at the package root (DESIGN.md, DA/T 93-2022 layout).
DESCRIPTION_FILE = "说明文件.xml"

#: The longest file or folder name staging can create: NAME_MAX of ext4, XFS and APFS (UTF-8 bytes).
SEGMENT_BYTES = 255

_SEPARATORS = re.compile(r"[/\\]")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class EntryName:
    """A checked entry name: ``raw`` as found (for messages), ``path`` normalised, ``is_dir``."""

    raw: str
    path: str
    is_dir: bool


# ------------------------------------------------------------------ decoding
def extra_fields(extra: bytes) -> dict[int, bytes]:
    """The fields of a ZIP extra block by header id; a truncated trailing field is ignored."""
    fields: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + length > len(extra):
            break
        fields.setdefault(tag, extra[pos + 4 : pos + 4 + length])
        pos += 4 + length
    return fields


def decode_zip_name(raw: bytes, *, utf8_flag: bool, extra: bytes = b"") -> str:
    """Decode a ZIP entry name from its raw header bytes.

    With general-purpose flag bit 11 the name is UTF-8 (APPNOTE 4.4.4). Without it, a valid Info-ZIP
    Unicode Path extra field (0x7075, CRC-32 of ``raw`` matching) wins; otherwise the bytes are UTF-8
    if they decode as UTF-8, else GB18030 — what ZIP tools on Chinese Windows write.

    >>> decode_zip_name("正卷/起诉状.pdf".encode("gb18030"), utf8_flag=False)
    '正卷/起诉状.pdf'

    Raises:
        UndecodableName: the bytes are neither valid UTF-8 (when flagged) nor UTF-8/GB18030.
    """
    if utf8_flag:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UndecodableName(
                f"entry name {raw!r}: expected UTF-8 (flag bit 11 set), found invalid bytes", path=repr(raw)
            ) from None
    unicode_path = extra_fields(extra).get(UNICODE_PATH_EXTRA)
    if unicode_path is not None and len(unicode_path) >= 5 and unicode_path[0] == 1:
        (name_crc,) = struct.unpack_from("<L", unicode_path, 1)
        if name_crc == zlib.crc32(raw):
            try:
                return unicode_path[5:].decode("utf-8")
            except UnicodeDecodeError:
                pass  # a broken extra field is ignored, as Info-ZIP does
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UndecodableName(
        f"entry name {raw!r}: expected UTF-8 or GB18030, found undecodable bytes", path=repr(raw)
    )


# ------------------------------------------------------------------ one name
def _check_characters(name: str) -> None:
    for ch in name:
        category = unicodedata.category(ch)
        if category == "Cc":
            raise ControlCharacterInName(
                f"entry name {name!r}: expected no control characters, found U+{ord(ch):04X}", path=name
            )
        if category == "Cs":
            raise UndecodableName(
                f"entry name {name!r}: expected valid characters, found undecodable byte/surrogate "
                f"U+{ord(ch):04X}",
                path=name,
            )


def split_name(name: str) -> tuple[str, ...]:
    """Check one entry name (without a trailing directory separator) and split it into segments.

    Raises:
        ControlCharacterInName: NUL or another Cc character.
        UndecodableName: a lone surrogate (undecodable bytes from the file system).
        AbsolutePath: ``/x``, ``\\x``, ``\\\\server\\x``, ``C:\\x`` or ``C:x``.
        ParentSegment: a ``..`` segment.
        EmptySegment: an empty name or an empty segment.
        DotSegment: a ``.`` segment, or one made only of dots and spaces (Windows strips those).
    """
    _check_characters(name)
    if name[:1] in ("/", "\\") or _DRIVE.match(name):
        raise AbsolutePath(f"entry name {name!r}: expected a relative path, found an absolute one", path=name)
    segments = tuple(_SEPARATORS.split(name))
    if ".." in segments:
        raise ParentSegment(f"entry name {name!r}: expected no '..' segment, found one", path=name)
    for segment in segments:
        if segment == "":
            raise EmptySegment(f"entry name {name!r}: expected no empty segment, found one", path=name)
        if segment.strip(" .") == "":
            raise DotSegment(f"entry name {name!r}: expected no '.' segment, found {segment!r}", path=name)
    return segments


def parse_entry_name(raw: str, *, is_dir: bool = False) -> EntryName:
    """Check ``raw`` and normalise it; a trailing ``/`` or ``\\`` marks a directory.

    Raises:
        IntakeError: any refusal of :func:`split_name`.
    """
    name = raw
    if name[-1:] in ("/", "\\"):
        is_dir = True
        name = name[:-1]
    segments = split_name(name)
    path = unicodedata.normalize("NFC", "/".join(segments))
    return EntryName(raw=raw, path=path, is_dir=is_dir)


# ------------------------------------------------------------------ the whole set
def _fold(path: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


def _parents(path: str) -> Iterable[str]:
    parts = path.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[:i])


def check_collisions(entries: Sequence[EntryName]) -> None:
    """Refuse names that would land on the same staged path, here or on a case-insensitive disk.

    Repeated directory entries are harmless and allowed.

    Raises:
        DuplicateName: two files with the same raw name.
        NormalizationCollision: two files whose names differ but normalise (NFC, separators) equally.
        FileDirectoryCollision: a name used both for a file and a directory.
        CaseCollision: two names that differ but are equal after ``casefold()``.
    """
    files: dict[str, str] = {}
    dirs: set[str] = set()
    for entry in entries:
        if entry.is_dir:
            dirs.add(entry.path)
            continue
        seen = files.get(entry.path)
        if seen is not None:
            if seen == entry.raw:
                raise DuplicateName(f"entry name {entry.raw!r}: expected once, found twice", path=entry.path)
            raise NormalizationCollision(
                f"entry names {seen!r} and {entry.raw!r}: expected distinct paths, "
                f"both normalise to {entry.path!r}",
                path=entry.path,
            )
        files[entry.path] = entry.raw
        dirs.update(_parents(entry.path))
    for path, raw in files.items():
        if path in dirs:
            raise FileDirectoryCollision(
                f"entry name {raw!r}: expected a file or a directory, found both named {path!r}", path=path
            )
    folded: dict[str, str] = {}
    for path in sorted(files.keys() | dirs):
        key = _fold(path)
        other = folded.setdefault(key, path)
        if other != path:
            raise CaseCollision(
                f"entry names {other!r} and {path!r}: expected distinct names ignoring case, found equal",
                path=path,
            )


def common_top_folder(paths: Sequence[str]) -> str | None:
    """The single top folder to strip, or None (GD-1-13 layout detection).

    A package is wrapped when every file sits under one top folder and there is no 说明文件.xml
    at the root; then the top folder (usually the 案号) is not part of package-relative paths.
    """
    if not paths or DESCRIPTION_FILE in paths:
        return None
    tops = {p.split("/", 1)[0] for p in paths}
    if len(tops) != 1 or any("/" not in p for p in paths):
        return None
    return tops.pop()


def check_path_limits(path: str, limits: Limits) -> None:
    """Refuse a package-relative path that is too long or too deep.

    Raises:
        PathTooLong: more than ``limits.path_length`` characters, or one segment longer than
            :data:`SEGMENT_BYTES` in UTF-8 (staging could not create it; that is the input's fault).
        PathTooDeep: more than ``limits.path_depth`` folder levels.
    """
    if len(path) > limits.path_length:
        raise PathTooLong(
            f"path {path!r}: expected at most {limits.path_length} characters, found {len(path)}", path=path
        )
    for segment in path.split("/"):
        size = len(segment.encode("utf-8"))
        if size > SEGMENT_BYTES:
            raise PathTooLong(
                f"path {path!r}: expected names of at most {SEGMENT_BYTES} bytes in UTF-8, found {size}",
                path=path,
            )
    depth = path.count("/")
    if depth > limits.path_depth:
        raise PathTooDeep(
            f"path {path!r}: expected at most {limits.path_depth} folder levels, found {depth}", path=path
        )
