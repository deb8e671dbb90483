"""The GD (归档) stage of DA/T 70-2018 detection for one submission, and what it means for ingest.

``detect_gd`` gathers the facts the checks need (formats, virus scan, environment — I/O through
the gatherers of :mod:`integrity.checks.engine`) plus what only ingest knows (the catalog answered,
which archives already hold the 案号, who submitted and how) and runs every GD stage-item.
``rejection_problems`` turns the validation report and the detection report into the list a case
team gets back: every validation problem, and each failing item's problems (or the item itself
when it failed without one). A submission is archived only when that list is empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from archive.settings import Settings
from integrity.checks.engine import detect
from integrity.checks.model import DetectionReport
from standards.package import StagedPackage
from standards.problems import Problem
from standards.validation import ValidationReport


def detect_gd(
    staged: StagedPackage,
    validation: ValidationReport,
    settings: Settings,
    *,
    now: dt.datetime,
    known: dict[str, Any],
) -> DetectionReport:
    """Run the GD stage on a staged submission.

    ``known`` holds the facts only the ingest service has: ``catalog_readable``, ``catalog_detail``,
    ``duplicate_archives``, ``actor``, ``transport``, ``audit_logged``.
    """
    return detect("GD", staged, validation, settings, now=now, known=known)


def rejection_problems(
    validation_problems: Iterable[Problem], detection: DetectionReport | None, extra: Sequence[Problem] = ()
) -> list[Problem]:
    """Every reason to refuse a submission, each once, validation problems first (pure)."""
    out: list[Problem] = []
    seen: set[tuple[str, str | None, str | None, str]] = set()

    def add(p: Problem) -> None:
        # the same finding may come from validation (GD-x-y) and from the item that reports it
        key = (p.code, p.path, p.item, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)

    for p in (*validation_problems, *extra):
        add(p)
    # ingest's own findings (e.g. the 案号 already archived with other content) say more than the
    # generic item problem with the same code; keep theirs
    from_extra = {(p.code, p.item) for p in extra}
    if detection is not None:
        for result in detection.results:
            if result.status != "fail":
                continue
            if result.problems:
                for p in result.problems:
                    if (p.code, p.item) not in from_extra:
                        add(p)
            elif not any(p.item == result.item for p in out):
                add(Problem("detection_item_failed", result.summary, result.item))
    return out
