"""Recording audit results: batched inserts, what a run has already recorded, reading them back.

The thin I/O between the audit runner and the ``audit_results`` table. Results are inserted in
batches with one Core ``INSERT`` per batch (no ORM objects: a run records one row per object and
check). ``(run_id, object_key, check)`` is unique, so a batch that another worker recorded first
(a job retried while its first worker was only slow) is filtered against the table and never
stored twice. Translating database failures into :class:`DatabaseUnavailable` happens here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.catalog.errors import DatabaseUnavailable
from archive.catalog.models import AuditResult
from integrity.audit.results import CheckResult, Outcome
from standards.errors import StorageError

if TYPE_CHECKING:
    from api.wiring import Installation

#: Bound parameters per IN (...) query; under SQLite's historical 999-variable limit.
IN_CHUNK = 500


def db_error(action: str) -> Callable[[Exception], StorageError]:
    """A translator of a database exception into :class:`DatabaseUnavailable` naming ``action``."""

    def translate(exc: Exception) -> StorageError:
        return DatabaseUnavailable(
            f"audit: {action} failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        )

    return translate


def evidence_json(evidence: dict[str, Any]) -> str:
    """The stored JSON text of a result's evidence (sorted keys, Chinese kept readable)."""
    return json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str)


def recorded_keys(
    session: Session, run_id: str, *, keys: Iterable[str] = (), archive_ids: Iterable[str] = ()
) -> set[tuple[str, str]]:
    """``(object_key, check)`` already recorded for ``run_id`` among ``keys`` or ``archive_ids``."""
    found: set[tuple[str, str]] = set()
    for column, values in ((AuditResult.object_key, list(keys)), (AuditResult.archive_id, list(archive_ids))):
        for start in range(0, len(values), IN_CHUNK):
            chunk = values[start : start + IN_CHUNK]
            query = select(AuditResult.object_key, AuditResult.check).where(
                AuditResult.run_id == run_id, column.in_(chunk)
            )
            found.update((k, c) for k, c in session.execute(query))
    return found


def all_recorded_keys(session: Session, run_id: str) -> set[tuple[str, str]]:
    """Every ``(object_key, check)`` recorded for ``run_id``."""
    query = select(AuditResult.object_key, AuditResult.check).where(AuditResult.run_id == run_id)
    return {(k, c) for k, c in session.execute(query)}


class Recorder:
    """Writes results in batches (one transaction per batch) and remembers what is recorded."""

    def __init__(
        self,
        inst: Installation,
        run_id: str,
        done: set[tuple[str, str]],
        batch_size: int,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.inst = inst
        self.run_id = run_id
        self.done = done
        self.batch_size = batch_size
        self.clock = clock
        self.pending: list[CheckResult] = []

    def add(self, result: CheckResult) -> None:
        """Queue ``result`` unless this object and check are recorded already; flush when full."""
        if (result.key, result.check) in self.done:
            return
        self.done.add((result.key, result.check))
        self.pending.append(result)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Commit the pending results.

        Raises:
            DatabaseUnavailable: the database failed.
        """
        if not self.pending:
            return
        try:
            try:
                self._insert(self.pending)
            except IntegrityError:
                # Another worker recorded some of them first: keep only what is still missing.
                with self.inst.sessions() as session:
                    there = recorded_keys(session, self.run_id, keys={r.key for r in self.pending})
                self._insert([r for r in self.pending if (r.key, r.check) not in there])
        except SQLAlchemyError as exc:
            raise db_error("recording results")(exc) from exc
        self.pending = []

    def _insert(self, results: Sequence[CheckResult]) -> None:
        if not results:
            return
        now = self.clock()
        rows = [
            {
                "run_id": self.run_id,
                "object_key": r.key,
                "archive_id": r.archive_id,
                "check": r.check,
                "outcome": r.outcome,
                "evidence_json": evidence_json(r.evidence),
                "checked_at": now,
            }
            for r in results
        ]
        with self.inst.write_sessions() as session, session.begin():
            # Core insert on the table (executemany), not the ORM's bulk path: a row per object adds up
            session.connection().execute(insert(cast(Table, AuditResult.__table__)), rows)


def result_from_row(row: AuditResult) -> CheckResult:
    """A recorded :class:`AuditResult` row as a :class:`CheckResult`."""
    return CheckResult(
        row.object_key, row.check, cast(Outcome, row.outcome), json.loads(row.evidence_json), row.archive_id
    )


def stored_results(session: Session, run_id: str) -> list[CheckResult]:
    """Every result of ``run_id`` in the order recorded."""
    query = (
        select(
            AuditResult.object_key,
            AuditResult.check,
            AuditResult.outcome,
            AuditResult.evidence_json,
            AuditResult.archive_id,
        )
        .where(AuditResult.run_id == run_id)
        .order_by(AuditResult.id)
    )
    return [
        CheckResult(key, check, cast(Outcome, outcome), json.loads(evidence), archive_id)
        for key, check, outcome, evidence, archive_id in session.execute(query)
    ]

