"""Errors raised while opening a submitted package (ZIP or folder).

Every refusal is its own class under :class:`IntakeError` (a :class:`standards.errors.BadInput`),
with a distinct snake_case ``code``. Messages name the entry, the expected and the found value.
Failures of our own staging area (disk full, permissions) are :class:`StagingFailed`, a
:class:`standards.errors.StorageError`: an outage of ours is never blamed on the submitter.

The DA/T 70 item for all container refusals is GD-4-7 (操作过程安全性检测: the package is kept safe and
controlled while it is received) unless a class says otherwise; GD-1-13 covers the directory structure.
"""


from __future__ import annotations

from standards.errors import BadInput, StorageError


class IntakeError(BadInput):
    """The submitted container cannot be accepted; the message says which entry and why."""

    code = "intake_error"
    item = "GD-4-7"


# ------------------------------------------------------------------ the source itself
class SourceNotFound(IntakeError):
    """The source path does not exist or is neither a regular file nor a folder."""

    code = "source_not_found"


class SourceUnreadable(IntakeError):
    """Reading the source failed (permissions, I/O error)."""

    code = "source_unreadable"


class EmptySource(IntakeError):
    """The source file has zero bytes."""

    code = "empty_source"


class NotAZip(IntakeError):
    """The source file does not start with a ZIP local-header or end-of-central-directory signature."""

    code = "not_a_zip"


class CorruptZip(IntakeError):
    """The ZIP structure is truncated or broken (central directory, local header, deflate stream)."""

    code = "corrupt_zip"


class EmptyPackage(IntakeError):
    """The ZIP or folder contains no regular files."""

    code = "empty_package"
    item = "GD-2-11"


class SourceChanged(IntakeError):
    """A file of a submitted folder changed size or type while it was being copied."""

    code = "source_changed"


# ------------------------------------------------------------------ entry names
class AbsolutePath(IntakeError):
    """An entry name is absolute (``/x``, ``C:\\x``, ``C:x``, ``\\\\server\\x``)."""

    code = "absolute_path"


class ParentSegment(IntakeError):
    """An entry name has a ``..`` segment (``/`` and ``\\`` are both separators)."""

    code = "parent_segment"


class EmptySegment(IntakeError):
    """An entry name has an empty segment (``a//b``) or is empty."""

    code = "empty_segment"


class DotSegment(IntakeError):
    """An entry name has a ``.`` segment (``a/./b``)."""

    code = "dot_segment"


class ControlCharacterInName(IntakeError):
    """An entry name contains NUL or another control character (Unicode category Cc)."""

    code = "control_character_in_name"


class UndecodableName(IntakeError):
    """An entry name cannot be decoded (bad UTF-8 with the UTF-8 flag, undecodable bytes on disk)."""

    code = "undecodable_name"


class DuplicateName(IntakeError):
    """Two entries have the same name."""

    code = "duplicate_name"


class NormalizationCollision(IntakeError):
    """Two different entry names are equal after NFC normalisation (or separator unification)."""

    code = "normalization_collision"


class CaseCollision(IntakeError):
    """Two different entry names are equal after case folding (``casefold()`` of NFC)."""

    code = "case_collision"


class FileDirectoryCollision(IntakeError):
    """The same name is used for a file and for a directory."""

    code = "file_directory_collision"
    item = "GD-1-13"


# ------------------------------------------------------------------ entry kinds
class SymlinkEntry(IntakeError):
    """An entry is a symbolic link."""

    code = "symlink_entry"


class SpecialFileEntry(IntakeError):
    """An entry is a device, FIFO, socket or other non-regular file."""

    code = "special_file_entry"


class EncryptedEntry(IntakeError):
    """A ZIP entry is encrypted (general-purpose flag bit 0)."""

    code = "encrypted_entry"
    item = "GD-3-8"  # DA/T 70 GD-3-8: no encryption in the package


class UnsupportedCompression(IntakeError):
    """A ZIP entry uses a compression method other than stored (0) or deflate (8)."""

    code = "unsupported_compression"
    item = "GD-3-8"  # DA/T 70 GD-3-8: no non-public compression


class OverlappingEntries(IntakeError):
    """The byte ranges of two ZIP entries overlap (a classic zip-bomb construction)."""

    code = "overlapping_entries"


class EntryBeyondCentralDirectory(IntakeError):
    """A ZIP entry's data runs into or past the central directory."""

    code = "entry_beyond_central_directory"


class LocalHeaderMismatch(IntakeError):
    """A ZIP local header disagrees with its central directory record (name or method)."""

    code = "local_header_mismatch"


# ------------------------------------------------------------------ limits and content
class TooManyFiles(IntakeError):
    """The package has more files than ``limits.file_count``."""

    code = "too_many_files"


class FileTooLarge(IntakeError):
    """One file is larger than ``limits.file_bytes``."""

    code = "file_too_large"


class PackageTooLarge(IntakeError):
    """All files together are larger than ``limits.package_bytes``."""

    code = "package_too_large"


class PathTooLong(IntakeError):
    """A package-relative path has more characters than ``limits.path_length``."""

    code = "path_too_long"
    item = "GD-1-13"


class PathTooDeep(IntakeError):
    """A package-relative path has more folder levels than ``limits.path_depth``."""

    code = "path_too_deep"
    item = "GD-1-13"


class CompressionRatioExceeded(IntakeError):
    """A ZIP entry expands more than ``limits.compression_ratio`` times its compressed size."""

    code = "compression_ratio_exceeded"


class SizeMismatch(IntakeError):
    """The real uncompressed size of a ZIP entry differs from the size its header declares."""

    code = "size_mismatch"


class CrcMismatch(IntakeError):
    """The CRC-32 of a ZIP entry's data differs from the CRC its header declares."""

    code = "crc_mismatch"


# ------------------------------------------------------------------ our side
class StagingFailed(StorageError):
    """Writing the staged copy failed (disk full, permissions): our problem, not the submitter's."""

    code = "staging_failed"


__all__ = [
    "AbsolutePath",
    "CaseCollision",
    "CompressionRatioExceeded",
    "ControlCharacterInName",
    "CorruptZip",
    "CrcMismatch",
    "DotSegment",
    "DuplicateName",
    "EmptyPackage",
    "EmptySegment",
    "EmptySource",
    "EncryptedEntry",
    "EntryBeyondCentralDirectory",
    "FileDirectoryCollision",
    "FileTooLarge",
    "IntakeError",
    "LocalHeaderMismatch",
    "NormalizationCollision",
    "NotAZip",
    "OverlappingEntries",
    "PackageTooLarge",
    "ParentSegment",
    "PathTooDeep",
    "PathTooLong",
    "SizeMismatch",
    "SourceChanged",
    "SourceNotFound",
    "SourceUnreadable",
    "SpecialFileEntry",
    "StagingFailed",
    "SymlinkEntry",
    "TooManyFiles",
    "UndecodableName",
    "UnsupportedCompression",
]
