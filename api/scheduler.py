"""The in-process scheduler of ``edossier serve`` on the embedded default (SQLite: no job queue).

A daemon thread wakes at the times of ``settings.jobs.audit_tick_cron`` and ``overdue_cron`` and
calls the same functions the Procrastinate periodic tasks call on PostgreSQL workers:
:func:`integrity.audit.scheduled.start_due_run` + :func:`integrity.audit.runner.complete_run`, and
:func:`integrity.audit.overdue_check.raise_overdue_alerts`. A failure is logged and the next tick
tries again; stopping waits for the running task to finish.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from croniter import croniter

from api.wiring import Installation
from integrity.audit.overdue_check import raise_overdue_alerts
from integrity.audit.runner import complete_run
from integrity.audit.scheduled import start_due_run

log = logging.getLogger(__name__)


def next_time(cron: str, after: dt.datetime) -> dt.datetime:
    """The first time after ``after`` that ``cron`` (5 fields, or 6 with seconds) names, in UTC.

    >>> next_time("*/15 * * * *", dt.datetime(2025, 1, 1, 0, 7, tzinfo=dt.UTC)).minute
    15
    """
    nxt: dt.datetime = croniter(cron, after).get_next(dt.datetime)
    return nxt.astimezone(dt.UTC)


def audit_tick(inst: Installation, now: dt.datetime) -> str | None:
    """Start and complete what the audit policy says is due now; the run id, or ``None``."""
    started = start_due_run(inst, now)
    if started is None:
        return None
    summary = complete_run(inst, started.run_id, now)
    log.info("scheduled audit %s: %s (%s objects)", summary.run_id, summary.status, summary.counts["checked"])
    return summary.run_id


class InProcessScheduler:
    """Runs the audit tick and the daily overdue check on one background thread."""

    def __init__(self, inst: Installation, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.inst = inst
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="edossier-scheduler", daemon=True)
        jobs = inst.settings.jobs
        self.tasks: list[tuple[str, str, Callable[[Installation, dt.datetime], object]]] = [
            ("audit_tick", jobs.audit_tick_cron, audit_tick),
            ("overdue_check", jobs.overdue_cron, raise_overdue_alerts),
        ]

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        now = self.clock()
        due = {name: next_time(cron, now) for name, cron, _ in self.tasks}
        while not self._stop.is_set():
            now = self.clock()
            for name, cron, task in self.tasks:
                if due[name] <= now:
                    try:
                        task(self.inst, now)
                    except Exception:  # the next tick tries again
                        log.exception("scheduler: %s failed", name)
                    due[name] = next_time(cron, self.clock())
            wait = min(due.values()) - self.clock()
            self._stop.wait(max(0.05, min(wait.total_seconds(), 60.0)))
