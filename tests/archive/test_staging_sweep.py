"""Stale staging folders (left by killed processes) are removed on init; queued uploads and fresh work stay."""

from __future__ import annotations

import doctest
import os
import time
from pathlib import Path

import archive.staging_sweep as sweep_module
from api.wiring import initialise
from archive.settings import Settings
from archive.staging_sweep import sweep_staging

DAY = 86_400


def test_docstring_examples_run() -> None:
    assert doctest.testmod(sweep_module).failed == 0


def _aged(path: Path, seconds: float) -> Path:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))
    return path


def test_only_old_entries_outside_uploads_are_removed(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    (staging / "uploads").mkdir(parents=True)
    (staging / "uploads" / "queued.zip").write_bytes(b"PK")
    _aged(staging / "uploads", 3 * DAY)
    old = staging / "edossier-stage-old"
    (old / "正卷").mkdir(parents=True)
    (old / "正卷" / "1.pdf").write_bytes(b"%PDF")
    _aged(old, 2 * DAY)
    fresh = staging / "edossier-stage-running"
    fresh.mkdir()
    (staging / "stray.tmp").write_bytes(b"x")
    _aged(staging / "stray.tmp", 2 * DAY)

    assert sweep_staging(staging) == ["edossier-stage-old", "stray.tmp"]
    assert sorted(p.name for p in staging.iterdir()) == ["edossier-stage-running", "uploads"]
    assert (staging / "uploads" / "queued.zip").exists()


def test_init_sweeps_the_staging_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    initialise(settings)
    left = settings.staging_dir / "killed-ingest"
    left.mkdir(parents=True)
    _aged(left, 2 * DAY)
    done = initialise(settings)
    assert not left.exists()
    assert any("staging: removed 1" in line for line in done)


def test_missing_staging_folder_is_nothing_to_do(tmp_path: Path) -> None:
    assert sweep_staging(tmp_path / "absent") == []
