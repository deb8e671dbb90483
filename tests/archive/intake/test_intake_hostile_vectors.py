"""Each committed hostile ZIP vector is refused with its exact error class and code, leaving nothing."""

from __future__ import annotations

import csv
import hashlib
import time
import tracemalloc
from pathlib import Path

import pytest

import archive.intake as intake
from archive.intake import open_package
from standards.errors import BadInput
from standards.limits import Limits
from tests.archive.intake.intake_helpers import HOSTILE, leftovers, load_craft

with open(HOSTILE / "expected.csv", encoding="utf-8") as _fh:
    EXPECTED = list(csv.DictReader(_fh))


def _refuse(vector: Path, staging_root: Path, limits: Limits | None = None, workers: int = 2) -> BadInput:
    before = hashlib.sha256(vector.read_bytes()).hexdigest()
    with pytest.raises(BadInput) as caught:
        open_package(vector, staging_root, limits=limits or Limits(), workers=workers)
    assert hashlib.sha256(vector.read_bytes()).hexdigest() == before, "input was modified"
    assert leftovers(staging_root) == [], "staging folder left behind"
    return caught.value


@pytest.mark.parametrize("row", EXPECTED, ids=[r["file"] for r in EXPECTED])
def test_open_package_refuses_hostile_vector(row: dict[str, str], staging_root: Path) -> None:
    error = _refuse(HOSTILE / row["file"], staging_root)
    assert type(error) is getattr(intake, row["error_class"])
    assert error.code == row["code"]
    assert isinstance(error, intake.IntakeError)


def test_error_codes_are_distinct() -> None:
    classes = [getattr(intake, name) for name in intake.__all__ if isinstance(getattr(intake, name), type)]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes))


def test_hostile_vectors_match_their_generator(tmp_path: Path) -> None:
    written = load_craft().main(tmp_path)
    for path in written:
        assert path.read_bytes() == (HOSTILE / path.name).read_bytes(), (
            f"{path.name} drifted; rerun make_hostile.py"
        )
    assert {p.name for p in written} == {p.name for p in HOSTILE.iterdir()}


def test_zip_bomb_by_ratio_is_refused_quickly_with_bounded_memory(staging_root: Path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        error = _refuse(HOSTILE / "zip_bomb_ratio.zip", staging_root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert type(error) is intake.CompressionRatioExceeded
    assert time.perf_counter() - started < 2.0
    assert peak < 8 * 1024 * 1024


def test_lying_header_is_refused_while_streaming_after_one_chunk(staging_root: Path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        error = _refuse(HOSTILE / "lying_header_bomb.zip", staging_root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert type(error) is intake.SizeMismatch
    assert "1000" in error.message
    assert time.perf_counter() - started < 2.0
    assert peak < 16 * 1024 * 1024  # a few 1 MiB chunks, never the 50 MB


def test_lying_header_is_refused_by_ratio_while_streaming(staging_root: Path) -> None:
    # Declared 1000 bytes passes the up-front ratio check; the first real chunk (1 MiB) crosses 10x.
    error = _refuse(
        HOSTILE / "lying_header_bomb.zip", staging_root, Limits(compression_ratio=10, ratio_floor_bytes=0)
    )
    assert type(error) is intake.CompressionRatioExceeded


def test_crc_mismatch_is_refused_with_both_crcs_named(staging_root: Path) -> None:
    error = _refuse(HOSTILE / "crc_mismatch.zip", staging_root, workers=1)
    assert "12345678" in error.message
    assert "x.pdf" in error.message
