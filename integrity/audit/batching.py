"""Splitting an audit run into batches that jobs can take one at a time (issue 5, item 2).

Pure: given each dossier with the store keys of its blobs (content and metadata) and the blobs no
document references, :func:`plan_batches` returns batches of about ``objects_per_batch`` objects.
A dossier's own work (its manifest, AIP files, ledger binding and BC stage) stays in one batch; its
blobs follow it and may continue into the next batches, so one dossier of thousands of documents is
still shared by several workers. Every blob key is in exactly one batch — after the first dossier
that lists it — so two workers never check, or record, the same object. The order is deterministic (sorted input in,
numbered batches out), so a plan can be recomputed and compared.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

#: Objects (blobs, manifests, AIP files) one batch holds by default.
OBJECTS_PER_BATCH = 500
#: Objects a dossier adds besides its blobs: the manifest, 说明文件 and 目录文件.
DOSSIER_OBJECTS = 3


@dataclass(frozen=True)
class PlannedBatch:
    """The work of one job: dossiers (ledger binding, manifest, AIP files), blobs, BC dossiers."""

    number: int
    archive_ids: tuple[str, ...] = ()
    blob_keys: tuple[str, ...] = ()
    bc_ids: tuple[str, ...] = ()

    @property
    def objects(self) -> int:
        """Objects this batch reads for fixity (blobs plus each dossier's own files)."""
        return len(self.blob_keys) + DOSSIER_OBJECTS * len(self.archive_ids)


@dataclass
class _Open:
    archive_ids: list[str] = field(default_factory=list)
    blob_keys: list[str] = field(default_factory=list)
    bc_ids: list[str] = field(default_factory=list)
    bytes: int = 0

    @property
    def objects(self) -> int:
        return len(self.blob_keys) + DOSSIER_OBJECTS * len(self.archive_ids)

    def close(self, number: int) -> PlannedBatch:
        return PlannedBatch(number, tuple(self.archive_ids), tuple(self.blob_keys), tuple(self.bc_ids))


def plan_batches(
    dossiers: Sequence[tuple[str, Sequence[str]]],
    loose_blobs: Sequence[str] = (),
    *,
    bc: Collection[str] = frozenset(),
    objects_per_batch: int = OBJECTS_PER_BATCH,
    sizes: Mapping[str, int] | None = None,
    bytes_per_batch: int | None = None,
) -> list[PlannedBatch]:
    """Batches numbered from 1 covering every dossier and every blob key exactly once.

    ``dossiers`` is ``(archive_id, blob store keys)`` per dossier; ``loose_blobs`` are catalogued
    blobs no document references (checked in the last batches); ``bc`` names the dossiers whose
    batch also runs the BC stage. With ``bytes_per_batch``, a batch also closes before its blobs
    (sizes from ``sizes``) would pass that many bytes. An empty catalog gives no batch.

    >>> plan = plan_batches([("A", ["x", "y"]), ("B", ["y", "z"])], objects_per_batch=4)
    >>> [(b.archive_ids, b.blob_keys) for b in plan]
    [(('A',), ('x',)), (('B',), ('y',)), ((), ('z',))]

    Raises:
        ValueError: ``objects_per_batch`` < 1, or an archive id listed twice.
    """
    if objects_per_batch < 1:
        raise ValueError(f"objects_per_batch must be >= 1, found {objects_per_batch}")
    if bytes_per_batch is not None and bytes_per_batch < 1:
        raise ValueError(f"bytes_per_batch must be >= 1 or None, found {bytes_per_batch}")
    size_of = sizes or {}
    seen_ids: set[str] = set()
    seen_keys: set[str] = set()
    batches: list[PlannedBatch] = []
    current = _Open()

    def close_if_full(extra: int, extra_bytes: int) -> None:
        nonlocal current
        too_many = current.objects + extra > objects_per_batch
        too_big = bytes_per_batch is not None and current.bytes + extra_bytes > bytes_per_batch
        if current.objects and (too_many or too_big):
            batches.append(current.close(len(batches) + 1))
            current = _Open()

    for archive_id, keys in dossiers:
        if archive_id in seen_ids:
            raise ValueError(f"dossiers: archive id {archive_id!r} is listed twice")
        seen_ids.add(archive_id)
        own = [k for k in dict.fromkeys(keys) if k not in seen_keys]
        seen_keys.update(own)
        close_if_full(DOSSIER_OBJECTS, 0)
        current.archive_ids.append(archive_id)
        if archive_id in bc:
            current.bc_ids.append(archive_id)
        for key in own:
            close_if_full(1, size_of.get(key, 0))
            current.blob_keys.append(key)
            current.bytes += size_of.get(key, 0)
    for key in dict.fromkeys(loose_blobs):
        if key in seen_keys:
            continue
        seen_keys.add(key)
        close_if_full(1, size_of.get(key, 0))
        current.blob_keys.append(key)
        current.bytes += size_of.get(key, 0)
    if current.objects:
        batches.append(current.close(len(batches) + 1))
    return batches


def limits_for_workers(
    objects: int, total_bytes: int, workers: int, objects_per_batch: int = OBJECTS_PER_BATCH
) -> tuple[int, int | None]:
    """Batch limits ``(objects, bytes)`` that give ``workers`` processes about four batches each.

    One worker keeps the defaults (no byte limit); more workers get smaller batches, so the last
    batches do not leave a worker idle while another finishes a long one.

    >>> limits_for_workers(5000, 10**9, 1)
    (500, None)
    >>> limits_for_workers(5000, 10**9, 2)
    (500, 125000000)

    Raises:
        ValueError: ``workers`` < 1.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, found {workers}")
    if workers == 1:
        return objects_per_batch, None
    parts = 4 * workers
    return min(objects_per_batch, max(1, math.ceil(objects / parts))), max(1, math.ceil(total_bytes / parts))
