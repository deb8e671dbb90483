"""Every size and count limit edossier enforces on input, in one frozen value object.

Pure code takes a :class:`Limits` argument instead of using literals; the settings layer
(:mod:`archive.settings`) fills it from the environment or configuration.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Limits on a submitted package. All byte counts are in bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    package_bytes: int = Field(default=8 * 1024**3, gt=0, description="total uncompressed bytes of a package")
    file_count: int = Field(default=20_000, gt=0, description="number of files (entries) in a package")
    file_bytes: int = Field(default=2 * 1024**3, gt=0, description="uncompressed bytes of one file")
    xml_bytes: int = Field(default=32 * 1024**2, gt=0, description="bytes of one XML document we parse")
    compression_ratio: int = Field(
        default=200, gt=0, description="refuse a ZIP entry whose uncompressed/compressed ratio exceeds this"
    )
    ratio_floor_bytes: int = Field(
        default=1024 * 1024,
        ge=0,
        description="entries smaller than this uncompressed are exempt from the ratio check (tiny XML compresses well)",
    )
    path_length: int = Field(default=240, gt=0, description="characters of a package-relative path")
    path_depth: int = Field(default=16, gt=0, description="folder levels of a package-relative path")
