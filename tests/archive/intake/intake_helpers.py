"""Helpers shared by the intake tests: the vector generator as a module, leftover and drift checks."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "packages"
HOSTILE = VECTORS / "hostile"


def load_craft() -> ModuleType:
    """``make_hostile`` (``craft_zip``, ``Entry``, flags), loaded from its file."""
    if "make_hostile" in sys.modules:
        return sys.modules["make_hostile"]
    spec = importlib.util.spec_from_file_location("make_hostile", VECTORS / "make_hostile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_hostile"] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def leftovers(staging_root: Path) -> list[Path]:
    """Anything left under the staging root (it may not exist at all)."""
    return sorted(staging_root.iterdir()) if staging_root.exists() else []


def tree_digest(path: Path) -> str:
    """SHA-256 over every name, kind and content under ``path`` (or of the file), not following links."""
    h = hashlib.sha256()
    if path.is_file() and not path.is_symlink():
        h.update(path.read_bytes())
        return h.hexdigest()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode("utf-8", "surrogateescape") + b"\0")
        if p.is_symlink():
            h.update(b"L" + str(p.readlink()).encode())
        elif p.is_file():
            h.update(b"F" + p.read_bytes())
        else:
            h.update(b"D")
    return h.hexdigest()
