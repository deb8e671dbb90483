"""Store fixtures: one ``store`` fixture parametrised over every backend (fs, memory, s3 on moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.stores import FsStore, MemoryStore, ObjectStore
from tests.support.s3 import make_s3_store


@pytest.fixture(params=["fs", "memory", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "fs":
        fs = FsStore(tmp_path / "objects")
        fs.ensure_root()
        yield fs
    elif request.param == "memory":
        yield MemoryStore()
    else:
        endpoint: str = request.getfixturevalue("s3_endpoint")
        bucket: str = request.getfixturevalue("unique_bucket")
        s3 = make_s3_store(endpoint, bucket)
        s3.ensure_bucket()
        yield s3
