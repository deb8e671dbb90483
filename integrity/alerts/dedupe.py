"""Pure decisions on alert delivery: suppress repeats, fold floods, summarise a day.

"Don't cry wolf": an alert whose ``dedupe_key`` went out within the window is suppressed; beyond
a per-channel number of individual alerts per day the rest are folded into one daily summary
(worst first, so an incident is never folded while a warning goes out). Nothing here reads a
clock, a file or the network — the dispatcher passes ``now`` and the sent log in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from integrity.alerts.model import KIND_TITLES, SEVERITY_RANK, Alert, AlertKind, Severity


def plan_delivery(
    new_alerts: Iterable[Alert],
    sent_log: Mapping[str, datetime],
    now: datetime,
    window: timedelta,
) -> tuple[list[Alert], list[Alert]]:
    """Split ``new_alerts`` into ``(to_send, suppressed)``.

    An alert is suppressed when its ``dedupe_key`` is in ``sent_log`` with a time less than
    ``window`` before ``now`` (or after it: a clock that went back does not unleash repeats), or
    when an earlier alert of this batch has the same key. Order is kept.

    Raises:
        ValueError: ``window`` is not positive.
    """
    if window <= timedelta(0):
        raise ValueError(f"dedupe window: expected a positive duration, found {window}")
    to_send: list[Alert] = []
    suppressed: list[Alert] = []
    seen: set[str] = set()
    for alert in new_alerts:
        last = sent_log.get(alert.dedupe_key)
        if alert.dedupe_key in seen or (last is not None and now - last < window):
            suppressed.append(alert)
        else:
            seen.add(alert.dedupe_key)
            to_send.append(alert)
    return to_send, suppressed


def prune_sent_log(sent_log: Mapping[str, datetime], now: datetime, window: timedelta) -> dict[str, datetime]:
    """The entries of ``sent_log`` still inside the window (older ones can no longer suppress)."""
    return {key: at for key, at in sent_log.items() if now - at < window}


def worst_first(alerts: Iterable[Alert]) -> list[Alert]:
    """``alerts`` ordered critical → warning → info, otherwise in their given order."""
    return sorted(alerts, key=lambda a: SEVERITY_RANK[a.severity])


def fold_flood(alerts: Sequence[Alert], sent_today: int, threshold: int) -> tuple[list[Alert], list[Alert]]:
    """Split ``alerts`` for one channel into ``(individual, folded)``.

    The channel has already received ``sent_today`` individual alerts today; at most ``threshold``
    go out individually per day, the worst first. The folded ones appear only in the daily summary.

    Raises:
        ValueError: ``sent_today`` or ``threshold`` is negative.
    """
    if sent_today < 0 or threshold < 0:
        raise ValueError(f"flood threshold: expected non-negative counts, found {sent_today}, {threshold}")
    ordered = worst_first(alerts)
    room = max(threshold - sent_today, 0)
    return ordered[:room], ordered[room:]


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The calendar day of ``moment`` in ``tz`` (a court's day, not UTC's)."""
    return moment.astimezone(tz).date()


# ---------------------------------------------------------------- daily summary
@dataclass(frozen=True)
class SubjectCount:
    """One subject of a kind in a summary, with how often it alerted and where its evidence is."""

    subject: str
    count: int
    evidence_link: str


@dataclass(frozen=True)
class KindSummary:
    """The alerts of one kind in a day."""

    kind: AlertKind
    count: int
    worst: Severity
    top_subjects: tuple[SubjectCount, ...]

    @property
    def title(self) -> str:
        """The Chinese name of the kind."""
        return KIND_TITLES[self.kind]


@dataclass(frozen=True)
class Summary:
    """One day's alerts aggregated: counts per kind (worst kinds first) and the top subjects of each.

    ``folded`` is how many of them were not sent individually on some channel (the flood limit);
    ``suppressed`` how many repeats were dropped within the dedupe window.
    """

    day: date
    total: int
    by_kind: tuple[KindSummary, ...]
    folded: int = 0
    suppressed: int = 0

    @property
    def is_empty(self) -> bool:
        """No alert that day."""
        return self.total == 0

    @property
    def worst(self) -> Severity | None:
        """The worst severity of the day, or ``None`` when there was no alert."""
        if not self.by_kind:
            return None
        return min((k.worst for k in self.by_kind), key=lambda s: SEVERITY_RANK[s])

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "day": self.day.isoformat(),
            "total": self.total,
            "folded": self.folded,
            "suppressed": self.suppressed,
            "worst": self.worst.value if self.worst else None,
            "by_kind": [
                {
                    "kind": k.kind.value,
                    "title": k.title,
                    "count": k.count,
                    "worst": k.worst.value,
                    "top_subjects": [
                        {"subject": s.subject, "count": s.count, "evidence_link": s.evidence_link}
                        for s in k.top_subjects
                    ],
                }
                for k in self.by_kind
            ],
        }


def summarise(
    alerts: Iterable[Alert],
    day: date,
    *,
    tz: tzinfo = UTC,
    top_n: int = 5,
    folded: int = 0,
    suppressed: int = 0,
) -> Summary:
    """Aggregate the alerts created on ``day`` (in ``tz``): counts per kind and the ``top_n`` subjects.

    Alerts of other days are ignored. Kinds are ordered by their worst severity, then by count;
    subjects by count, then by first appearance.

    Raises:
        ValueError: ``top_n`` is less than 1.
    """
    if top_n < 1:
        raise ValueError(f"summary top_n: expected at least 1, found {top_n}")
    todays = [a for a in alerts if local_day(a.created_at, tz) == day]
    kinds: list[KindSummary] = []
    for kind in AlertKind:
        of_kind = [a for a in todays if a.kind == kind]
        if not of_kind:
            continue
        counts = Counter(a.subject for a in of_kind)
        links: dict[str, str] = {}
        for a in of_kind:
            links.setdefault(a.subject, a.evidence_link)
        order = list(links)  # first appearance
        top = sorted(order, key=lambda s: (-counts[s], order.index(s)))[:top_n]
        kinds.append(
            KindSummary(
                kind=kind,
                count=len(of_kind),
                worst=worst_first(of_kind)[0].severity,
                top_subjects=tuple(SubjectCount(s, counts[s], links[s]) for s in top),
            )
        )
    kinds.sort(key=lambda k: (SEVERITY_RANK[k.worst], -k.count))
    return Summary(day=day, total=len(todays), by_kind=tuple(kinds), folded=folded, suppressed=suppressed)
