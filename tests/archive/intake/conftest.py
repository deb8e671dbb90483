"""Fixtures for intake tests."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.archive.intake.intake_helpers import load_craft


@pytest.fixture(scope="session")
def craft() -> ModuleType:
    """The vector generator module: ``craft_zip``, ``Entry``, ``deflate``, flags and constants."""
    module: ModuleType = load_craft()
    return module


@pytest.fixture
def staging_root(tmp_path: Path) -> Path:
    """A staging root that does not exist yet (open_package must create it)."""
    return tmp_path / "staging"
