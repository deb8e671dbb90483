"""The periodic overdue check (issue 5, items 7 and 8): read what is late, raise the alerts, report counts.

:func:`raise_overdue_alerts` is the one entry point the job engine calls from a periodic task (and the
CLI reuses its pieces). It reads the catalog — the closed cases not archived within
``Settings.archiving_deadline_days`` (:func:`archive.cases.overdue_cases`) and the objects past their
fixity deadline under the installation's :class:`~integrity.audit.policy.AuditPolicy`
(``fixity_every_days``, :func:`integrity.audit.coverage.read_overdue_objects`) — builds the alerts with
the pure :mod:`integrity.alerts.overdue` and hands them to the configured dispatcher.

It lives beside the audit runner, not in :mod:`archive`, because it is the same kind of periodic check
over the same :class:`~api.wiring.Installation` and the same alert dispatcher; the case ledger and
coverage modules stay pure deciders plus plain readers. Delivery is best effort: a broken channel, a
missing channel or an unreadable alert state is logged and reported in the summary, never raised. A
catalog that cannot be read is raised (:class:`DatabaseUnavailable`) so the job is retried.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.cases import OverdueCase, court_today, overdue_cases
from archive.catalog.errors import DatabaseUnavailable
from integrity.alerts.factory import dispatcher_from_settings
from integrity.alerts.model import Alert
from integrity.alerts.overdue import overdue_archiving_alerts, overdue_audit_alerts
from integrity.audit.coverage import OverdueObject, read_overdue_objects

if TYPE_CHECKING:
    from api.wiring import Installation
    from archive.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertDelivery:
    """What became of the alerts handed to the dispatcher, by dedupe key.

    ``sent``: a channel took it; ``folded``: left to the daily summary; ``suppressed``: a repeat within
    the dedupe window; ``pending``: no channel took it, queued for the next flush; ``error``: alerting
    itself failed (nothing above is then known).
    """

    raised: int = 0
    sent: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    suppressed: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Counts for JSON output and job logs."""
        return {
            "alerts_raised": self.raised,
            "alerts_sent": len(self.sent),
            "alerts_folded": len(self.folded),
            "alerts_suppressed": len(self.suppressed),
            "alerts_pending": len(self.pending),
            "alert_error": self.error,
        }


@dataclass(frozen=True)
class OverdueAlertSummary:
    """One overdue check: the rules applied, what was found late, what the alerts did."""

    today: dt.date
    deadline_days: int
    max_age_days: int
    overdue_cases: int
    overdue_objects: int
    delivery: AlertDelivery

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the job's result)."""
        return {
            "today": self.today.isoformat(),
            "deadline_days": self.deadline_days,
            "max_age_days": self.max_age_days,
            "overdue_cases": self.overdue_cases,
            "overdue_objects": self.overdue_objects,
            **self.delivery.as_dict(),
        }


def _unavailable(action: str, exc: SQLAlchemyError) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"overdue check: {action} failed: {type(exc).__name__}")


def read_overdue_cases(inst: Installation, today: dt.date, deadline_days: int) -> list[OverdueCase]:
    """The closed cases not archived ``deadline_days`` after 结案日期, most overdue first (reads only).

    Raises:
        DatabaseUnavailable: the catalog cannot be read.
        StorageError: the session could not be opened.
    """
    try:
        with inst.sessions() as session:
            return overdue_cases(session, today, deadline_days)
    except SQLAlchemyError as exc:
        raise _unavailable("reading the case ledger", exc) from exc


def read_overdue_audits(inst: Installation, now: dt.datetime, max_age_days: int) -> list[OverdueObject]:
    """The objects not verified (fixity) within ``max_age_days``, most overdue first (reads only).

    Raises:
        DatabaseUnavailable: the catalog cannot be read.
        StorageError: the session could not be opened.
    """
    try:
        with inst.sessions() as session:
            return read_overdue_objects(session, now, dt.timedelta(days=max_age_days))
    except SQLAlchemyError as exc:
        raise _unavailable("reading audit coverage", exc) from exc


def deliver(
    settings: Settings,
    alerts: Sequence[Alert],
    now: dt.datetime,
    *,
    sessions: sessionmaker[Session] | None = None,
) -> AlertDelivery:
    """Queue ``alerts`` and flush them through the configured channels at ``now``; never raises.

    ``now`` is the dispatcher's clock too, so the dedupe window and the daily journal follow the time
    the check ran for. Nothing is done (not even a flush) when there are no alerts. With ``sessions``
    (a write session factory) the alerts are also recorded in the catalog (best effort).
    """
    if not alerts:
        return AlertDelivery()
    mine = {a.dedupe_key for a in alerts}
    try:
        dispatcher = dispatcher_from_settings(
            settings.alerts, settings.data_dir, clock=lambda: now, sessions=sessions
        )
        dispatcher.raise_alerts(alerts)
        report = dispatcher.flush()
    except Exception as exc:  # alerting is best effort: the finding stands whether or not it went out
        log.exception("overdue check: raising %d alert(s) failed", len(alerts))
        return AlertDelivery(raised=len(alerts), error=f"{type(exc).__name__}: {exc}")
    sent = sorted({d.dedupe_key for d in report.sent if d.dedupe_key in mine})
    folded = sorted((set(report.folded) & mine) - set(sent))
    suppressed = sorted((set(report.suppressed) & mine) - set(sent) - set(folded))
    pending = sorted(set(report.pending) & mine)
    return AlertDelivery(len(alerts), tuple(sent), tuple(folded), tuple(suppressed), tuple(pending))


def raise_overdue_alerts(inst: Installation, now: dt.datetime) -> OverdueAlertSummary:
    """Alert on every closed case overdue for archiving and every object overdue for its fixity check.

    ``today`` for the case ledger is ``now``'s date in China Standard Time; the archiving deadline is
    ``settings.archiving_deadline_days``, the audit deadline ``settings.audit.fixity_every_days``. At
    most ``settings.alerts.daily_threshold`` objects get an alert of their own (the most overdue; the
    rest are counted in one roll-up alert) — more would be folded into the daily summary anyway.

    Raises:
        ValueError: ``now`` is naive.
        DatabaseUnavailable: the catalog cannot be read (alerting failures are never raised).
        StorageError: a session could not be opened.
    """
    settings = inst.settings
    today = court_today(now)
    deadline_days = settings.archiving_deadline_days
    max_age_days = settings.audit.fixity_every_days
    cases = read_overdue_cases(inst, today, deadline_days)
    objects = read_overdue_audits(inst, now, max_age_days)
    alerts = overdue_archiving_alerts(cases, deadline_days, now) + overdue_audit_alerts(
        objects, max_age_days, now, limit=settings.alerts.daily_threshold, tz=settings.alerts.tz
    )
    delivery = deliver(settings, alerts, now, sessions=inst.write_sessions)
    summary = OverdueAlertSummary(today, deadline_days, max_age_days, len(cases), len(objects), delivery)
    log.info(
        "overdue check %s: %d case(s) overdue for archiving, %d object(s) overdue for fixity; "
        "%d alert(s) sent, %d folded, %d suppressed",
        today.isoformat(),
        len(cases),
        len(objects),
        len(delivery.sent),
        len(delivery.folded),
        len(delivery.suppressed),
    )
    return summary
