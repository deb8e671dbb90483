"""Audit policy and scheduling: which stored objects are due for which check, and when to run them.

Pure decisions only (DA/T 70-2018 §4.3.1 preservation-stage checks, DA/T 92-2022 periodic checks):

* :class:`AuditPolicy` – the configurable periods and limits (defaults: fixity of every object at least
  yearly, a full BC check at least every two years, a ≥5 % random sample every quarter, a full check after
  any migration, format conversion or system change touching an object).
* :func:`due` – given what the catalog knows about each object (:class:`ObjectState`) and ``now``, the
  :class:`DuePlan`: every object that needs a fixity check, every object that needs a full check, and why.
* :func:`spread` – turns a plan into :class:`Batch` es spread evenly over a window instead of one burst:
  each object's time comes from a stable hash of its key modulo the window, so daily load is flat and
  every worker computes the same schedule; per-location object limits and the I/O budget bound each batch.
* :func:`throttle_delay` – how long a running audit must pause to stay within the I/O budget.

Reading the catalog, queueing jobs, hashing objects and recording results are left to the audit runner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuditPolicy",
    "Batch",
    "Check",
    "DueItem",
    "DuePlan",
    "ObjectState",
    "Reason",
    "due",
    "key_phase",
    "quarter_id",
    "quarter_sample",
    "quarter_start",
    "spread",
    "throttle_delay",
]

_DAY = dt.timedelta(days=1)
_HASH_SPACE = 1 << 64


class AuditPolicy(BaseModel):
    """How often each object is checked and how hard an audit may push the storage.

    Defaults follow DA/T 70 §4.3.1 and DA/T 92: fixity yearly, a full check every two years, a 5 %
    quarterly sample and a full check after any change. ``None`` limits mean "unlimited".

    Fixity recomputes SHA-256 (any change to the bytes changes it); SM3 (GB/T 32905), recorded at
    ingest beside it, is recomputed on every full check — the 2-year check and the quarterly sample —
    and on every fixity check too with ``sm3_on_fixity``. SM3 runs at about a quarter of SHA-256's
    speed here, so the default keeps the yearly pass over everything at the hashing limit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fixity_every_days: int = Field(365, ge=1, description="longest time between two fixity checks")
    full_every_days: int = Field(730, ge=1, description="longest time between two full BC checks")
    sample_fraction: float = Field(0.05, gt=0.0, le=1.0, description="share fully checked each quarter")
    after_change_full: bool = Field(True, description="full check after migration/format/system change")
    io_budget_bytes_per_s: int | None = Field(None, ge=1, description="read budget of one audit worker")
    max_objects_per_location: int | None = Field(None, ge=1, description="objects per location per batch")
    batch_seconds: int = Field(3600, ge=1, description="length of one scheduling slot (one batch)")
    sm3_on_fixity: bool = Field(
        False,
        description="recompute SM3 besides SHA-256 on every fixity check (full checks always do)",
    )


@dataclass(frozen=True, slots=True)
class ObjectState:
    """What the catalog knows about one stored object, for scheduling.

    ``location`` names the store (or bucket/site) holding it; ``changed_at`` is the last migration,
    format conversion or system change touching it. All times must be timezone-aware.

    Raises:
        ValueError: ``size`` is negative or a time is naive.
    """

    key: str
    location: str
    size: int
    archived_at: dt.datetime
    last_fixity: dt.datetime | None = None
    last_full: dt.datetime | None = None
    changed_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"ObjectState.size: expected >= 0, found {self.size} for {self.key!r}")
        for name in ("archived_at", "last_fixity", "last_full", "changed_at"):
            value = getattr(self, name)
            if value is not None:
                _require_aware(value, f"ObjectState.{name}")


class Check(StrEnum):
    """Kind of check an object is due for. A full check includes fixity."""

    FIXITY = "fixity"
    FULL = "full"


class Reason(StrEnum):
    """Why an object is due."""

    NEVER_CHECKED = "never_checked"
    FIXITY_EXPIRED = "fixity_expired"
    FULL_EXPIRED = "full_expired"
    CHANGED = "changed"  # DA/T 70 §4.3.1: after migration, format conversion or system change
    QUARTERLY_SAMPLE = "quarterly_sample"  # DA/T 92: random sample each quarter


@dataclass(frozen=True, slots=True)
class DueItem:
    """One object that needs a check, the kind of check, the reasons and, if any, the deadline.

    ``deadline`` is when the last check expires; ``None`` means "as soon as the spread allows"
    (never checked, changed, sampled) or already past when ``deadline <= now``.
    """

    obj: ObjectState
    check: Check
    reasons: tuple[Reason, ...]
    deadline: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DuePlan:
    """Every object due at ``now`` (or by ``horizon``), sorted by key; ``sample`` is the quarter's sample."""

    now: dt.datetime
    horizon: dt.datetime
    quarter: str
    sample: frozenset[str]
    items: tuple[DueItem, ...]

    @property
    def fixity(self) -> frozenset[str]:
        """Keys due for a fixity check only."""
        return frozenset(i.obj.key for i in self.items if i.check is Check.FIXITY)

    @property
    def full(self) -> frozenset[str]:
        """Keys due for a full BC check (which includes fixity)."""
        return frozenset(i.obj.key for i in self.items if i.check is Check.FULL)

    @property
    def keys(self) -> frozenset[str]:
        """Every key due for any check."""
        return frozenset(i.obj.key for i in self.items)


@dataclass(frozen=True, slots=True)
class Batch:
    """Objects to check from ``start_at`` within ``seconds``; ``bytes`` is their total size."""

    start_at: dt.datetime
    seconds: int
    keys: tuple[str, ...]
    bytes: int


# ---------------------------------------------------------------- small pure helpers
def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: expected a timezone-aware datetime, found naive {value.isoformat()}")


def _hash64(*parts: str) -> int:
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def key_phase(key: str, period_seconds: int) -> int:
    """Stable offset of ``key`` in a period: SHA-256 of the key modulo ``period_seconds``.

    >>> key_phase("blobs/sha256/ab/cd/x", 1) == 0
    True

    Raises:
        ValueError: ``period_seconds`` is not positive.
    """
    if period_seconds < 1:
        raise ValueError(f"period_seconds: expected >= 1, found {period_seconds}")
    return _hash64("phase", key) % period_seconds


def quarter_id(now: dt.datetime) -> str:
    """The calendar quarter of ``now`` in UTC, e.g. ``2024Q2``.

    >>> quarter_id(dt.datetime(2024, 6, 30, 23, 0, tzinfo=dt.UTC))
    '2024Q2'

    Raises:
        ValueError: ``now`` is naive.
    """
    _require_aware(now, "now")
    utc = now.astimezone(dt.UTC)
    return f"{utc.year}Q{(utc.month - 1) // 3 + 1}"


def quarter_start(now: dt.datetime) -> dt.datetime:
    """First instant (UTC) of the quarter holding ``now``.

    Raises:
        ValueError: ``now`` is naive.
    """
    _require_aware(now, "now")
    utc = now.astimezone(dt.UTC)
    return dt.datetime(utc.year, 3 * ((utc.month - 1) // 3) + 1, 1, tzinfo=dt.UTC)


def quarter_sample(keys: Iterable[str], fraction: float, quarter: str) -> frozenset[str]:
    """Deterministic random sample of at least ``fraction`` of ``keys`` for ``quarter`` (DA/T 92).

    Each key is ranked by SHA-256 of (quarter, key) and the ``ceil(fraction * n)`` lowest are taken, so
    every worker picks the same sample for the same quarter whatever order it reads the keys in, and the
    sample changes from quarter to quarter.

    Raises:
        ValueError: ``fraction`` is outside (0, 1].
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction: expected 0 < fraction <= 1, found {fraction}")
    unique = set(keys)
    size = math.ceil(fraction * len(unique))
    return frozenset(heapq.nsmallest(size, unique, key=lambda k: (_hash64("sample", quarter, k), k)))


# ---------------------------------------------------------------- due
def _classify(
    obj: ObjectState, policy: AuditPolicy, horizon: dt.datetime, sampled: bool, q_start: dt.datetime
) -> DueItem | None:
    full_reasons: list[Reason] = []
    deadlines: list[dt.datetime] = []
    if obj.last_full is None:
        full_reasons.append(Reason.NEVER_CHECKED)
    else:
        full_deadline = obj.last_full + policy.full_every_days * _DAY
        if full_deadline <= horizon:
            full_reasons.append(Reason.FULL_EXPIRED)
            deadlines.append(full_deadline)
    if (
        policy.after_change_full
        and obj.changed_at is not None
        and (obj.last_full is None or obj.changed_at > obj.last_full)
    ):
        full_reasons.append(Reason.CHANGED)  # DA/T 70 §4.3.1: full check after any change
    if sampled and (obj.last_full is None or obj.last_full < q_start):
        full_reasons.append(Reason.QUARTERLY_SAMPLE)

    checked = [t for t in (obj.last_fixity, obj.last_full) if t is not None]
    fixity_reason: Reason | None = None
    if not checked:
        fixity_reason = Reason.NEVER_CHECKED
    else:
        fixity_deadline = max(checked) + policy.fixity_every_days * _DAY  # a full check includes fixity
        if fixity_deadline <= horizon:
            fixity_reason = Reason.FIXITY_EXPIRED
            deadlines.append(fixity_deadline)

    deadline = min(deadlines) if deadlines else None
    if full_reasons:
        reasons = full_reasons
        if fixity_reason is not None and fixity_reason not in reasons:
            reasons.append(fixity_reason)
        return DueItem(obj, Check.FULL, tuple(reasons), deadline)
    if fixity_reason is not None:
        return DueItem(obj, Check.FIXITY, (fixity_reason,), deadline)
    return None


def due(
    objects: Iterable[ObjectState],
    policy: AuditPolicy,
    now: dt.datetime,
    *,
    horizon: dt.datetime | None = None,
) -> DuePlan:
    """Which objects need a fixity check and which a full BC check at ``now`` (DA/T 70 §4.3.1, DA/T 92).

    Full check when: never fully checked; last full check older than ``full_every_days``; changed since
    the last full check (if ``after_change_full``); or in this quarter's sample and not fully checked since
    the quarter began. Otherwise fixity when never checked or the last fixity (or full) check is older
    than ``fixity_every_days``. With ``horizon`` (≥ ``now``) checks expiring by then are due too, so a
    planner that schedules a whole window never lets an object lapse inside it.

    Raises:
        ValueError: ``now``/``horizon`` is naive, ``horizon`` is before ``now``, or two objects share a key.
    """
    _require_aware(now, "now")
    end = now if horizon is None else horizon
    _require_aware(end, "horizon")
    if end < now:
        raise ValueError(f"horizon: expected >= now ({now.isoformat()}), found {end.isoformat()}")
    population = list(objects)
    counts = Counter(o.key for o in population)
    duplicates = sorted(k for k, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"objects: expected unique keys, found duplicates {duplicates[:3]}")
    quarter = quarter_id(now)
    sample = quarter_sample(counts, policy.sample_fraction, quarter)
    q_start = quarter_start(now)
    items = []
    for obj in sorted(population, key=lambda o: o.key):
        item = _classify(obj, policy, end, obj.key in sample, q_start)
        if item is not None:
            items.append(item)
    return DuePlan(now=now, horizon=end, quarter=quarter, sample=sample, items=tuple(items))


# ---------------------------------------------------------------- spread
def _slot_of(item: DueItem, now: dt.datetime, window_s: int, slot_s: int) -> int:
    slot = key_phase(item.obj.key, window_s) // slot_s
    if item.deadline is not None and item.deadline >= now:
        # Never schedule past the moment the last check expires, when that moment is not already past;
        # checks that are already late keep their phase so a backlog is spread, not burst.
        by_deadline = int((item.deadline - now).total_seconds()) // slot_s
        slot = min(slot, by_deadline)
    return slot


def _fill_batch(
    queue: deque[DueItem], policy: AuditPolicy, capacity: int | None
) -> tuple[list[DueItem], deque[DueItem]]:
    """Take items from ``queue`` in order while the per-location and byte limits allow; keep the rest."""
    taken: list[DueItem] = []
    left: deque[DueItem] = deque()
    per_location: Counter[str] = Counter()
    total = 0
    for item in queue:
        loc_ok = (
            policy.max_objects_per_location is None
            or per_location[item.obj.location] < policy.max_objects_per_location
        )
        bytes_ok = capacity is None or total + item.obj.size <= capacity
        if loc_ok and bytes_ok:
            taken.append(item)
            per_location[item.obj.location] += 1
            total += item.obj.size
        else:
            left.append(item)
    if not taken and left:
        taken.append(left.popleft())  # one object bigger than a whole slot gets a longer batch of its own
    return taken, left


def spread(plan: DuePlan, policy: AuditPolicy, now: dt.datetime, period_end: dt.datetime) -> list[Batch]:
    """Spread the plan's work evenly over ``[now, period_end)`` in slots of ``policy.batch_seconds``.

    Each object goes to the slot of its stable key phase (:func:`key_phase` modulo the window), but never
    later than the slot in which its last check expires. A batch holds at most
    ``max_objects_per_location`` objects per location and at most ``io_budget_bytes_per_s * seconds``
    bytes; what does not fit moves to the next slot. An object larger than one slot's budget gets a batch
    of its own, as long as the budget needs (the next batch starts after it). A batch starting at or
    after ``period_end`` means the limits are too tight for the work: the runner should report it.

    Raises:
        ValueError: a time is naive or ``period_end`` is not after ``now``.
    """
    _require_aware(now, "now")
    _require_aware(period_end, "period_end")
    window_s = math.ceil((period_end - now).total_seconds())
    if window_s < 1:
        raise ValueError(
            f"period_end: expected after now ({now.isoformat()}), found {period_end.isoformat()}"
        )
    slot_s = policy.batch_seconds
    budget = policy.io_budget_bytes_per_s
    capacity = None if budget is None else budget * slot_s

    by_slot: dict[int, list[DueItem]] = defaultdict(list)
    for item in plan.items:
        by_slot[_slot_of(item, now, window_s, slot_s)].append(item)
    pending_slots = sorted(by_slot)

    batches: list[Batch] = []
    queue: deque[DueItem] = deque()
    slot = 0
    next_free = 0  # first slot not taken by an earlier, longer batch
    cursor = 0
    while cursor < len(pending_slots) or queue:
        if not queue and pending_slots[cursor] > slot:
            slot = pending_slots[cursor]
        slot = max(slot, next_free)
        while cursor < len(pending_slots) and pending_slots[cursor] <= slot:
            queue.extend(sorted(by_slot[pending_slots[cursor]], key=lambda i: i.obj.key))
            cursor += 1
        taken, queue = _fill_batch(queue, policy, capacity)
        size = sum(i.obj.size for i in taken)
        seconds = slot_s if budget is None else max(slot_s, math.ceil(size / budget))
        slots_used = math.ceil(seconds / slot_s)
        seconds = slots_used * slot_s
        batches.append(
            Batch(
                start_at=now + dt.timedelta(seconds=slot * slot_s),
                seconds=seconds,
                keys=tuple(i.obj.key for i in taken),
                bytes=size,
            )
        )
        next_free = slot + slots_used
        slot = next_free
    return batches


# ---------------------------------------------------------------- throttle
def throttle_delay(bytes_done: int, elapsed: float, budget: int | None) -> float:
    """Seconds to pause so that ``bytes_done`` over the run so far stays within ``budget`` bytes/s.

    >>> throttle_delay(1000, 0.5, 1000)
    0.5
    >>> throttle_delay(1000, 2.0, None)
    0.0

    Raises:
        ValueError: ``bytes_done`` or ``elapsed`` is negative, or ``budget`` is not positive.
    """
    if bytes_done < 0:
        raise ValueError(f"bytes_done: expected >= 0, found {bytes_done}")
    if elapsed < 0:
        raise ValueError(f"elapsed: expected >= 0, found {elapsed}")
    if budget is None:
        return 0.0
    if budget < 1:
        raise ValueError(f"budget: expected >= 1 byte/s or None, found {budget}")
    return max(0.0, bytes_done / budget - elapsed)
