"""Audit coverage: when each catalogued object was last verified, and which are overdue.

An object is *verified* by an ``ok`` fixity result of any audit run; it is *overdue* when it was
never verified or its last verification is older than ``max_age`` (default 365 days: fixity
yearly, issue 5 item 1). :func:`coverage_of` decides from plain values; :func:`read_coverage` is
the thin reader (one session, reads only).

For alerts (issue 5, item 7) "overdue" must mean "past a deadline", not "not verified yet":
:func:`overdue_objects` gives each object the deadline last verification + ``max_age`` or, never
verified, storage time + ``max_age`` (ingest verified the digests when it stored the object, so a
dossier archived yesterday is not late), and how many days it is past. Building and sending the
alerts is left to :mod:`integrity.alerts.overdue` and :mod:`integrity.audit.overdue_check`.
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


@dataclass(frozen=True)
class OverdueObject:
    """One object past its verification deadline: last verified (``None``: never), deadline, days past it."""

    key: str
    last_verified: dt.datetime | None
    deadline: dt.datetime
    days_overdue: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of one overdue object (``edossier audit overdue --json``)."""
        return {
            "key": self.key,
            "last_verified": self.last_verified.isoformat() if self.last_verified else None,
            "deadline": self.deadline.isoformat(),
            "days_overdue": self.days_overdue,
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


def overdue_objects(
    items: Iterable[ObjectCoverage],
    stored_at: Mapping[str, dt.datetime],
    now: dt.datetime,
    max_age: dt.timedelta = DEFAULT_MAX_AGE,
) -> list[OverdueObject]:
    """The objects whose verification deadline lies before ``now``, most overdue first (then by key).

    The deadline is the last verification + ``max_age``; for an object never verified, its storage time
    (``stored_at``) + ``max_age``. A never-verified object missing from ``stored_at`` (stored after the
    coverage was read) is not overdue. ``days_overdue`` counts whole days past the deadline (0 on the
    first day).

    >>> now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    >>> stored = {"a": now - dt.timedelta(days=400), "b": now - dt.timedelta(days=10)}
    >>> [(o.key, o.days_overdue) for o in overdue_objects(coverage_of(["a", "b"], {}, now), stored, now)]
    [('a', 35)]

    Raises:
        ValueError: ``now`` or a time in ``stored_at`` is naive, or ``max_age`` is not positive.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if max_age <= dt.timedelta(0):
        raise ValueError(f"max_age: expected a positive duration, found {max_age}")
    out = []
    for item in items:
        since = item.last_verified or stored_at.get(item.key)
        if since is None:
            continue
        if since.utcoffset() is None:
            raise ValueError(f"stored_at[{item.key!r}]: expected a timezone-aware time, found {since}")
        deadline = since + max_age
        if now > deadline:
            out.append(OverdueObject(item.key, item.last_verified, deadline, (now - deadline).days))
    return sorted(out, key=lambda o: (-o.days_overdue, o.key))


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


def read_stored_at(session: Session) -> dict[str, dt.datetime]:
    """When each catalogued blob (``created_at``) and AIP manifest (``archived_at``) was stored (reads only)."""
    out: dict[str, dt.datetime] = {}
    rows = list(session.execute(select(Blob.store_key, Blob.created_at)))
    rows += list(session.execute(select(Dossier.manifest_key, Dossier.archived_at)))
    for key, when in rows:
        out[key] = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return out


def read_overdue_objects(
    session: Session, now: dt.datetime, max_age: dt.timedelta = DEFAULT_MAX_AGE
) -> list[OverdueObject]:
    """:func:`overdue_objects` of the whole catalog at ``now`` (one session, reads only)."""
    return overdue_objects(read_coverage(session, now, max_age), read_stored_at(session), now, max_age)
