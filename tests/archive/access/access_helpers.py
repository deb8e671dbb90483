"""Helpers of the access tests: the archived sample (:class:`Archived`), its 顺序号 and fixed times.

:class:`Archived` reads the catalog, tampers with stored objects behind the application's back (fs: the
file; S3: a new object version, as someone holding write credentials would) and reads the ledger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select

from api.wiring import Installation
from archive.access.service import DocumentInfo, find_document
from archive.catalog.models import LedgerLeaf
from archive.stores.s3 import S3Store
from tests.support.alert_receivers import Webhook

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
NOW = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
BIG, SMALL, INTERNAL = 1, 2, 7  # 顺序号: a file over 1 MiB, a ~400 KB image, the 副卷 审理报告
CHUNK = 64 * 1024


@dataclasses.dataclass
class Archived:
    inst: Installation
    archive_id: str
    sample: Path
    hook: Webhook

    def doc(self, sequence: int) -> DocumentInfo:
        with self.inst.sessions() as session:
            info = find_document(session, self.archive_id, sequence)
        assert info is not None
        return info

    def original(self, sequence: int) -> bytes:
        return (self.sample / self.doc(sequence).file_path).read_bytes()

    def tamper(self, sequence: int, data: bytes) -> None:
        """Replace the stored bytes behind the application's back (fs: the file; S3: a new version)."""
        key = self.doc(sequence).store_key
        if isinstance(self.inst.store, S3Store):
            self.inst.store.client.put_object(self.inst.store.bucket, key, io.BytesIO(data), len(data))
            return
        path = self.inst.settings.store_dir.joinpath(*key.split("/"))
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
        path.write_bytes(data)

    def leaves(self, kind: str = "dossier.accessed") -> list[dict[str, object]]:
        with self.inst.sessions() as session:
            rows = session.scalars(
                select(LedgerLeaf).where(LedgerLeaf.kind == kind).order_by(LedgerLeaf.leaf_index)
            )
            return [json.loads(row.data) for row in rows]

    def ledger_size(self) -> int:
        with self.inst.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(LedgerLeaf)) or 0)


def consume(chunks: Iterator[bytes], into: list[bytes]) -> None:
    """Forward chunks as an HTTP response would, keeping what was sent."""
    for chunk in chunks:
        into.append(chunk)
