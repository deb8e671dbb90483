"""S3 backend behaviour beyond the contract: Object Lock, outages, multipart, misconfigured buckets."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from minio.error import S3Error

from archive.stores import StoreMisconfigured, StoreUnavailable
from tests.support.s3 import free_port, make_s3_store

pytestmark = pytest.mark.s3


def test_delete_of_locked_version_is_refused_by_the_store(s3_endpoint: str, unique_bucket: str) -> None:
    store = make_s3_store(s3_endpoint, unique_bucket)
    store.ensure_bucket()
    until = datetime.now(UTC) + timedelta(days=1)
    store.put_bytes("aips/L/v1/manifest.json", b"{}", retain_until=until)
    info = store.stat("aips/L/v1/manifest.json")
    assert info.version_id
    assert info.retention_mode == "COMPLIANCE"
    assert info.legal_hold is False
    with pytest.raises(S3Error):
        store.client.remove_object(unique_bucket, "aips/L/v1/manifest.json", version_id=info.version_id)
    assert store.exists("aips/L/v1/manifest.json")


def test_put_sends_sha256_checksum_and_metadata(s3_endpoint: str, unique_bucket: str) -> None:
    store = make_s3_store(s3_endpoint, unique_bucket)
    store.ensure_bucket()
    store.put_bytes("blobs/x", b"abc")
    stat = store.client.stat_object(unique_bucket, "blobs/x")
    headers = {k.lower(): v for k, v in (stat.metadata or {}).items()}
    assert headers["x-amz-meta-sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert headers["x-amz-sdk-checksum-algorithm"] == "SHA256"


def test_check_ready_reports_closed_port_as_unavailable_fast() -> None:
    store = make_s3_store(f"127.0.0.1:{free_port()}", "edossier-closed")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.check_ready()
    assert time.monotonic() - started < 5


def test_put_to_closed_port_is_unavailable_not_tampering() -> None:
    store = make_s3_store(f"127.0.0.1:{free_port()}", "edossier-closed")
    with pytest.raises(StoreUnavailable):
        store.put_bytes("blobs/x", b"abc")


def test_check_ready_reports_missing_bucket(s3_endpoint: str, unique_bucket: str) -> None:
    with pytest.raises(StoreUnavailable, match="bucket"):
        make_s3_store(s3_endpoint, unique_bucket).check_ready()


def test_object_lock_config_refuses_bucket_without_lock(s3_endpoint: str, unique_bucket: str) -> None:
    make_s3_store(s3_endpoint, unique_bucket, object_lock=False).ensure_bucket()
    locked = make_s3_store(s3_endpoint, unique_bucket, object_lock=True)
    with pytest.raises(StoreMisconfigured):
        locked.ensure_bucket()
    with pytest.raises(StoreMisconfigured):
        locked.check_ready()


def test_retain_until_is_ignored_without_object_lock(s3_endpoint: str, unique_bucket: str) -> None:
    store = make_s3_store(s3_endpoint, unique_bucket, object_lock=False)
    store.ensure_bucket()
    store.put_bytes("k", b"v", retain_until=datetime.now(UTC) + timedelta(days=1))
    assert store.stat("k").retain_until is None


def test_multipart_upload_above_single_put_max_round_trips_with_retention(
    s3_endpoint: str, unique_bucket: str, tmp_path: Path
) -> None:
    store = make_s3_store(s3_endpoint, unique_bucket, single_put_max=5 * 1024 * 1024)
    store.ensure_bucket()
    data = os.urandom(70 * 1024 * 1024 // 10)  # 7 MiB > single_put_max → multipart
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    assert store.put_file("blobs/big", path, sha256=sha, size=len(data), retain_until=until).created
    info = store.stat("blobs/big")
    assert (info.size, info.sha256, info.retain_until) == (len(data), sha, until)
    with store.open("blobs/big") as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == sha
