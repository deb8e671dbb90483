"""Build detection contexts from the real sample generator, intake and court-package validator.

Mutations are data (``tests/vectors/detection/court_mutations.csv``): each row names a change to a
freshly generated sample folder and the DA/T 70 stage-item (and problem code) that must fail.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.intake import open_package
from archive.sample import generate_sample
from integrity.checks.model import CheckContext, Stage
from standards.limits import Limits
from standards.validation import validate_court_package

NOW = dt.datetime(2025, 3, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "detection"


@dataclass(frozen=True)
class Mutation:
    name: str
    action: str  # append | delete | replace | write
    path: str  # package-relative, may be a glob
    old: str  # regex (replace)
    new: str  # replacement (replace) or bytes to write/append
    stage: Stage
    item: str
    code: str  # expected problem code ("" = any)


def load_mutations() -> list[Mutation]:
    with (VECTORS / "court_mutations.csv").open(encoding="utf-8", newline="") as fh:
        return [Mutation(**row) for row in csv.DictReader(fh)]  # type: ignore[arg-type]


def make_sample(root: Path, *, documents: int = 4, seed: int = 7) -> Path:
    return generate_sample(root / "pkg", seed=seed, documents=documents, now=NOW).path


def apply(folder: Path, m: Mutation) -> None:
    targets = sorted(folder.glob(m.path))
    if m.action == "write":
        target = folder / m.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(m.new, encoding="utf-8")
        return
    assert targets, f"{m.name}: nothing matches {m.path}"
    target = targets[0]
    if m.action == "append":
        target.write_bytes(target.read_bytes() + m.new.encode())
    elif m.action == "delete":
        target.unlink()
    elif m.action == "replace":
        text = target.read_text(encoding="utf-8")
        changed = re.sub(m.old, m.new, text, count=1)
        assert changed != text, f"{m.name}: {m.old!r} not found in {m.path}"
        target.write_text(changed, encoding="utf-8")
    else:
        raise ValueError(f"unknown mutation action {m.action!r}")


def context_for(folder: Path, staging: Path, stage: Stage = "GD", **kwargs: Any) -> CheckContext:
    package = open_package(folder, staging, limits=Limits())
    report = validate_court_package(package, limits=Limits(), today=NOW.date())
    return CheckContext(
        stage=stage, now=NOW, package=package, validation=report, files_root=package.root, **kwargs
    )
