"""The sample passes intake and the court-profile validation with zero problems (folder and ZIP)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.intake import open_package
from archive.sample import SampleResult, generate_sample
from standards.limits import Limits
from standards.validation import validate_court_package

from .conftest import NOW


def _problems(result: SampleResult, staging: Path) -> list[str]:
    """Problems found; an empty list only when the report also counts as passed (something was read)."""
    package = open_package(result.path, staging, limits=Limits())
    report = validate_court_package(package, limits=Limits(), today=NOW.date())
    problems = [f"{p.code} {p.path}: {p.message}" for p in report.problems]
    return problems if problems or report.passed else ["nothing was checked"]


def test_sample_folder_validates_with_zero_problems(sample_folder: SampleResult, tmp_path: Path) -> None:
    assert _problems(sample_folder, tmp_path) == []


def test_sample_zip_validates_with_zero_problems(sample_zip: SampleResult, tmp_path: Path) -> None:
    assert _problems(sample_zip, tmp_path) == []


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("documents", [1, 30])
def test_sample_validates_for_every_case_type_and_size(seed: int, documents: int, tmp_path: Path) -> None:
    result = generate_sample(tmp_path / "pkg", seed=seed, documents=documents, now=NOW)
    assert _problems(result, tmp_path / "staging") == []


def test_sample_validation_catches_a_changed_file(tmp_path: Path) -> None:
    result = generate_sample(tmp_path / "pkg", seed=2, documents=3, now=NOW)
    victim = next((result.path / "正卷").iterdir())
    victim.write_bytes(victim.read_bytes() + b"\n")
    assert _problems(result, tmp_path / "staging")  # the validator really looks at the sample


def test_sample_submitted_long_after_closing_still_validates(tmp_path: Path) -> None:
    late = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    result = generate_sample(tmp_path / "pkg", seed=1, documents=5, now=late)
    package = open_package(result.path, tmp_path / "staging", limits=Limits())
    assert validate_court_package(package, limits=Limits(), today=late.date()).problems == []
