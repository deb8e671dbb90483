"""The package model every reader produces: the files of a staged package and their digests.

Intake (:mod:`archive.intake`) opens a ZIP or folder safely, copies it into staging and returns a
:class:`StagedPackage`. Validation and ingest work only on this model, never on the user's input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StagedFile:
    """One regular file of a package.

    ``path`` is package-relative, POSIX separators, NFC-normalised (e.g. ``正卷/0001-起诉状.pdf``);
    ``digests`` maps ``"sha256"``/``"sm3"`` to lowercase hex computed while staging.
    """

    path: str
    size: int
    digests: Mapping[str, str]


@dataclass(frozen=True)
class StagedPackage:
    """A package copied into ``root`` (a staging folder we own) with its inventory.

    ``source_digest`` is the SHA-256 of the submitted ZIP file, or of the sorted inventory for a
    folder (DA/T 70 GD-1-14: the package digest before/after).
    """

    root: Path
    files: tuple[StagedFile, ...]
    source_name: str
    source_kind: str  # "zip" | "folder"
    source_digest: str
    _by_path: dict[str, StagedFile] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_path", {f.path: f for f in self.files})

    def get(self, path: str) -> StagedFile | None:
        return self._by_path.get(path)

    def local_path(self, path: str) -> Path:
        """Where the staged copy of ``path`` lives on disk."""
        if path not in self._by_path:
            raise KeyError(path)
        return self.root.joinpath(*path.split("/"))

    def read_bytes(self, path: str) -> bytes:
        return self.local_path(path).read_bytes()

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)
