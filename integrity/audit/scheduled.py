"""Scheduled audits: which dossiers the policy says to check now, started as one run (issue 5, item 1).

The unit of scheduling is the dossier (its blobs, manifest and AIP files are checked together, and a
full check is its BC stage). :func:`read_states` reads what the catalog knows — when each dossier
was archived, its size, its last ``ok`` fixity of the manifest and its last ``ok`` re-assembly
(the BC stage); ingest verified every digest and ran the GD stage, so archiving counts as the
first check of both kinds — and :func:`due_now` decides with :func:`integrity.audit.policy.due` and
:func:`integrity.audit.policy.spread` over the current calendar quarter: the window is aligned to
the quarter, so every tick of the scheduler computes the same slots, each dossier's slot comes from
a stable hash of its id, and a tick takes the dossiers whose slot has begun. Dossiers checked since
become not due, so a later tick does not check them again. :func:`start_due_run` plans the run
(scope ``scheduled``: fixity of the chosen dossiers, the BC stage of those due for a full check).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from archive.catalog.models import AuditResult, AuditRun, Blob, Document, Dossier
from integrity.audit.policy import AuditPolicy, ObjectState, due, quarter_start, spread
from integrity.audit.recorder import db_error
from integrity.audit.results import ASSEMBLE_CHECK

if TYPE_CHECKING:
    from api.wiring import Installation
    from integrity.audit.runner import StartedRun


@dataclass(frozen=True)
class DueNow:
    """Dossiers whose slot has begun: all get fixity, ``full`` also the BC stage."""

    fixity: tuple[str, ...]
    full: tuple[str, ...]
    later: int  # due this quarter, slot not yet begun

    @property
    def empty(self) -> bool:
        return not self.fixity


def next_quarter_start(now: dt.datetime) -> dt.datetime:
    """First instant (UTC) of the quarter after the one holding ``now``."""
    start = quarter_start(now)
    month = start.month + 3
    return start.replace(year=start.year + (month > 12), month=(month - 1) % 12 + 1)


def due_now(states: Iterable[ObjectState], policy: AuditPolicy, now: dt.datetime) -> DueNow:
    """The dossiers to check at ``now`` (pure).

    >>> t = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    >>> year_ago = t - dt.timedelta(days=400)
    >>> s = ObjectState("A", "fs", 10, t - dt.timedelta(days=800), year_ago, year_ago)
    >>> due_now([s], AuditPolicy(batch_seconds=86400 * 120), t).fixity
    ('A',)
    """
    start, end = quarter_start(now), next_quarter_start(now)
    plan = due(states, policy, now)
    if not plan.items:
        return DueNow((), (), 0)
    begun: set[str] = set()
    later = 0
    for batch in spread(plan, policy, start, end):
        if batch.start_at <= now:
            begun.update(batch.keys)
        else:
            later += len(batch.keys)
    return DueNow(tuple(sorted(begun)), tuple(sorted(begun & plan.full)), later)


def read_states(session: Session, location: str) -> list[ObjectState]:
    """Each archived dossier as an :class:`ObjectState` (key = archive id)."""
    sizes = select(Document.archive_id, func.sum(Blob.size)).join(Blob, Blob.sha256 == Document.sha256)
    size_of = {a: n for a, n in session.execute(sizes.group_by(Document.archive_id))}

    def last(check_filter: ColumnElement[bool]) -> dict[str, dt.datetime]:
        query = (
            select(AuditResult.archive_id, func.max(AuditResult.checked_at))
            .where(AuditResult.outcome == "ok", AuditResult.archive_id.is_not(None), check_filter)
            .group_by(AuditResult.archive_id)
        )
        return {a: t for a, t in session.execute(query) if a is not None}

    manifest_keys = select(Dossier.manifest_key)
    last_fixity = last((AuditResult.check == "fixity") & AuditResult.object_key.in_(manifest_keys))
    last_full = last(AuditResult.check == ASSEMBLE_CHECK)
    return [
        ObjectState(
            key=archive_id,
            location=location,
            size=int(size_of.get(archive_id) or 0),
            archived_at=archived_at,
            last_fixity=_latest(archived_at, last_fixity.get(archive_id)),
            last_full=_latest(archived_at, last_full.get(archive_id)),
        )
        for archive_id, archived_at in session.execute(
            select(Dossier.archive_id, Dossier.archived_at).order_by(Dossier.archive_id)
        )
    ]


def _latest(archived_at: dt.datetime, checked: dt.datetime | None) -> dt.datetime:
    return archived_at if checked is None or checked < archived_at else checked


def scheduled_run_running(session: Session) -> str | None:
    """The id of a scheduled run still running, if any (a tick never starts a second one)."""
    query = select(AuditRun.id).where(AuditRun.scope == "scheduled", AuditRun.status == "running")
    return session.scalars(query.limit(1)).first()


def start_due_run(inst: Installation, now: dt.datetime) -> StartedRun | None:
    """Plan a ``scheduled`` run of what is due now; ``None`` when nothing is due or one is running.

    Raises:
        DatabaseUnavailable: the database failed.
    """
    from integrity.audit.runner import start_run

    try:
        with inst.sessions() as session:
            if scheduled_run_running(session) is not None:
                return None
            states = read_states(session, inst.store.name)
    except SQLAlchemyError as exc:
        raise db_error("reading the audit schedule")(exc) from exc
    chosen = due_now(states, inst.settings.audit, now)
    if chosen.empty:
        return None
    return start_run(inst, "scheduled", now, only=chosen.fixity, dossiers=chosen.full)
