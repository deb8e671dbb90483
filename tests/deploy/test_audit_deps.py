"""The CI dependency audit's decision (.ci/audit_deps.py) over recorded pip-audit JSON reports."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).parent / "vectors" / "pip_audit"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / ".ci" / "audit_deps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(name: str) -> dict[str, object]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("require", [False, True])
def test_a_known_vulnerability_fails_the_build_and_names_the_advisory(require: bool) -> None:
    code, lines = _module().decide(_report("vulnerable.json"), require=require)
    assert code == 1
    assert any("jinja2 3.1.2" in line and "GHSA-h5c8-rqwp-cp95" in line and "3.1.3" in line for line in lines)


def test_an_unreachable_service_is_reported_as_not_run_not_as_clean() -> None:
    code, lines = _module().decide(_report("unreachable.json"), require=False)
    assert code == 0
    assert lines[-1].startswith("DEPENDENCY AUDIT NOT RUN")
    assert not any("0 vulnerable" in line for line in lines)


def test_an_unreachable_service_fails_where_the_audit_is_required() -> None:
    code, _ = _module().decide(_report("unreachable.json"), require=True)
    assert code == 1


def test_partly_skipped_audit_lists_what_was_not_audited() -> None:
    code, lines = _module().decide(_report("clean_with_skips.json"), require=True)
    assert code == 0
    assert any(line.startswith("not audited: court-internal-tool") for line in lines)
    assert lines[-1] == "dependency audit: 2 audited, 0 vulnerable, 1 skipped"
