"""S3 object store (``name = "s3"``) over the ``minio`` SDK, for MinIO, Ceph RGW, AWS S3 (and moto in tests).

Every single-request PUT carries ``x-amz-sdk-checksum-algorithm: SHA256`` and
``x-amz-checksum-sha256: <base64>`` so the server verifies what it received (DESIGN.md "Hashes"; moto
needs them for Object Lock uploads), and the hex SHA-256 is kept as user metadata ``x-amz-meta-sha256``.
The source is read through :class:`~archive.stores.base.HashingReader`, so a wrong size or digest fails
before the last byte leaves the process and nothing is stored (a multipart upload is aborted).

Objects up to ``single_put_max`` bytes (default 256 MiB) go in one PUT; the SDK buffers that part in
memory. Larger objects use multipart (64 MiB parts) with ``x-amz-sdk-checksum-algorithm`` but no whole-object
``x-amz-checksum-sha256`` (S3 has no whole-object SHA-256 for multipart): there the server checks each
part's signed payload hash and we check the whole object locally. moto 5.2.5 accepts multipart uploads
with Object Lock retention this way (measured); real S3/MinIO multipart + Object Lock is not verified.

With ``object_lock`` configured, ``retain_until`` becomes COMPLIANCE retention (DESIGN.md: COMPLIANCE
for 永久); without it ``retain_until`` is ignored. Idempotency: HEAD first; an existing object with the
same size and ``x-amz-meta-sha256`` is a no-op. Two writers racing on one key both succeed as two
versions (the bucket is versioned, nothing is lost); reconciliation finds that.

Errors: connection failures and timeouts (urllib3) and 5xx after retries → :class:`StoreUnavailable`;
NoSuchKey → :class:`ObjectNotFound`; NoSuchBucket → :class:`StoreUnavailable`; any other S3 error →
:class:`S3StoreError` with the S3 code. A body that breaks off while it is read (reset, timeout) raises
:class:`StoreUnavailable` from ``read`` too, so callers never see a urllib3 type. ``stat`` reads
retention and legal hold from the HEAD response headers (moto answers GetObjectRetention with the
object body, so it cannot be used).

Outages are bounded (issue 7, item 5). Connection failures and 502/503/504 are retried ``retries``
times; a read that timed out is not (an endpoint that did not answer in ``timeout_s`` is hung, and
asking again only multiplies the wait). After an outage every call fails at once for
``outage_hold_s`` seconds instead of waiting for the endpoint again; then the next call tries the
network. Measured against a stalled endpoint (tests/outage): without the hold and with read retries,
``edossier ingest`` of 22 files waited 297 s before exiting 3 (every queued upload timed out 3×10 s).
"""

from __future__ import annotations

import base64
import hashlib
import io
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, NoReturn, cast

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import MinioException, S3Error
from minio.retention import Retention
from urllib3.connectionpool import ConnectionPool
from urllib3.response import BaseHTTPResponse

from archive.settings import S3Settings
from archive.stores.base import (
    DEFAULT_CONTENT_TYPE,
    HashingReader,
    ObjectInfo,
    PutResult,
    check_declared,
    check_retain_until,
    decide_existing,
)
from archive.stores.errors import (
    ObjectNotFound,
    S3StoreError,
    StoreMisconfigured,
    StoreUnavailable,
)
from archive.stores.keys import validate_key

SINGLE_PUT_MAX = 256 * 1024 * 1024
MULTIPART_PART_SIZE = 64 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024  # the SDK's (and S3's) smallest part
SHA256_META = "sha256"
_NOT_FOUND = {"NoSuchKey", "NoSuchVersion", "NotFound", "ResourceNotFound"}


#: After an outage, how long every call fails at once before the endpoint is tried again.
OUTAGE_HOLD_S = 5.0


class _Retry(urllib3.Retry):
    """urllib3's retries, except for a read that timed out (the endpoint is hung: do not wait again)."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> _Retry:
        if isinstance(error, urllib3.exceptions.ReadTimeoutError) and _pool is not None:
            raise urllib3.exceptions.MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _http_client(timeout_s: float, retries: int) -> urllib3.PoolManager:
    retry = _Retry(
        total=retries, connect=retries, read=retries, backoff_factor=0.2, status_forcelist=(502, 503, 504)
    )
    # maxsize: ingest uploads and audit workers share one store; one connection per host logged
    # "Connection pool is full" and re-connected for every request beyond the first thread.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s), retries=retry, maxsize=16
    )


class _Body:
    """An object's HTTP response body; a read that breaks off raises :class:`StoreUnavailable`."""

    def __init__(self, store: S3Store, key: str, response: BaseHTTPResponse) -> None:
        self._store = store
        self._key = key
        self._response = response

    def read(self, size: int = -1) -> bytes:
        try:
            return self._response.read(None if size < 0 else size)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._store._fail(exc, "read", self._key)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        try:
            return self._response.readinto(buffer)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._store._fail(exc, "read", self._key)


class S3Store:
    """A bucket-backed :class:`~archive.stores.base.ObjectStore`."""

    name = "s3"

    def __init__(
        self,
        settings: S3Settings,
        *,
        timeout_s: float = 10.0,
        retries: int = 2,
        single_put_max: int = SINGLE_PUT_MAX,
        outage_hold_s: float = OUTAGE_HOLD_S,
    ) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.single_put_max = single_put_max
        self.outage_hold_s = outage_hold_s
        self._outage: tuple[float, str] | None = None  # (monotonic time, message) of the last outage
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.secure,
            region=settings.region,
            http_client=_http_client(timeout_s, retries),
        )

    # ------------------------------------------------------------------ errors
    def _fail(self, exc: Exception, action: str, key: str | None = None) -> NoReturn:
        where = f" {key!r}" if key else ""
        if isinstance(exc, S3Error):
            if exc.code in _NOT_FOUND and key is not None:
                raise ObjectNotFound(key) from None
            if exc.code == "NoSuchBucket":
                raise StoreUnavailable(
                    f"s3 store could not {action}{where}: bucket {self.bucket!r} does not exist", path=key
                ) from None
            raise S3StoreError(
                f"s3 store could not {action}{where}: S3 error {exc.code}: {exc.message}",
                s3_code=exc.code,
                path=key,
            ) from None
        message = (
            f"s3 store could not {action}{where} at {self.settings.endpoint}: {type(exc).__name__}: {exc}"
        )
        self._outage = (time.monotonic(), message)
        raise StoreUnavailable(message, path=key) from None

    def _held(self, action: str, key: str | None = None) -> None:
        """Fail at once while an outage seen less than ``outage_hold_s`` ago holds (see the module).

        Raises:
            StoreUnavailable: the endpoint failed within the hold.
        """
        outage = self._outage
        if outage is None:
            return
        ago = time.monotonic() - outage[0]
        if ago >= self.outage_hold_s:
            return
        where = f" {key!r}" if key else ""
        raise StoreUnavailable(
            f"s3 store could not {action}{where}: endpoint {self.settings.endpoint} failed {ago:.1f} s ago,"
            f" not retried for {self.outage_hold_s:g} s ({outage[1]})",
            path=key,
        )

    # ------------------------------------------------------------------ bucket
    def ensure_bucket(self) -> None:
        """Create the bucket (with Object Lock when configured) or check an existing one.

        Raises:
            StoreMisconfigured: object_lock is configured but the existing bucket has no Object Lock or
                versioning is not enabled.
            StoreUnavailable: the endpoint cannot be reached.
            S3StoreError: the server refused.
        """
        self._held("create bucket")
        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket, object_lock=self.settings.object_lock)
                return
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self._fail(exc, "create bucket")
        self._check_lock()

    def _check_lock(self) -> None:
        if not self.settings.object_lock:
            return
        try:
            self.client.get_object_lock_config(self.bucket)
            status = self.client.get_bucket_versioning(self.bucket).status
        except S3Error as exc:
            if exc.code == "ObjectLockConfigurationNotFoundError":
                raise StoreMisconfigured(
                    f"bucket {self.bucket!r}: object_lock on, expected Object Lock enabled, found none"
                ) from None
            self._fail(exc, "read the Object Lock configuration")
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self._fail(exc, "read the Object Lock configuration")
        if status != "Enabled":
            raise StoreMisconfigured(f"bucket {self.bucket!r}: expected versioning Enabled, found {status!r}")

    def check_ready(self) -> None:
        """The endpoint answers, the bucket exists and (if configured) has Object Lock.

        Raises:
            StoreUnavailable: endpoint down or bucket missing.
            StoreMisconfigured: object_lock configured but the bucket lacks it.
        """
        self._held("reach the endpoint")
        try:
            found = self.client.bucket_exists(self.bucket)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self._fail(exc, "reach the endpoint")
        if not found:
            raise StoreUnavailable(f"s3 store: expected bucket {self.bucket!r} to exist, found none")
        self._check_lock()

    # ------------------------------------------------------------------ writes
    def put_file(
        self,
        key: str,
        path: Path,
        *,
        sha256: str,
        size: int,
        retain_until: datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> PutResult:
        """Upload the file at ``path`` (see the module docstring).

        Raises:
            InvalidKey, ChecksumMismatch, ObjectConflict, StoreUnavailable: see
                :class:`~archive.stores.base.ObjectStore`.
            S3StoreError: the server refused the upload.
            OSError: the source file cannot be opened.
        """
        validate_key(key)
        sha256 = check_declared(sha256, size)
        check_retain_until(retain_until)
        existing = self._decide_existing(key, size, sha256)
        if existing is not None:
            return existing
        with path.open("rb") as src:
            return self._upload(key, cast(BinaryIO, src), sha256, size, retain_until, content_type)

    def adopt_file(
        self,
        key: str,
        path: Path,
        *,
        sha256: str,
        size: int,
        retain_until: datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> PutResult:
        """Store a staging file; this backend cannot take files over, so it stores a copy (see put_file)."""
        return self.put_file(
            key, path, sha256=sha256, size=size, retain_until=retain_until, content_type=content_type
        )

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        retain_until: datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> PutResult:
        """Upload ``data``.

        Raises:
            InvalidKey, ObjectConflict, StoreUnavailable, S3StoreError: see :meth:`put_file`.
        """
        validate_key(key)
        check_retain_until(retain_until)
        sha256 = hashlib.sha256(data).hexdigest()
        existing = self._decide_existing(key, len(data), sha256)
        if existing is not None:
            return existing
        return self._upload(key, io.BytesIO(data), sha256, len(data), retain_until, content_type)

    def _decide_existing(self, key: str, size: int, sha256: str) -> PutResult | None:
        try:
            info = self.stat(key)
        except ObjectNotFound:
            return None
        return decide_existing(key, size=size, sha256=sha256, found_size=info.size, found_sha256=info.sha256)

    def _upload(
        self,
        key: str,
        src: BinaryIO,
        sha256: str,
        size: int,
        retain_until: datetime | None,
        content_type: str,
    ) -> PutResult:
        # moto (and S3 for Object Lock uploads) wants the checksum algorithm header on every upload.
        metadata: dict[str, Any] = {SHA256_META: sha256, "x-amz-sdk-checksum-algorithm": "SHA256"}
        multipart_part = max(MIN_PART_SIZE, min(MULTIPART_PART_SIZE, self.single_put_max))
        if size <= max(self.single_put_max, multipart_part):
            part_size = max(size, MIN_PART_SIZE)  # one part = one PutObject request
            metadata["x-amz-checksum-sha256"] = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        else:
            part_size = multipart_part  # no whole-object SHA-256 exists for multipart; checked locally
        retention = None
        if retain_until is not None and self.settings.object_lock:
            retention = Retention(COMPLIANCE, retain_until)
        reader = HashingReader(src, key=key, size=size, sha256=sha256)
        self._held("upload", key)
        try:
            result = self.client.put_object(
                self.bucket,
                key,
                cast(BinaryIO, reader),
                size,
                content_type=content_type,
                metadata=metadata,
                part_size=part_size,
                num_parallel_uploads=1,
                retention=retention,
            )
            if retention is not None and size > part_size:
                # moto drops lock headers given to CreateMultipartUpload; set retention explicitly
                # (PutObjectRetention on the new version) so a multipart object is locked too.
                self.client.set_object_retention(self.bucket, key, retention, version_id=result.version_id)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self._fail(exc, "upload", key)
        return PutResult(key=key, created=True)

    # ------------------------------------------------------------------ reads
    @contextmanager
    def _open(self, key: str) -> Iterator[BinaryIO]:
        self._held("open", key)
        try:
            response = self.client.get_object(self.bucket, key)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self._fail(exc, "open", key)
        try:
            yield cast(BinaryIO, _Body(self, key, response))
        finally:
            response.close()
            response.release_conn()

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """The HTTP response body as a stream (``read``, ``readinto``); closed and released on exit.

        Raises:
            InvalidKey, ObjectNotFound, StoreUnavailable, S3StoreError: see
                :class:`~archive.stores.base.ObjectStore`; ``StoreUnavailable`` also from ``read``
                when the body breaks off.
        """
        validate_key(key)
        return self._open(key)

    def stat(self, key: str) -> ObjectInfo:
        """Size, ``x-amz-meta-sha256``, version, retention and legal hold from one HEAD request.

        Raises:
            InvalidKey, ObjectNotFound, StoreUnavailable, S3StoreError: see :meth:`open`.
        """
        validate_key(key)
        self._held("stat", key)
        try:
            obj = self.client.stat_object(self.bucket, key)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self._fail(exc, "stat", key)
        headers = {k.lower(): v for k, v in (obj.metadata or {}).items()}
        until_text = headers.get("x-amz-object-lock-retain-until-date")
        hold = headers.get("x-amz-object-lock-legal-hold")
        return ObjectInfo(
            key=key,
            size=int(obj.size or 0),
            sha256=headers.get(f"x-amz-meta-{SHA256_META}"),
            retain_until=datetime.fromisoformat(until_text.replace("Z", "+00:00")) if until_text else None,
            retention_mode=headers.get("x-amz-object-lock-mode"),
            legal_hold=(hold.upper() == "ON") if hold else (False if self.settings.object_lock else None),
            version_id=obj.version_id,
        )

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored (one HEAD request).

        Raises:
            InvalidKey, StoreUnavailable, S3StoreError: see :meth:`open`.
        """
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def iter_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` (ListObjectsV2, latest versions): key, size; sha256 is ``None``.

        Raises:
            StoreUnavailable, S3StoreError: the listing failed.
        """
        self._held("list", prefix or "/")
        try:
            for obj in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                if obj.is_dir or obj.object_name is None:
                    continue
                yield ObjectInfo(key=obj.object_name, size=int(obj.size or 0), version_id=obj.version_id)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self._fail(exc, "list", prefix or "/")
