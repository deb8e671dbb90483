"""The dispatcher's memory: what was sent when, what waits, and each day's journal — in one JSON file.

Kept under the data directory, not in the catalog database, so alerting needs no migration and
still works when the database is the thing that is down. Writes are atomic (temp file, fsync,
rename) and a lock file serialises dispatchers of one installation on POSIX. Only the codec
(:func:`state_to_json` / :func:`state_from_json`) decides the format; the store only moves bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from integrity.alerts.model import Alert
from standards.errors import StorageError

STATE_VERSION = 1


class AlertStateError(StorageError):
    """The alert state file could not be read or written."""

    code = "alert_state_error"


class AlertStateCorrupt(AlertStateError):
    """The alert state file exists but is not a state this version understands."""

    code = "alert_state_corrupt"


@dataclass
class DayRecord:
    """One calendar day (in the installation's time zone).

    ``alerts``: the alerts created that day that passed deduplication (the summary's input);
    ``folded``: dedupe keys folded into the summary on at least one channel; ``suppressed``: repeats
    dropped; ``channel_counts``: individual alerts sent per channel; ``summary_channels``: channels
    that already received this day's summary.
    """

    alerts: list[Alert] = field(default_factory=list)
    folded: set[str] = field(default_factory=set)
    suppressed: int = 0
    channel_counts: dict[str, int] = field(default_factory=dict)
    summary_channels: set[str] = field(default_factory=set)


@dataclass
class AlertState:
    """Everything the dispatcher remembers between runs."""

    sent: dict[str, datetime] = field(default_factory=dict)
    pending: list[Alert] = field(default_factory=list)
    days: dict[date, DayRecord] = field(default_factory=dict)

    def day(self, day: date) -> DayRecord:
        """The record of ``day``, created empty when missing."""
        return self.days.setdefault(day, DayRecord())

    def prune(self, now: datetime, window: timedelta, today: date, keep_days: int) -> None:
        """Forget sent times outside the window and days more than ``keep_days`` before ``today``."""
        self.sent = {k: at for k, at in self.sent.items() if now - at < window}
        oldest = today - timedelta(days=keep_days)
        self.days = {d: r for d, r in self.days.items() if d >= oldest}


# ---------------------------------------------------------------- codec
def state_to_json(state: AlertState) -> dict[str, Any]:
    """The JSON document of ``state``."""
    return {
        "version": STATE_VERSION,
        "sent": {k: at.isoformat() for k, at in sorted(state.sent.items())},
        "pending": [a.to_json() for a in state.pending],
        "days": {
            d.isoformat(): {
                "alerts": [a.to_json() for a in r.alerts],
                "folded": sorted(r.folded),
                "suppressed": r.suppressed,
                "channel_counts": dict(sorted(r.channel_counts.items())),
                "summary_channels": sorted(r.summary_channels),
            }
            for d, r in sorted(state.days.items())
        },
    }


def state_from_json(data: Any) -> AlertState:
    """Parse a state document.

    Raises:
        AlertStateCorrupt: wrong version, or a field is missing or malformed.
    """
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        found = data.get("version") if isinstance(data, dict) else type(data).__name__
        raise AlertStateCorrupt(f"alert state version: expected {STATE_VERSION}, found {found!r}")
    try:
        days: dict[date, DayRecord] = {}
        for day, r in dict(data.get("days", {})).items():
            days[date.fromisoformat(day)] = DayRecord(
                alerts=[Alert.from_json(a) for a in r["alerts"]],
                folded={str(k) for k in r["folded"]},
                suppressed=int(r["suppressed"]),
                channel_counts={str(k): int(v) for k, v in dict(r["channel_counts"]).items()},
                summary_channels={str(c) for c in r["summary_channels"]},
            )
        return AlertState(
            sent={str(k): _aware(v) for k, v in dict(data.get("sent", {})).items()},
            pending=[Alert.from_json(a) for a in data.get("pending", [])],
            days=days,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise AlertStateCorrupt(f"alert state: malformed ({type(exc).__name__}: {exc})") from None


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"sent time {value!r} has no UTC offset")
    return moment


# ---------------------------------------------------------------- stores
class StateStore(Protocol):
    """Where the dispatcher keeps its :class:`AlertState`."""

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold exclusive use of the state for one load-change-save cycle.

        Raises:
            AlertStateError: the lock cannot be taken.
        """
        ...

    def load(self) -> AlertState:
        """The stored state (empty when there is none yet).

        Raises:
            AlertStateCorrupt: the stored state cannot be parsed.
            AlertStateError: it cannot be read.
        """
        ...

    def save(self, state: AlertState) -> None:
        """Replace the stored state atomically.

        Raises:
            AlertStateError: it cannot be written.
        """
        ...

    def quarantine(self) -> Path | None:
        """Move an unreadable state aside (kept for people to inspect); return where it went.

        Raises:
            AlertStateError: it cannot be moved.
        """
        ...


class JsonStateStore:
    """One JSON file, e.g. ``<data dir>/alerts/state.json``, plus ``state.json.lock`` beside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive ``flock`` on the lock file (a no-op where ``fcntl`` does not exist).

        Raises:
            AlertStateError: the directory or lock file cannot be created.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AlertStateError(
                f"alert state lock {self.path}: {exc.strerror}", path=str(self.path)
            ) from None
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def load(self) -> AlertState:
        """Read and parse the file; an absent file is an empty state.

        Raises:
            AlertStateCorrupt: the file is not valid UTF-8 JSON of the expected shape.
            AlertStateError: the file cannot be read.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return AlertState()
        except OSError as exc:
            raise AlertStateError(f"alert state {self.path}: cannot be read: {exc.strerror}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AlertStateCorrupt(
                f"alert state {self.path}: not JSON ({exc})", path=str(self.path)
            ) from None
        return state_from_json(data)

    def save(self, state: AlertState) -> None:
        """Write a temp file beside the target, fsync it, rename it over the target, fsync the directory.

        Raises:
            AlertStateError: any step failed (the previous file is then untouched).
        """
        data = json.dumps(state_to_json(state), ensure_ascii=False, indent=1).encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise AlertStateError(f"alert state {self.path}: cannot be written: {exc.strerror}") from None

    def quarantine(self) -> Path | None:
        """Rename the file to ``state.json.corrupt-<n>``; ``None`` when there is no file.

        Raises:
            AlertStateError: the rename failed.
        """
        if not self.path.exists():
            return None
        n = 1
        while (target := self.path.with_name(f"{self.path.name}.corrupt-{n}")).exists():
            n += 1
        try:
            os.replace(self.path, target)
        except OSError as exc:
            raise AlertStateError(f"alert state {self.path}: cannot be moved aside: {exc.strerror}") from None
        return target


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
