"""Size, count and ratio limits: declared values up front, real bytes while streaming.

Pure accounting on integers. :func:`check_declared` refuses a package from what its headers claim
before anything is copied; :class:`EntryGuard` counts the real bytes of one entry as they stream
(a lying header must not help) and :class:`PackageBudget` counts all entries across worker threads.
Reading and writing is left to :mod:`.staging` and the readers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from archive.intake.errors import (
    CompressionRatioExceeded,
    FileTooLarge,
    IntakeError,
    PackageTooLarge,
    SizeMismatch,
    TooManyFiles,
)
from standards.limits import Limits


@dataclass(frozen=True, slots=True)
class Declared:
    """What a header (or ``lstat``) says about one file: ``compressed`` is None for folder files."""

    name: str
    size: int
    compressed: int | None = None


def ratio_exceeded(uncompressed: int, compressed: int, limits: Limits) -> bool:
    """True when an entry of at least ``limits.ratio_floor_bytes`` expands more than the allowed ratio."""
    return uncompressed >= limits.ratio_floor_bytes and uncompressed > limits.compression_ratio * compressed


def _ratio_error(name: str, uncompressed: int, compressed: int, limits: Limits) -> CompressionRatioExceeded:
    return CompressionRatioExceeded(
        f"entry {name!r}: expected at most {limits.compression_ratio}x expansion, found {uncompressed} bytes "
        f"from {compressed} compressed bytes",
        path=name,
    )


def check_declared(files: Sequence[Declared], limits: Limits) -> None:
    """Refuse a package by its declared sizes before copying anything.

    Raises:
        TooManyFiles: more than ``limits.file_count`` files.
        FileTooLarge: a file declares more than ``limits.file_bytes``.
        CompressionRatioExceeded: a ZIP entry declares an expansion over ``limits.compression_ratio``.
        PackageTooLarge: the declared sizes add up to more than ``limits.package_bytes``.
    """
    if len(files) > limits.file_count:
        raise TooManyFiles(f"package: expected at most {limits.file_count} files, found {len(files)}")
    total = 0
    for f in files:
        if f.size > limits.file_bytes:
            raise FileTooLarge(
                f"entry {f.name!r}: expected at most {limits.file_bytes} bytes, header declares {f.size}",
                path=f.name,
            )
        if f.compressed is not None and ratio_exceeded(f.size, f.compressed, limits):
            raise _ratio_error(f.name, f.size, f.compressed, limits)
        total += f.size
    if total > limits.package_bytes:
        raise PackageTooLarge(
            f"package: expected at most {limits.package_bytes} bytes, headers declare {total}"
        )


class PackageBudget:
    """Thread-safe running total of real bytes staged, against ``limits.package_bytes``."""

    def __init__(self, limits: Limits) -> None:
        self._limit = limits.package_bytes
        self._used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> None:
        """Account for ``n`` more bytes.

        Raises:
            PackageTooLarge: the running total crossed ``limits.package_bytes``.
        """
        with self._lock:
            self._used += n
            used = self._used
        if used > self._limit:
            raise PackageTooLarge(
                f"package: expected at most {self._limit} bytes, found more than {used - n}"
            )


class EntryGuard:
    """Counts the real bytes of one entry and stops the stream as soon as a limit is crossed.

    ``mismatch`` is the class raised when the real size differs from the declared one
    (:class:`SizeMismatch` for ZIP entries, :class:`SourceChanged` for folder files).
    """

    def __init__(
        self,
        declared: Declared,
        limits: Limits,
        budget: PackageBudget,
        mismatch: type[IntakeError] = SizeMismatch,
    ) -> None:
        self.declared = declared
        self.real = 0
        self._limits = limits
        self._budget = budget
        self._mismatch = mismatch

    def add(self, n: int) -> None:
        """Account for ``n`` more real bytes.

        Raises:
            FileTooLarge: over ``limits.file_bytes``.
            PackageTooLarge: the package total is over ``limits.package_bytes``.
            CompressionRatioExceeded: a ZIP entry expanded over ``limits.compression_ratio``.
            SizeMismatch: (or ``mismatch``) more bytes than the header declares.
        """
        self.real += n
        d, real = self.declared, self.real
        if real > self._limits.file_bytes:
            raise FileTooLarge(
                f"entry {d.name!r}: expected at most {self._limits.file_bytes} bytes, found more", path=d.name
            )
        self._budget.take(n)
        if d.compressed is not None and ratio_exceeded(real, d.compressed, self._limits):
            raise _ratio_error(d.name, real, d.compressed, self._limits)
        if real > d.size:
            raise self._mismatch(
                f"entry {d.name!r}: header declares {d.size} bytes, found more than that ({real} so far)",
                path=d.name,
            )

    def finish(self) -> None:
        """Check the entry ended at its declared size.

        Raises:
            SizeMismatch: (or ``mismatch``) fewer bytes than declared.
        """
        if self.real != self.declared.size:
            raise self._mismatch(
                f"entry {self.declared.name!r}: header declares {self.declared.size} bytes, "
                f"found {self.real}",
                path=self.declared.name,
            )
