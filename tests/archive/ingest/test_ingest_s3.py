"""Ingest into an S3 store with Object Lock, over HTTP to a moto_server (see tests/support/s3.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from api.wiring import initialise, open_installation
from archive.settings import S3Settings, Settings
from archive.stores.keys import blob_key, manifest_key

pytestmark = pytest.mark.s3


def test_ingest_to_s3_locks_every_object_for_the_retention_period(
    tmp_path: Path, s3_endpoint: str, unique_bucket: str, sample_zip: Path
) -> None:
    s3 = S3Settings(endpoint=s3_endpoint, access_key="test", secret_key="test", bucket=unique_bucket)
    settings = Settings(data_dir=tmp_path / "data", store="s3", s3=s3)
    initialise(settings)
    inst = open_installation(settings)
    try:
        outcome = inst.ingest_service().ingest(sample_zip)
        again = inst.ingest_service().ingest(sample_zip)
    finally:
        inst.close()

    assert outcome.status == "archived", outcome.errors
    assert again.status == "already_archived" and again.archive_id == outcome.archive_id
    assert outcome.archive_id is not None
    manifest = inst.store.stat(manifest_key(outcome.archive_id, 1))
    assert manifest.retention_mode == "COMPLIANCE"
    assert manifest.retain_until is not None
    # the sample is 永久 or 长期: locked for at least 60 years
    assert manifest.retain_until > dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 59)
    with inst.store.open(manifest_key(outcome.archive_id, 1)) as f:
        assert hashlib.sha256(f.read()).hexdigest() == outcome.manifest_sha256
    keys = [info.key for info in inst.store.iter_objects("blobs/")]
    assert keys and all(k.startswith("blobs/sha256/") for k in keys)
    blob = inst.store.stat(keys[0])
    assert blob.retention_mode == "COMPLIANCE"
    assert blob_key(keys[0].rsplit("/", 1)[1]) == keys[0]
