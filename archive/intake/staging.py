"""Copy planned entries into a fresh staging folder on worker threads, hashing in the same pass.

This module owns the staging folder: :func:`new_staging_folder` creates a unique one (never reused),
:func:`stage_files` fills it. Each worker thread gets its own source handle from the reader
(``reader()`` is a context manager yielding a copy function), writes with plain ``open``/``write``
(the object store fsyncs later) and feeds SHA-256/SM3 through one :class:`MultiHasher`. The first
error stops every worker at its next chunk. Deciding what to copy is the readers' job; removing the
folder after a failure is the caller's (:func:`archive.intake.open_package`).
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from archive.intake.errors import IntakeError, SizeMismatch, StagingFailed
from archive.intake.guard import Declared, EntryGuard, PackageBudget
from integrity.hashing import MultiHasher
from standards.limits import Limits
from standards.package import StagedFile

E = TypeVar("E")


class Cancelled(Exception):
    """Raised inside a worker when another worker already failed."""


class Sink:
    """Where a reader pushes the bytes of one entry: limits, then hashes, then the staged file."""

    __slots__ = ("_add", "_stop", "_update", "_write", "name")

    def __init__(
        self,
        name: str,
        guard: EntryGuard,
        hasher: MultiHasher,
        write: Callable[[memoryview], object],
        stop: threading.Event,
    ) -> None:
        self.name = name
        self._add = guard.add
        self._update = hasher.update
        self._write = write
        self._stop = stop

    def write(self, data: bytes | memoryview) -> None:
        """Account for, hash and store one chunk.

        Raises:
            IntakeError: a limit was crossed (see :class:`EntryGuard`).
            StagingFailed: the staged file could not be written.
            Cancelled: another worker failed; stop now.
        """
        if self._stop.is_set():
            raise Cancelled
        view = memoryview(data)
        self._add(len(view))
        self._update(view)
        try:
            self._write(view)
        except OSError as exc:
            raise StagingFailed(
                f"staged file {self.name!r}: write failed: {exc.strerror}", path=self.name
            ) from None


@dataclass(frozen=True, slots=True)
class StageJob(Generic[E]):
    """One file to stage: its package-relative ``path``, what its header declares, the reader's entry."""

    path: str
    declared: Declared
    entry: E


CopyFn = Callable[[E, Sink], None]
Reader = Callable[[], AbstractContextManager[CopyFn[E]]]


def new_staging_folder(staging_root: Path) -> Path:
    """Create ``staging_root`` if needed and a fresh, unique, private folder inside it.

    Raises:
        StagingFailed: the folders cannot be created.
    """
    try:
        staging_root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="intake-", dir=staging_root))
    except OSError as exc:
        raise StagingFailed(
            f"staging root {str(staging_root)!r}: cannot create a folder: {exc.strerror}"
        ) from None


def _stage_one(
    root: Path,
    job: StageJob[E],
    copy: CopyFn[E],
    *,
    limits: Limits,
    budget: PackageBudget,
    algorithms: Sequence[str],
    stop: threading.Event,
    mismatch: type[IntakeError],
) -> tuple[StagedFile, str]:
    dest = root.joinpath(*job.path.split("/"))
    guard = EntryGuard(job.declared, limits, budget, mismatch)
    hasher = MultiHasher(algorithms)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        out = open(dest, "xb", buffering=0)  # noqa: SIM115 - closed below; "x": never overwrite
    except OSError as exc:
        raise StagingFailed(
            f"staged file {job.path!r}: cannot create: {exc.strerror}", path=job.path
        ) from None
    with out:
        copy(job.entry, Sink(job.path, guard, hasher, out.write, stop))
    guard.finish()
    digests = hasher.hexdigests()
    return StagedFile(path=job.path, size=guard.real, digests=digests), digests["sha256"]


def stage_files(
    root: Path,
    jobs: Sequence[StageJob[E]],
    reader: Reader[E],
    *,
    limits: Limits,
    algorithms: Sequence[str],
    workers: int,
    mismatch: type[IntakeError] = SizeMismatch,
    beside: Callable[[threading.Event], str] | None = None,
) -> tuple[list[tuple[StagedFile, str]], str | None]:
    """Copy every job into ``root`` on ``workers`` threads; return each staged file with its SHA-256.

    ``algorithms`` must include ``sha256``. Jobs are taken largest first so threads finish together.
    ``beside`` runs on the calling thread meanwhile (the ZIP digest) and its result is returned.

    Raises:
        IntakeError: the first refusal of any worker or of ``beside``; all workers are stopped and joined.
        StagingFailed: a staged file could not be written.
    """
    order = sorted(range(len(jobs)), key=lambda i: jobs[i].declared.size, reverse=True)
    pending: Iterator[int] = iter(order)
    lock = threading.Lock()
    stop = threading.Event()
    budget = PackageBudget(limits)
    results: list[tuple[StagedFile, str] | None] = [None] * len(jobs)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with reader() as copy:
                while not stop.is_set():
                    with lock:
                        index = next(pending, None)
                    if index is None:
                        return
                    results[index] = _stage_one(
                        root,
                        jobs[index],
                        copy,
                        limits=limits,
                        budget=budget,
                        algorithms=algorithms,
                        stop=stop,
                        mismatch=mismatch,
                    )
        except Cancelled:
            pass
        except BaseException as exc:  # handed to the calling thread below
            with lock:
                errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=work, name=f"intake-{n}", daemon=True) for n in range(workers)]
    side: str | None = None
    try:
        for t in threads:
            t.start()
        if beside is not None:
            side = beside(stop)
    except Cancelled:
        pass  # a worker failed first; its error is raised below
    except BaseException:
        stop.set()
        raise
    finally:
        for t in threads:
            with contextlib.suppress(RuntimeError):  # a thread that never started
                t.join()
    if errors:
        raise errors[0]
    staged = [r for r in results if r is not None]
    if len(staged) != len(jobs):  # pragma: no cover - only if a worker was cancelled without an error
        raise Cancelled
    return staged, side
