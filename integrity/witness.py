"""Publication of signed checkpoints to witnesses outside the catalog (issue 3, item 7).

Every signed checkpoint note is also written to sinks the catalog database cannot rewrite: a
directory (another disk, a mounted share), a second S3 bucket, an HTTP webhook. An operator who
later rolls the ledger back or forks it then contradicts copies held elsewhere. Publication is
best effort *after* the ledger transaction commits — the ledger is the source of truth — so
:func:`publish_checkpoint` tries every sink and reports each outcome without raising.

A sink never replaces a different note for the same tree size: two different signed checkpoints
of one size are a split view (C2SP tlog-witness calls this a conflict), reported as
:class:`WitnessConflict`. Re-publishing the identical note is a no-op. Signing and consistency
checking are the ledger service's job; this module only moves text.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from archive.settings import S3Settings, Settings
from archive.stores.errors import ObjectConflict
from standards.errors import EdossierError, StorageError, StorageUnavailable, VerificationFailed

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_S = 5.0
S3_TIMEOUT_S = 5.0
CONTENT_TYPE = "text/plain; charset=utf-8"
S3_PREFIX = "checkpoints/"


# ---------------------------------------------------------------- errors
class WitnessConflict(VerificationFailed):
    """A sink already holds a *different* signed note for the same tree size (a split view)."""

    code = "witness_conflict"


class WitnessUnavailable(StorageUnavailable):
    """A sink could not be reached (directory missing, endpoint down, timeout)."""

    code = "witness_unavailable"


class WitnessRejected(StorageError):
    """A sink answered but refused the note (HTTP error status, S3 error, write error)."""

    code = "witness_rejected"


# ---------------------------------------------------------------- sinks
class WitnessSink(Protocol):
    """Something a signed checkpoint can be published to."""

    @property
    def name(self) -> str:
        """A short description for reports (``dir:/path``, ``s3:bucket``, ``webhook:https://...``)."""
        ...

    def publish(self, note: str, size: int) -> None:
        """Publish ``note`` (the checkpoint of tree ``size``); identical re-publication is a no-op.

        Raises:
            WitnessConflict, WitnessUnavailable, WitnessRejected.
        """
        ...


@dataclass(frozen=True)
class PublishResult:
    """The outcome of publishing one note to one sink."""

    sink: str
    size: int
    ok: bool
    error_code: str | None = None
    message: str | None = None


class DirectorySink:
    """Writes ``<dir>/<size>.checkpoint`` atomically (temp file + fsync + hard link, never overwrite)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def name(self) -> str:
        return f"dir:{self.path}"

    def target(self, size: int) -> Path:
        """The file a note of tree ``size`` goes to."""
        return self.path / f"{size}.checkpoint"

    def publish(self, note: str, size: int) -> None:
        """Write the note unless the same note is there; refuse a different one.

        Raises:
            WitnessConflict: ``<size>.checkpoint`` exists with different content.
            WitnessUnavailable: the directory does not exist.
            WitnessRejected: the file cannot be written or read.
        """
        data = note.encode("utf-8")
        target = self.target(size)
        if not self.path.is_dir():
            raise WitnessUnavailable(f"witness directory {self.path} does not exist", path=str(self.path))
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{size}.", suffix=".tmp", dir=self.path)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                try:
                    os.link(tmp, target)  # atomic and never replaces an existing file
                except FileExistsError:
                    self._compare_existing(target, data)
                    return
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            _fsync_dir(self.path)
        except (WitnessConflict, WitnessRejected):
            raise
        except OSError as exc:
            raise WitnessRejected(
                f"witness directory {self.path}: cannot write {target.name}: {exc.strerror}", path=str(target)
            ) from None

    @staticmethod
    def _compare_existing(target: Path, data: bytes) -> None:
        try:
            found = target.read_bytes()
        except OSError as exc:
            raise WitnessRejected(f"witness file {target}: cannot be read: {exc.strerror}") from None
        if not hmac.compare_digest(found, data):
            raise WitnessConflict(
                f"witness file {target.name}: holds another note for this size:"
                f" expected sha256 {hashlib.sha256(data).hexdigest()},"
                f" found {hashlib.sha256(found).hexdigest()}",
                path=str(target),
            )


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Sink:
    """Puts ``checkpoints/<size>`` in a second bucket through :class:`archive.stores.s3.S3Store`.

    Each PUT carries ``x-amz-checksum-sha256`` (the store does that), so the server checks what it
    received; with Object Lock on that bucket the notes cannot be deleted either. The bucket must
    exist (``ensure_bucket`` creates it).
    """

    def __init__(self, settings: S3Settings, *, timeout_s: float = S3_TIMEOUT_S) -> None:
        from archive.stores.s3 import S3Store  # minio is imported only when an S3 witness is configured

        self.store = S3Store(settings, timeout_s=timeout_s, retries=1)

    @property
    def name(self) -> str:
        return f"s3:{self.store.bucket}"

    def ensure_bucket(self) -> None:
        """Create the witness bucket (or check it). Raises as :meth:`S3Store.ensure_bucket`."""
        self.store.ensure_bucket()

    def publish(self, note: str, size: int) -> None:
        """Put the note unless the same note is there; refuse a different one.

        Raises:
            WitnessConflict: ``checkpoints/<size>`` exists with different content.
            WitnessUnavailable: the endpoint cannot be reached or the bucket is missing.
            WitnessRejected: the server refused the upload.
        """
        key = f"{S3_PREFIX}{size}"
        try:
            self.store.put_bytes(key, note.encode("utf-8"), content_type=CONTENT_TYPE)
        except ObjectConflict as exc:
            raise WitnessConflict(f"witness bucket {self.store.bucket}: {exc.message}", path=key) from None
        except StorageUnavailable as exc:
            raise WitnessUnavailable(f"witness bucket {self.store.bucket}: {exc.message}", path=key) from None
        except EdossierError as exc:
            raise WitnessRejected(f"witness bucket {self.store.bucket}: {exc.message}", path=key) from None


class WebhookSink:
    """POSTs the note as ``text/plain; charset=utf-8`` to an ``http(s)`` URL with a short timeout.

    Headers ``X-Checkpoint-Size`` (tree size) and ``X-Checkpoint-SHA256`` (hex of the note bytes)
    let the receiver file it. A 409 answer is read as the receiver's conflict (it holds another note
    for that size); any other non-2xx answer is a rejection.
    """

    def __init__(self, url: str, *, timeout_s: float = WEBHOOK_TIMEOUT_S) -> None:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"webhook URL: expected an http or https URL, found scheme {scheme!r}")
        self.url = url
        self.timeout_s = timeout_s

    @property
    def name(self) -> str:
        return f"webhook:{self.url}"

    def publish(self, note: str, size: int) -> None:
        """POST the note.

        Raises:
            WitnessConflict: the receiver answered 409 Conflict.
            WitnessRejected: the receiver answered another non-2xx status.
            WitnessUnavailable: connection refused, DNS failure or timeout.
        """
        data = note.encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=data,
            method="POST",
            headers={
                "Content-Type": CONTENT_TYPE,
                "X-Checkpoint-Size": str(size),
                "X-Checkpoint-SHA256": hashlib.sha256(data).hexdigest(),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WitnessUnavailable(f"witness webhook {self.url}: unreachable ({reason})") from None
        if status == 409:
            raise WitnessConflict(
                f"witness webhook {self.url}: answered 409, it holds another note for {size}"
            )
        if not 200 <= status < 300:
            raise WitnessRejected(f"witness webhook {self.url}: expected a 2xx answer, found {status}")


# ---------------------------------------------------------------- wiring and publication
def sinks_from_settings(settings: Settings) -> list[WitnessSink]:
    """The sinks an installation configured: ``witness_dirs``, ``witness_s3``, ``witness_webhooks``.

    Raises:
        ValueError: a webhook URL is not http(s).
    """
    sinks: list[WitnessSink] = [DirectorySink(p) for p in settings.witness_dirs]
    if settings.witness_s3 is not None:
        sinks.append(S3Sink(settings.witness_s3))
    sinks.extend(WebhookSink(url) for url in settings.witness_webhooks)
    return sinks


def note_size(note: str) -> int:
    """The tree size on line 2 of a checkpoint note (C2SP tlog-checkpoint), without verifying it.

    Raises:
        ValueError: line 2 is not a decimal number.
    """
    lines = note.split("\n", 2)
    if len(lines) < 3 or not lines[1].isascii() or not lines[1].isdigit():
        raise ValueError("checkpoint note: line 2 must be the decimal tree size")
    return int(lines[1])


def publish_checkpoint(note: str, size: int, sinks: Iterable[WitnessSink]) -> list[PublishResult]:
    """Publish one signed checkpoint to every sink; report each outcome, never raise for a sink.

    Raises:
        ValueError: ``size`` is negative or is not the size the note states (a caller bug).
    """
    if size < 0 or note_size(note) != size:
        raise ValueError(f"checkpoint size: note states {note_size(note)}, caller passed {size}")
    results: list[PublishResult] = []
    for sink in sinks:
        try:
            sink.publish(note, size)
        except EdossierError as exc:
            log.warning("witness %s: checkpoint %d not published: %s", sink.name, size, exc.message)
            results.append(PublishResult(sink.name, size, False, exc.code, exc.message))
        except Exception as exc:  # best effort: an unexpected sink failure must not stop the others
            log.exception("witness %s: unexpected failure publishing checkpoint %d", sink.name, size)
            results.append(
                PublishResult(sink.name, size, False, "witness_error", f"{type(exc).__name__}: {exc}")
            )
        else:
            results.append(PublishResult(sink.name, size, True))
    return results


def failures(results: Sequence[PublishResult]) -> list[PublishResult]:
    """The results that did not succeed."""
    return [r for r in results if not r.ok]
