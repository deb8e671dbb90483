"""Fixtures: one sample folder and one sample ZIP per session (generation is the slow part)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.sample import SampleResult, generate_sample

NOW = dt.datetime(2025, 3, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> SampleResult:
    return generate_sample(tmp_path_factory.mktemp("sample") / "pkg", seed=7, documents=14, now=NOW)


@pytest.fixture(scope="session")
def sample_zip(tmp_path_factory: pytest.TempPathFactory) -> SampleResult:
    return generate_sample(tmp_path_factory.mktemp("samplezip") / "pkg", seed=3, as_zip=True, now=NOW)


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
