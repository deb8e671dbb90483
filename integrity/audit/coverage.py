"""Audit coverage: when each catalogued object was last verified, and which are overdue.

An object is *verified* by an ``ok`` fixity result of any audit run; it is *overdue* when it was
never verified or its last verification is older than ``max_age`` (default 365 days: fixity
yearly, issue 5 item 1). :func:`coverage_of` decides from plain values; :func:`read_coverage` is
the thin reader (one session, reads only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.catalog.models import AuditResult, Blob, Dossier

DEFAULT_MAX_AGE = dt.timedelta(days=365)


@dataclass(frozen=True)
class ObjectCoverage:
    """One object: when it was last verified (``None``: never) and whether that is overdue."""

    key: str
    last_verified: dt.datetime | None
    overdue: bool

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of one object in ``edossier audit coverage --json``."""
        return {
            "key": self.key,
            "last_verified": self.last_verified.isoformat() if self.last_verified else None,
            "overdue": self.overdue,
        }


def coverage_of(
    keys: Iterable[str],
    last_ok: Mapping[str, dt.datetime],
    now: dt.datetime,
    max_age: dt.timedelta = DEFAULT_MAX_AGE,
) -> list[ObjectCoverage]:
    """Per key (sorted): last verification and whether it is overdue at ``now``.

    >>> now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    >>> [c.overdue for c in coverage_of(["a", "b"], {"a": now}, now)]
    [False, True]

    Raises:
        ValueError: ``now`` is naive.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    out = []
    for key in sorted(set(keys)):
        last = last_ok.get(key)
        out.append(ObjectCoverage(key, last, last is None or now - last > max_age))
    return out


def read_coverage(
    session: Session, now: dt.datetime, max_age: dt.timedelta = DEFAULT_MAX_AGE
) -> list[ObjectCoverage]:
    """Coverage of every catalogued blob and AIP manifest (reads only)."""
    keys = list(session.scalars(select(Blob.store_key))) + list(session.scalars(select(Dossier.manifest_key)))
    last: dict[str, dt.datetime] = {}
    rows = session.execute(
        select(AuditResult.object_key, func.max(AuditResult.checked_at))
        .where(AuditResult.check == "fixity", AuditResult.outcome == "ok")
        .group_by(AuditResult.object_key)
    )
    for key, when in rows:
        if when is not None:
            last[key] = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return coverage_of(keys, last, now, max_age)
