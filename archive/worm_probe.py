"""WORM probe: prove (or disprove) that the object store really refuses to lose a locked object.

Some S3-compatible stores accept Object Lock settings without enforcing them (moto, the emulator the
tests use, lets a COMPLIANCE retention be shortened), so "the bucket has Object Lock" proves nothing.
:func:`probe_worm` writes a canary object ``probe/worm-<uuid>`` with a COMPLIANCE retention of a few
minutes (through the S3 store's minio client, with the checksum headers the store always sends) and
then tries, one by one, what WORM must refuse:

1. ``lock_applied`` – the stored version reports mode COMPLIANCE and the retain-until date we set;
2. ``delete_refused`` – deleting the locked version (DELETE with its version id);
3. ``bypass_refused`` – deleting it with ``x-amz-bypass-governance-retention: true``;
4. ``overwrite_keeps_version`` – a PUT to the same key leaves the old version's bytes and lock intact;
5. ``shortening_refused`` – PutObjectRetention with an earlier date;
6. ``lock_removal_refused`` – PutObjectRetention downgrading COMPLIANCE to GOVERNANCE;
7. ``canary_left_locked`` – after everything, every canary version is still COMPLIANCE-locked.

Whatever the store wrongly accepts is put back at once (the date is extended again, the mode set back
to COMPLIANCE; a shortened date still lies in the future), so the canary is never left unlocked. The
canary is never deleted by us; it expires with its retention and reconciliation ignores ``probe/``.

The verdict (:func:`decide_verdict`, pure): ``enforced`` when every check passed, ``not_enforced``
when any failed (the summary names what, e.g. "retention can be shortened"), ``unreachable`` when
the store could not be reached (an outage, never evidence) and ``unsupported`` for stores without
retention (fs, memory: the summary says what protects them instead). Scheduling probes and alerting
on their result are left to the audit runner.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from archive.stores.base import COMPLIANCE, ObjectStore
from archive.stores.errors import S3StoreError, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from archive.stores.s3 import S3Store

PROBE_PREFIX = "probe/"
#: How long the canary is locked: long enough to run every check, short enough to expire soon.
PROBE_RETENTION = dt.timedelta(minutes=5)
#: How much earlier the shortening attempt asks for; the shortened date is still in the future.
SHORTEN_BY = dt.timedelta(minutes=2)
GOVERNANCE = "GOVERNANCE"

Verdict = Literal["enforced", "not_enforced", "unsupported", "unreachable"]

#: What a failed check means, in the words the summary uses (English first: it is what operators search).
FAILURE_MEANING = {
    "locked_write": "the store refuses to write a locked object (bucket without Object Lock?)（无法写入锁定对象）",
    "lock_applied": "lock settings are accepted but not applied（锁定设置被接受但未生效）",
    "delete_refused": "a locked version can be deleted（锁定版本可被删除）",
    "bypass_refused": "the COMPLIANCE lock can be bypassed（合规锁可被绕过）",
    "overwrite_keeps_version": "an overwrite loses the locked version（覆盖写丢失了锁定版本）",
    "shortening_refused": "retention can be shortened（保留期可被缩短）",
    "lock_removal_refused": "the lock can be removed (COMPLIANCE downgraded to GOVERNANCE)（锁定可被解除）",
    "canary_left_locked": "the canary was left without its lock（探测对象未保持锁定）",
}

UNSUPPORTED_DETAIL = {
    "fs": (
        "文件系统存储没有保留期（Object Lock）可供验证。保护它的是：对象文件只读（0444）、服务从不覆盖或删除"
        "（存储接口没有 delete）、目录与签名账本记录了每个对象的 SHA-256/SM3，定期固定性审计与核对能发现改动"
        "——但不能阻止有权限的人删除。需要可证明的 WORM 时请使用启用 Object Lock（COMPLIANCE）的 S3/MinIO，"
        "或在文件系统层使用不可变属性（chattr +i）、WORM 存储设备或只读快照。"
    ),
    "memory": "内存存储仅用于测试：没有保留期，进程结束即全部丢失，不能作为档案存储。",
}


@dataclass(frozen=True)
class ProbeCheck:
    """One attempt of the probe: ``passed`` is True when the store behaved as WORM requires."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ProbeReport:
    """Everything a probe found: the checks in the order they ran, the verdict and a summary."""

    store: str
    verdict: Verdict
    summary: str
    checks: list[ProbeCheck] = field(default_factory=list)
    key: str | None = None
    at: dt.datetime | None = None

    @property
    def enforced(self) -> bool:
        """True only when the store proved WORM (at least one check, all passed)."""
        return self.verdict == "enforced"

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``edossier storage probe --json``."""
        return {
            "store": self.store,
            "verdict": self.verdict,
            "summary": self.summary,
            "key": self.key,
            "at": self.at.isoformat() if self.at else None,
            "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks],
        }


# ---------------------------------------------------------------- pure decisions
def decide_verdict(checks: Sequence[ProbeCheck]) -> Verdict:
    """``enforced`` when there is at least one check and all passed, else ``not_enforced``.

    An aggregate of zero checks has not passed.

    >>> decide_verdict([ProbeCheck("delete_refused", True, "")])
    'enforced'
    >>> decide_verdict([])
    'not_enforced'
    """
    return "enforced" if checks and all(c.passed for c in checks) else "not_enforced"


def summarise(verdict: Verdict, checks: Sequence[ProbeCheck]) -> str:
    """A one-paragraph conclusion naming every failed check's meaning (see :data:`FAILURE_MEANING`)."""
    if verdict == "enforced":
        return f"WORM enforced（对象锁定有效）：{len(checks)} 项探测全部通过"
    failed = [FAILURE_MEANING.get(c.name, c.name) for c in checks if not c.passed]
    if verdict == "not_enforced":
        reasons = "; ".join(failed) or "no check ran（未执行任何探测）"
        return f"WORM not enforced（存储不能证明 WORM）：{reasons}"
    if verdict == "unreachable":
        return "store unreachable（存储不可达）：探测未完成，这是故障而非篡改，请稍后重试"
    return "WORM unsupported（该存储不支持保留期）"


def check_lock(
    name: str, mode: str | None, retain_until: dt.datetime | None, *, expected_until: dt.datetime
) -> ProbeCheck:
    """A version is locked as WORM needs: mode COMPLIANCE, retain-until not before ``expected_until``."""
    found = (
        f"found mode {mode or 'none'}, retain until {retain_until.isoformat() if retain_until else 'none'}"
    )
    ok = mode == COMPLIANCE and retain_until is not None and retain_until >= expected_until
    expected = f"expected COMPLIANCE until ≥ {expected_until.isoformat()}"
    return ProbeCheck(name, ok, f"{expected}; {found}")


def _truncate_to_second(when: dt.datetime) -> dt.datetime:
    return when.replace(microsecond=0)


# ---------------------------------------------------------------- thin I/O
class _Canary:
    """The canary's key, bytes, lock date and the S3 calls the probe makes (errors translated)."""

    def __init__(self, store: S3Store, key: str, data: bytes, until: dt.datetime) -> None:
        self.store = store
        self.client = store.client
        self.bucket = store.bucket
        self.key = key
        self.data = data
        self.until = until

    def fail(self, exc: Exception, action: str) -> NoReturn:
        """Translate a non-refusal failure: connection trouble and 5xx are an outage.

        Raises:
            StoreUnavailable: always for connection errors, timeouts, 5xx and a missing bucket.
            S3StoreError: another S3 error outside the attempts the probe makes on purpose.
        """
        from minio.error import S3Error

        if isinstance(exc, S3Error) and exc.code != "NoSuchBucket":
            raise S3StoreError(
                f"WORM probe could not {action} {self.key!r}: S3 error {exc.code}: {exc.message}",
                s3_code=exc.code,
                path=self.key,
            ) from None
        raise StoreUnavailable(
            f"WORM probe could not {action} {self.key!r} at {self.store.settings.endpoint}: "
            f"{type(exc).__name__}: {exc}",
            path=self.key,
        ) from None

    def put(self, data: bytes, mode: str = COMPLIANCE) -> str:
        """PUT ``data`` locked until ``self.until``; return the version id.

        Raises:
            minio.error.S3Error: the store refused (callers decide what that means).
            StoreUnavailable: the store cannot be reached.
        """
        import urllib3
        from minio.error import MinioException, S3Error
        from minio.retention import Retention

        sha = hashlib.sha256(data).digest()
        metadata: dict[str, str | list[str] | tuple[str]] = {
            "sha256": sha.hex(),
            "x-amz-sdk-checksum-algorithm": "SHA256",
            "x-amz-checksum-sha256": base64.b64encode(sha).decode("ascii"),
        }
        try:
            result = self.client.put_object(
                self.bucket,
                self.key,
                io.BytesIO(data),
                len(data),
                metadata=metadata,
                retention=Retention(mode, self.until),
            )
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                self.fail(exc, "write")
            raise
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self.fail(exc, "write")
        return str(result.version_id or "")

    def lock_of(self, version_id: str) -> tuple[str | None, dt.datetime | None] | None:
        """``(mode, retain_until)`` of a version from its HEAD headers; None when the version is gone.

        Raises:
            StoreUnavailable, S3StoreError: see :meth:`fail`.
        """
        import urllib3
        from minio.error import MinioException, S3Error

        try:
            obj = self.client.stat_object(self.bucket, self.key, version_id=version_id or None)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchVersion", "NotFound", "ResourceNotFound", "MethodNotAllowed"):
                return None
            self.fail(exc, "read the lock of")
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self.fail(exc, "read the lock of")
        headers = {k.lower(): v for k, v in (obj.metadata or {}).items()}
        until_text = headers.get("x-amz-object-lock-retain-until-date")
        until = dt.datetime.fromisoformat(until_text.replace("Z", "+00:00")) if until_text else None
        return headers.get("x-amz-object-lock-mode"), until

    def read(self, version_id: str) -> bytes | None:
        """The bytes of a version, None when it is gone.

        Raises:
            StoreUnavailable, S3StoreError: see :meth:`fail`.
        """
        import urllib3
        from minio.error import MinioException, S3Error

        try:
            response = self.client.get_object(self.bucket, self.key, version_id=version_id or None)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchVersion", "NotFound", "MethodNotAllowed"):
                return None
            self.fail(exc, "read")
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self.fail(exc, "read")
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    def versions(self) -> list[str]:
        """Version ids of the canary (delete markers excluded).

        Raises:
            StoreUnavailable, S3StoreError: see :meth:`fail`.
        """
        import urllib3
        from minio.error import MinioException

        try:
            return [
                str(o.version_id)
                for o in self.client.list_objects(self.bucket, prefix=self.key, include_version=True)
                if o.object_name == self.key and not o.is_delete_marker
            ]
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self.fail(exc, "list the versions of")

    def attempt(self, action: str, call: Any) -> str | None:
        """Run a call WORM must refuse; the S3 error code when refused, None when accepted.

        Raises:
            StoreUnavailable: connection trouble or 5xx (not a refusal).
        """
        import urllib3
        from minio.error import MinioException, S3Error

        try:
            call()
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                self.fail(exc, action)
            return str(exc.code)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            self.fail(exc, action)
        return None

    def set_retention(self, version_id: str, mode: str, until: dt.datetime) -> None:
        """PutObjectRetention on one version (raises minio's S3Error when refused)."""
        from minio.retention import Retention

        self.client.set_object_retention(self.bucket, self.key, Retention(mode, until), version_id=version_id)


def _check_delete(canary: _Canary, version: str) -> ProbeCheck:
    refused = canary.attempt(
        "delete", lambda: canary.client.remove_object(canary.bucket, canary.key, version_id=version)
    )
    still_there = canary.read(version) == canary.data
    if refused is not None and still_there:
        return ProbeCheck("delete_refused", True, f"DELETE of locked version {version} refused ({refused})")
    return ProbeCheck(
        "delete_refused",
        False,
        f"DELETE of locked version {version} {'refused (' + refused + ')' if refused else 'accepted'}; "
        f"version {'still there' if still_there else 'GONE'}",
    )


def _check_bypass(canary: _Canary, version: str) -> ProbeCheck:
    from minio.deleteobjects import DeleteObject

    errors: list[str] = []

    def bypass() -> None:
        for error in canary.client.remove_objects(
            canary.bucket, [DeleteObject(canary.key, version)], bypass_governance_mode=True
        ):
            errors.append(str(error.code))

    refused = canary.attempt("delete (bypassing governance)", bypass) or (errors[0] if errors else None)
    still_there = canary.read(version) == canary.data
    detail = (
        f"DeleteObjects with x-amz-bypass-governance-retention on version {version}: "
        f"{'refused (' + refused + ')' if refused else 'accepted'}; version {'still there' if still_there else 'GONE'}"
    )
    return ProbeCheck("bypass_refused", refused is not None and still_there, detail)


def _check_overwrite(canary: _Canary, version: str) -> ProbeCheck:
    from minio.error import S3Error

    replacement = canary.data + b"overwrite attempt\n"
    try:
        new_version = canary.put(replacement)
        outcome = f"PUT to the same key accepted as version {new_version or '(none)'}"
    except S3Error as exc:
        new_version = None
        outcome = f"PUT to the same key refused ({exc.code})"
    intact = canary.read(version) == canary.data
    lock = canary.lock_of(version)
    locked = lock is not None and check_lock("", lock[0], lock[1], expected_until=canary.until).passed
    if new_version is not None and new_version == version:
        intact = False  # the store reused the version id: the old bytes were replaced in place
    ok = intact and locked
    state = "bytes intact and still locked" if ok else f"bytes {'intact' if intact else 'LOST'}, lock {lock}"
    return ProbeCheck("overwrite_keeps_version", ok, f"{outcome}; old version {version}: {state}")


def _check_shortening(canary: _Canary, version: str, now: dt.datetime) -> ProbeCheck:
    shorter = max(canary.until - SHORTEN_BY, now + dt.timedelta(seconds=30))
    refused = canary.attempt(
        "shorten the retention of", lambda: canary.set_retention(version, COMPLIANCE, shorter)
    )
    if refused is not None:
        return ProbeCheck(
            "shortening_refused",
            True,
            f"retain-until {canary.until.isoformat()} → {shorter.isoformat()} refused ({refused})",
        )
    lock = canary.lock_of(version)
    found_until = lock[1] if lock else None
    if found_until is not None and found_until >= canary.until:
        return ProbeCheck(
            "shortening_refused",
            True,
            f"retain-until shortening to {shorter.isoformat()} answered OK but not applied "
            f"(still {found_until.isoformat()})",
        )
    restored = canary.attempt(
        "restore the retention of", lambda: canary.set_retention(version, COMPLIANCE, canary.until)
    )
    return ProbeCheck(
        "shortening_refused",
        False,
        f"retention can be shortened: retain-until {canary.until.isoformat()} → "
        f"{found_until.isoformat() if found_until else 'none'} accepted; "
        f"restored to {canary.until.isoformat()}: {'no (' + restored + ')' if restored else 'yes'}",
    )


def _check_lock_removal(canary: _Canary, version: str) -> ProbeCheck:
    refused = canary.attempt(
        "downgrade the lock of", lambda: canary.set_retention(version, GOVERNANCE, canary.until)
    )
    if refused is not None:
        return ProbeCheck("lock_removal_refused", True, f"COMPLIANCE → GOVERNANCE refused ({refused})")
    lock = canary.lock_of(version)
    if lock is not None and lock[0] == COMPLIANCE:
        return ProbeCheck(
            "lock_removal_refused",
            True,
            "COMPLIANCE → GOVERNANCE answered OK but not applied (still COMPLIANCE)",
        )
    restored = canary.attempt(
        "restore the lock of", lambda: canary.set_retention(version, COMPLIANCE, canary.until)
    )
    return ProbeCheck(
        "lock_removal_refused",
        False,
        f"the lock can be removed: COMPLIANCE → {lock[0] if lock else 'none'} accepted "
        f"(GOVERNANCE can then be bypassed); restored to COMPLIANCE: {'no (' + restored + ')' if restored else 'yes'}",
    )


def _check_left_locked(canary: _Canary) -> ProbeCheck:
    problems: list[str] = []
    versions = canary.versions()
    for version in versions:
        lock = canary.lock_of(version)
        if lock is None:
            continue
        check = check_lock("", lock[0], lock[1], expected_until=canary.until)
        if not check.passed:
            problems.append(f"{version}: {check.detail}")
    if problems:
        return ProbeCheck("canary_left_locked", False, "; ".join(problems))
    return ProbeCheck(
        "canary_left_locked",
        bool(versions),
        f"{len(versions)} canary version(s), all COMPLIANCE until ≥ {canary.until.isoformat()}",
    )


def _run_s3(
    store: S3Store, key: str, now: dt.datetime, retention: dt.timedelta, checks: list[ProbeCheck]
) -> None:
    """Run every check on a fresh canary under ``key``, appending to ``checks``."""
    from minio.error import S3Error

    until = _truncate_to_second(now + retention)  # S3 keeps retain-until to the millisecond at best
    data = f"edossier WORM probe canary {key} written {now.isoformat()}\n".encode()
    canary = _Canary(store, key, data, until)
    try:
        version = canary.put(data)
    except S3Error as exc:
        checks.append(
            ProbeCheck(
                "locked_write", False, f"PUT with COMPLIANCE retention refused ({exc.code}: {exc.message})"
            )
        )
        return
    checks.append(ProbeCheck("locked_write", True, f"canary {key} written as version {version or '(none)'}"))
    lock = canary.lock_of(version)
    applied = check_lock("lock_applied", *(lock or (None, None)), expected_until=until)
    checks.append(applied)
    if not applied.passed:
        return  # nothing is locked: the remaining attempts would only destroy the canary
    checks.append(_check_delete(canary, version))
    if canary.read(version) is None:
        version = canary.put(data)  # the store lost it: continue with a new locked canary
    checks.append(_check_bypass(canary, version))
    if canary.read(version) is None:
        version = canary.put(data)
    checks.append(_check_overwrite(canary, version))
    checks.append(_check_shortening(canary, version, now))
    checks.append(_check_lock_removal(canary, version))
    checks.append(_check_left_locked(canary))


def probe_worm(
    store: ObjectStore, now: dt.datetime, *, retention: dt.timedelta = PROBE_RETENTION
) -> ProbeReport:
    """Probe whether ``store`` enforces WORM (see the module docstring); never raises for an outage.

    ``now`` must be close to the store's clock: the canary is locked until ``now + retention``.

    Raises:
        ValueError: ``now`` is naive or ``retention`` is shorter than a minute (caller bugs).
        S3StoreError: the store answered an unexpected S3 error outside the attempts themselves
            (e.g. AccessDenied on reading our own canary: the credentials cannot run the probe).
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if retention < dt.timedelta(minutes=1):
        raise ValueError(f"retention must be at least one minute, found {retention}")
    if store.name != "s3":
        detail = UNSUPPORTED_DETAIL.get(store.name, f"store {store.name!r} has no retention to probe")
        check = ProbeCheck("retention_supported", False, detail)
        return ProbeReport(
            store=store.name,
            verdict="unsupported",
            summary=f"WORM unsupported（不支持保留期）：{detail}",
            checks=[check],
            at=now,
        )
    checks: list[ProbeCheck] = []
    s3 = _as_s3(store)
    try:
        s3.check_ready()
    except StoreUnavailable as error:
        checks.append(ProbeCheck("reachable", False, error.message))
        return ProbeReport(
            store="s3", verdict="unreachable", summary=summarise("unreachable", checks), checks=checks, at=now
        )
    except StoreError:
        pass  # e.g. a bucket without Object Lock: the locked write below shows it as a failed check
    key = f"{PROBE_PREFIX}worm-{uuid.uuid4()}"
    try:
        _run_s3(s3, key, now, retention, checks)
    except StoreUnavailable as error:
        checks.append(ProbeCheck("reachable", False, error.message))
        return ProbeReport(
            store="s3",
            verdict="unreachable",
            summary=summarise("unreachable", checks),
            checks=checks,
            key=key,
            at=now,
        )
    verdict = decide_verdict(checks)
    return ProbeReport(
        store="s3", verdict=verdict, summary=summarise(verdict, checks), checks=checks, key=key, at=now
    )


def _as_s3(store: ObjectStore) -> S3Store:
    from archive.stores.s3 import S3Store

    if not isinstance(store, S3Store):
        raise TypeError(f"store named 's3' must be an S3Store, found {type(store).__name__}")
    return store
