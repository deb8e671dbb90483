"""After a checkpoint is committed: an RFC 3161 timestamp and copies to the witness sinks.

Both are best effort and happen after the ledger transaction has committed – the ledger is the
source of truth, and an outage of a TSA or a witness must never undo or block an archive. Failures
are logged and returned in a :class:`PublicationReport` so callers can show them; the timestamp is
stored in its own transaction (``checkpoint_timestamps``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from sqlalchemy.orm import Session, sessionmaker

from integrity.ledger.store import StoredCheckpoint
from integrity.ledger.timestamps import timestamp_checkpoint
from integrity.timestamp import TsaClient
from integrity.witness import PublishResult, WitnessSink, publish_checkpoint
from standards.errors import EdossierError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublicationReport:
    """What happened to one checkpoint after commit."""

    size: int
    timestamped: bool | None  # None: no TSA configured
    timestamp_error: str | None = None
    witnesses: tuple[PublishResult, ...] = field(default_factory=tuple)

    @property
    def witness_failures(self) -> list[PublishResult]:
        return [r for r in self.witnesses if not r.ok]


class CheckpointPublisher:
    """Timestamps and publishes committed checkpoints (one per installation)."""

    def __init__(
        self,
        *,
        write_sessions: sessionmaker[Session],
        tsa: TsaClient | None,
        tsa_roots: Sequence[x509.Certificate],
        sinks: Sequence[WitnessSink],
        clock: Callable[[], dt.datetime],
    ) -> None:
        if tsa is not None and not tsa_roots:
            raise ValueError(
                "a TSA is configured without trusted roots (tsa_roots): its tokens could not be verified"
            )
        self.write_sessions = write_sessions
        self.tsa = tsa
        self.tsa_roots = list(tsa_roots)
        self.sinks = list(sinks)
        self.clock = clock

    def after_commit(self, checkpoint: StoredCheckpoint) -> PublicationReport:
        """Timestamp (when a TSA is configured) and publish ``checkpoint``; never raises for an outage."""
        timestamped: bool | None = None
        error: str | None = None
        if self.tsa is not None and checkpoint.id is not None:
            try:
                with self.write_sessions() as session, session.begin():
                    timestamp_checkpoint(session, checkpoint.id, self.tsa, self.tsa_roots, now=self.clock())
                timestamped = True
            except EdossierError as exc:
                timestamped, error = False, f"{exc.code}: {exc.message}"
                log.warning(
                    "checkpoint %s (size %s) not timestamped: %s", checkpoint.id, checkpoint.size, error
                )
        results = (
            tuple(publish_checkpoint(checkpoint.note, checkpoint.size, self.sinks)) if self.sinks else ()
        )
        for r in results:
            if not r.ok:
                log.warning(
                    "checkpoint size %s not published to %s: %s %s", r.size, r.sink, r.error_code, r.message
                )
        return PublicationReport(
            size=checkpoint.size, timestamped=timestamped, timestamp_error=error, witnesses=results
        )
