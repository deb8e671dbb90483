"""Alerts kept in the catalog (table ``alerts``) for the dashboard, until a person acknowledges them.

:class:`RecordingDispatcher` is an :class:`~integrity.alerts.dispatcher.AlertDispatcher` that, before
queueing alerts for the channels, hands them to a :class:`CatalogRecorder` — best effort: recording
never raises, so it can never make an audit or an overdue check fail, and delivery to the channels
goes on whatever the catalog does. :func:`integrity.alerts.factory.dispatcher_from_settings` builds
one when it is given a session factory.

The session helpers (:func:`record_alerts`, :func:`list_alerts`, :func:`acknowledge_alert`) flush and
never commit: the caller owns the transaction. A repeat of an alert that is still open (same
``dedupe_key``, not acknowledged) is not recorded again; once acknowledged, the next one is a new row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.catalog.models import Alert as AlertRow
from integrity.alerts.dispatcher import AlertDispatcher
from integrity.alerts.model import Alert
from standards.errors import BadInput

log = logging.getLogger(__name__)

#: Bound parameters per IN (...) query; under SQLite's historical 999-variable limit.
IN_CHUNK = 500


class AlertNotFound(BadInput):
    """No recorded alert has this id."""

    code = "alert_not_found"


class AlertAlreadyAcknowledged(BadInput):
    """The alert was acknowledged before (who and when are kept; a second acknowledgement changes nothing)."""

    code = "alert_already_acknowledged"


def _open_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), IN_CHUNK):
        query = select(AlertRow.dedupe_key).where(
            AlertRow.dedupe_key.in_(list(keys[start : start + IN_CHUNK])), AlertRow.acknowledged_at.is_(None)
        )
        found.update(session.scalars(query))
    return found


def record_alerts(session: Session, alerts: Iterable[Alert]) -> list[int]:
    """Add a row per alert not already open (by ``dedupe_key``); the ids of the new rows. Flushes only."""
    todo = list(alerts)
    skip = _open_keys(session, sorted({a.dedupe_key for a in todo}))
    rows: list[AlertRow] = []
    for alert in todo:
        if alert.dedupe_key in skip:
            continue
        skip.add(alert.dedupe_key)  # the same alert twice in one call is one row
        rows.append(
            AlertRow(
                kind=alert.kind.value,
                severity=alert.severity.value,
                subject=alert.subject[:1024],
                message=alert.message,
                created_at=alert.created_at,
                evidence_link=alert.evidence_link,
                dedupe_key=alert.dedupe_key[:1024],
                details_json=json.dumps(alert.details, ensure_ascii=False, sort_keys=True),
            )
        )
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


class CatalogRecorder:
    """Records alerts in the catalog in a transaction of its own; logs and swallows every failure."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def __call__(self, alerts: Sequence[Alert]) -> int:
        """Record ``alerts``; how many new rows (0 when recording failed)."""
        if not alerts:
            return 0
        try:
            with self.sessions() as session, session.begin():
                return len(record_alerts(session, alerts))
        except Exception:  # best effort: an alert that is not on the dashboard still goes to the channels
            log.exception("alerts: recording %d alert(s) in the catalog failed", len(alerts))
            return 0


class RecordingDispatcher(AlertDispatcher):
    """An :class:`AlertDispatcher` that also records every alert raised with ``recorder`` (first, best effort)."""

    def __init__(self, *args: Any, recorder: CatalogRecorder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = recorder

    def raise_alerts(self, alerts: Iterable[Alert]) -> None:
        """Record ``alerts`` in the catalog, then queue them for the channels.

        Raises:
            AlertStateError: the state file cannot be read or written (recording never raises).
        """
        todo = list(alerts)
        self.recorder(todo)
        super().raise_alerts(todo)


# ---------------------------------------------------------------- reading and acknowledging
def alert_view(row: AlertRow) -> dict[str, Any]:
    """The JSON shape of one recorded alert."""
    return {
        "id": row.id,
        "kind": row.kind,
        "severity": row.severity,
        "subject": row.subject,
        "message": row.message,
        "created_at": row.created_at.isoformat(),
        "evidence_link": row.evidence_link,
        "dedupe_key": row.dedupe_key,
        "details": json.loads(row.details_json or "{}"),
        "acknowledged": row.acknowledged_at is not None,
        "acknowledged_at": row.acknowledged_at.isoformat() if row.acknowledged_at else None,
        "acknowledged_by": row.acknowledged_by,
    }


def list_alerts(
    session: Session,
    *,
    acknowledged: bool | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[AlertRow]]:
    """Recorded alerts, newest first: the total matching and one page (reads only)."""
    query = select(AlertRow)
    if acknowledged is not None:
        column = AlertRow.acknowledged_at
        query = query.where(column.is_not(None) if acknowledged else column.is_(None))
    if kind is not None:
        query = query.where(AlertRow.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(AlertRow.created_at.desc(), AlertRow.id.desc()).limit(limit).offset(offset)
    )
    return int(total), list(page)


def acknowledge_alert(session: Session, alert_id: int, who: str, now: dt.datetime) -> AlertRow:
    """Mark alert ``alert_id`` acknowledged by ``who`` at ``now``. Flushes only.

    Raises:
        ValueError: ``who`` is empty or ``now`` is naive (caller bugs).
        AlertNotFound: no such alert.
        AlertAlreadyAcknowledged: it was acknowledged before (by someone, at some time: both kept).
    """
    if not who:
        raise ValueError("who: expected the acknowledging token id, found an empty string")
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    row = session.get(AlertRow, alert_id, with_for_update=True)
    if row is None:
        raise AlertNotFound(f"alert {alert_id}: no such alert")
    if row.acknowledged_at is not None:
        raise AlertAlreadyAcknowledged(
            f"alert {alert_id}: acknowledged already by {row.acknowledged_by}"
            f" at {row.acknowledged_at.isoformat()}"
        )
    row.acknowledged_at, row.acknowledged_by = now, who[:128]
    session.flush()
    return row
