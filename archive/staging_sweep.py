"""Removing what killed processes left in ``staging/`` (a SIGKILLed ingest cannot clean up after itself).

An ingest stages the package in a folder of its own under ``settings.staging_dir`` and removes it when
it ends; a process killed mid-ingest leaves it there (the crash test counts them). Nothing in a
staging folder is ever the only copy of anything archived — the store and the catalog are — so a
folder untouched for ``older_than`` (default one day, far longer than any ingest) is removed when the
installation is initialised (``edossier init``, ``edossier serve``). ``uploads/`` is kept: it holds
packages received over HTTP and still waiting for their ingest.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_AGE = dt.timedelta(days=1)
#: Entries of the staging folder that are never swept (queued HTTP uploads).
KEEP = frozenset({"uploads"})


def stale_entries(
    entries: Iterable[tuple[str, float]], now: float, older_than: dt.timedelta, keep: frozenset[str] = KEEP
) -> list[str]:
    """Names of ``(name, mtime)`` entries untouched for ``older_than`` at ``now`` (seconds since the epoch).

    >>> stale_entries([("a", 0.0), ("uploads", 0.0), ("b", 90_000.0)], 100_000.0, dt.timedelta(days=1))
    ['a']
    """
    limit = older_than.total_seconds()
    return sorted(name for name, mtime in entries if name not in keep and now - mtime >= limit)


def sweep_staging(
    staging_dir: Path, *, now: float | None = None, older_than: dt.timedelta = DEFAULT_AGE
) -> list[str]:
    """Remove stale entries of ``staging_dir``; the names removed (a missing folder: nothing)."""
    if not staging_dir.is_dir():
        return []
    entries = []
    for path in staging_dir.iterdir():
        try:
            entries.append((path.name, path.lstat().st_mtime))
        except FileNotFoundError:
            continue
    removed = stale_entries(entries, time.time() if now is None else now, older_than)
    for name in removed:
        path = staging_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if removed:
        log.warning(
            "staging: removed %d folder(s) left by interrupted runs: %s", len(removed), ", ".join(removed)
        )
    return removed
