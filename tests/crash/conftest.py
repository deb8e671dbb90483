"""Crash-consistency tests: real subprocesses killed with SIGKILL (marker ``crash``; run by default)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "crash: kills real edossier processes with SIGKILL and checks what they leave behind"
    )
