"""The alert dispatcher: queue alerts, deliver them through every channel, send the daily summary.

The thin I/O shell around :mod:`.dedupe`. :meth:`AlertDispatcher.raise_alert` only records the
alert in the state file (so a crash loses nothing); :meth:`~AlertDispatcher.flush` decides with
the pure functions what goes out, what is a repeat and what is folded into the summary, tries
every channel and records the outcome. One channel failing never stops the others; an alert no
channel took stays queued for the next flush. The state lives in a JSON file (see :mod:`.state`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from integrity.alerts.channels import Channel
from integrity.alerts.dedupe import Summary, fold_flood, local_day, plan_delivery, summarise
from integrity.alerts.model import Alert
from integrity.alerts.state import AlertState, AlertStateCorrupt, StateStore
from standards.errors import EdossierError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

DEFAULT_WINDOW = timedelta(hours=24)
DEFAULT_DAILY_THRESHOLD = 20
DEFAULT_TZ: tzinfo = ZoneInfo("Asia/Shanghai")
DEFAULT_TOP_N = 5
DEFAULT_KEEP_DAYS = 35


@dataclass(frozen=True)
class ChannelResult:
    """One attempt to deliver one alert (``dedupe_key``) or a summary (``dedupe_key`` ``None``) to a channel."""

    channel: str
    dedupe_key: str | None
    ok: bool
    error_code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class DeliveryReport:
    """What a flush or a summary did.

    ``suppressed``: dedupe keys dropped as repeats; ``folded``: keys left to the daily summary on
    at least one channel; ``pending``: keys no channel took, kept for the next flush;
    ``state_reset``: where an unreadable state file was moved before starting afresh.
    """

    deliveries: tuple[ChannelResult, ...] = ()
    suppressed: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    summary: Summary | None = None
    state_reset: Path | None = None

    @property
    def failures(self) -> list[ChannelResult]:
        """The attempts that failed."""
        return [d for d in self.deliveries if not d.ok]

    @property
    def sent(self) -> list[ChannelResult]:
        """The attempts that succeeded."""
        return [d for d in self.deliveries if d.ok]

    def merged(self, other: DeliveryReport) -> DeliveryReport:
        """This report followed by ``other`` (``other``'s summary and queue win)."""
        return DeliveryReport(
            deliveries=self.deliveries + other.deliveries,
            suppressed=self.suppressed + other.suppressed,
            folded=self.folded + other.folded,
            pending=other.pending,
            summary=other.summary or self.summary,
            state_reset=self.state_reset or other.state_reset,
        )


class AlertDispatcher:
    """Delivers alerts through ``channels``, remembering in ``state_store`` what went out when.

    ``clock`` returns the current, timezone-aware time. ``window``: a repeat of a dedupe key within
    it is suppressed. ``daily_threshold``: individual alerts per channel per day before the rest
    are folded into the summary. ``tz``: the time zone whose calendar days summaries cover.
    """

    def __init__(
        self,
        channels: Sequence[Channel],
        state_store: StateStore,
        clock: Clock,
        *,
        window: timedelta = DEFAULT_WINDOW,
        daily_threshold: int = DEFAULT_DAILY_THRESHOLD,
        tz: tzinfo = DEFAULT_TZ,
        top_n: int = DEFAULT_TOP_N,
        keep_days: int = DEFAULT_KEEP_DAYS,
    ) -> None:
        """Check the channels and limits.

        Raises:
            ValueError: no channel, two channels with one name, a non-positive window or a negative limit.
        """
        names = [c.name for c in channels]
        if not names:
            raise ValueError("alert dispatcher: expected at least one channel")
        if len(set(names)) != len(names):
            raise ValueError(f"alert dispatcher: channel names must be unique, found {names}")
        if window <= timedelta(0):
            raise ValueError(f"alert dedupe window: expected a positive duration, found {window}")
        if daily_threshold < 0 or top_n < 1 or keep_days < 1:
            raise ValueError(
                f"alert limits: expected daily_threshold >= 0, top_n >= 1, keep_days >= 1,"
                f" found {daily_threshold}, {top_n}, {keep_days}"
            )
        self.channels = list(channels)
        self.state_store = state_store
        self.clock = clock
        self.window = window
        self.daily_threshold = daily_threshold
        self.tz = tz
        self.top_n = top_n
        self.keep_days = keep_days

    # ------------------------------------------------------------ public
    def raise_alert(self, alert: Alert) -> None:
        """Queue one alert (persisted at once); :meth:`flush` delivers it.

        Raises:
            AlertStateError: the state file cannot be read or written.
        """
        self.raise_alerts([alert])

    def raise_alerts(self, alerts: Iterable[Alert]) -> None:
        """Queue several alerts in one state write.

        Raises:
            AlertStateError: the state file cannot be read or written.
        """
        with self.state_store.locked():
            state, _ = self._load()
            state.pending.extend(alerts)
            self.state_store.save(state)

    def flush(self) -> DeliveryReport:
        """Deliver the queued alerts: suppress repeats, fold floods, try every channel.

        An alert counts as sent (and starts its dedupe window) when a channel took it or it was
        folded into the summary; when no channel took it, it stays queued.

        Raises:
            AlertStateError: the state file cannot be read or written (channels' failures never raise).
        """
        now = self._now()
        today = local_day(now, self.tz)
        with self.state_store.locked():
            state, reset = self._load()
            to_send, suppressed = plan_delivery(state.pending, state.sent, now, self.window)
            for alert in suppressed:
                state.day(local_day(alert.created_at, self.tz)).suppressed += 1

            counts = state.day(today).channel_counts
            deliveries: list[ChannelResult] = []
            taken: set[str] = set()
            folded: set[str] = set()
            for channel in self.channels:
                individual, rest = fold_flood(to_send, counts.get(channel.name, 0), self.daily_threshold)
                folded.update(a.dedupe_key for a in rest)
                for alert in individual:
                    counts[channel.name] = counts.get(channel.name, 0) + 1
                    result = self._attempt(channel, alert)
                    deliveries.append(result)
                    if result.ok:
                        taken.add(alert.dedupe_key)

            still_pending: list[Alert] = []
            for alert in to_send:
                key = alert.dedupe_key
                if key not in taken and key not in folded:
                    still_pending.append(alert)
                    continue
                state.sent[key] = now
                record = state.day(local_day(alert.created_at, self.tz))
                record.alerts.append(alert)
                if key in folded:
                    record.folded.add(key)
            state.pending = still_pending
            state.prune(now, self.window, today, self.keep_days)
            self.state_store.save(state)
        if still_pending:
            log.warning("alerts: %d alert(s) reached no channel; kept for the next flush", len(still_pending))
        return DeliveryReport(
            deliveries=tuple(deliveries),
            suppressed=tuple(a.dedupe_key for a in suppressed),
            folded=tuple(a.dedupe_key for a in to_send if a.dedupe_key in folded),
            pending=tuple(a.dedupe_key for a in still_pending),
            state_reset=reset,
        )

    def send_daily_summary(self, day: date, *, send_empty: bool = False) -> DeliveryReport:
        """Flush the queue, then send the summary of ``day`` to every channel that has not had it.

        A day without alerts sends nothing unless ``send_empty``. A channel that fails gets the
        summary on the next call; one that succeeded never gets it twice.

        Raises:
            AlertStateError: the state file cannot be read or written.
        """
        flushed = self.flush()
        with self.state_store.locked():
            state, reset = self._load()
            record = state.days.get(day)
            alerts = record.alerts if record else []
            summary = summarise(
                alerts,
                day,
                tz=self.tz,
                top_n=self.top_n,
                folded=len(record.folded) if record else 0,
                suppressed=record.suppressed if record else 0,
            )
            deliveries: list[ChannelResult] = []
            if not summary.is_empty or send_empty:
                record = state.day(day)
                for channel in self.channels:
                    if channel.name in record.summary_channels:
                        continue
                    result = self._attempt(channel, summary)
                    deliveries.append(result)
                    if result.ok:
                        record.summary_channels.add(channel.name)
                self.state_store.save(state)
        return flushed.merged(
            DeliveryReport(deliveries=tuple(deliveries), summary=summary, state_reset=reset)
        )

    def pending(self) -> list[Alert]:
        """The alerts queued and not yet delivered.

        Raises:
            AlertStateError: the state file cannot be read.
        """
        with self.state_store.locked():
            state, _ = self._load()
        return list(state.pending)

    # ------------------------------------------------------------ helpers
    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"alert clock: expected a timezone-aware time, found {now}")
        return now

    def _load(self) -> tuple[AlertState, Path | None]:
        try:
            return self.state_store.load(), None
        except AlertStateCorrupt as exc:
            # Alerting must keep working: keep the bad file for people, start afresh (repeats may go out once).
            moved = self.state_store.quarantine()
            log.error("alerts: %s; moved to %s, starting with an empty state", exc.message, moved)
            return AlertState(), moved

    @staticmethod
    def _attempt(channel: Channel, item: Alert | Summary) -> ChannelResult:
        key = item.dedupe_key if isinstance(item, Alert) else None
        try:
            if isinstance(item, Alert):
                channel.send_alert(item)
            else:
                channel.send_summary(item)
        except EdossierError as exc:
            log.warning("alerts: channel %s failed: %s", channel.name, exc.message)
            return ChannelResult(channel.name, key, False, exc.code, exc.message)
        except Exception as exc:  # one broken channel must never block the others
            log.exception("alerts: channel %s failed unexpectedly", channel.name)
            return ChannelResult(
                channel.name, key, False, "alert_channel_error", f"{type(exc).__name__}: {exc}"
            )
        return ChannelResult(channel.name, key, True)
