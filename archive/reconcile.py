"""Reconciliation of the catalog with the object store: nothing missing, nothing unknown, every lock right.

What the catalog says must be in the store:

* every blob (``blobs.store_key``) with exactly its catalogued size;
* every AIP's ``manifest.json`` (``dossiers.manifest_key``) and the 说明文件.xml / 目录文件.xml beside it
  (the catalog keeps no size for these: presence only; fixity audits check their bytes).

Findings (DA/T 70 BC-4 safety of preserved records; issue 5 "classify, don't cry wolf"):

=========================  ==========  ===========================================================
kind                       severity    when
=========================  ==========  ===========================================================
``object_missing``         incident    a catalogued key is not in the store
``object_size_mismatch``   incident    the stored size differs from the catalogued size
``delete_marker``          incident    (S3) a catalogued key has a delete marker (hidden or not)
``extra_version``          incident    (S3) a catalogued key has a non-latest version (overwritten)
``lock_missing``           incident    (S3 with Object Lock) a catalogued object has no retention
``lock_weak``              incident    (S3) retention mode GOVERNANCE (can be bypassed), not COMPLIANCE
``lock_too_short``         incident    (S3) retain-until earlier than the dossier's 保管期限 requires
``store_misconfigured``    incident    (S3) the bucket lacks the Object Lock / versioning configured
``orphan``                 info        an object the catalog does not know (reported, NEVER deleted)
``legal_hold``             info        (S3) an object is under legal hold
``lock_not_configured``    info        (S3) ``object_lock`` is off: locks were not checked
``retention_unknown``      info        a dossier's 保管期限 code is not in the configured scheme
``unreachable``            unreachable the store cannot be reached: one finding, no incidents
``store_error``            unreachable the store refused to answer (e.g. AccessDenied): no incidents
=========================  ==========  ===========================================================

The required retain-until of an object is :func:`archive.ingest.retention.retain_until` of the
dossier's 保管期限 and ``archived_at`` – the longest over every dossier whose documents reference the
blob; a blob no document references (the package's own XML files) must at least meet the shortest
period of the scheme from its ``created_at``. Ingest locks objects just *before* it commits
``archived_at``, so a lock may end up to ``slack`` (default one day) earlier without a finding.

The decisions are pure functions over small value objects; :func:`reconcile` is the thin runner that
reads the catalog (one read-only session, never commits), lists the store once (on S3 every version
and delete marker, ``ListObjectVersions``), and HEADs each catalogued object for its lock (S3 only).
Nothing is ever deleted or changed. Fixity (re-hashing bytes) and alerting are left to the audit.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog.models import Blob, Document, Dossier
from archive.ingest.retention import retain_until
from archive.settings import Retention, Settings
from archive.stores.base import COMPLIANCE, ObjectInfo, ObjectStore
from archive.stores.errors import (
    ObjectNotFound,
    S3StoreError,
    StoreError,
    StoreMisconfigured,
    StoreUnavailable,
)
from archive.worm_probe import PROBE_PREFIX
from standards.court_package import CATALOG_FILE, DESCRIPTION_FILE

if TYPE_CHECKING:
    from archive.stores.s3 import S3Store

Severity = Literal["incident", "unreachable", "info"]
Status = Literal["clean", "incidents", "unreachable"]
#: How much earlier than required a lock may end without a finding (ingest locks before it commits).
DEFAULT_SLACK = dt.timedelta(days=1)


@dataclass(frozen=True)
class Finding:
    """One thing reconciliation found; ``evidence`` holds the expected and found values."""

    kind: str
    key: str | None
    severity: Severity
    evidence: dict[str, Any]
    message: str  # Chinese, for archivists

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of a finding."""
        return {
            "kind": self.kind,
            "key": self.key,
            "severity": self.severity,
            "evidence": self.evidence,
            "message": self.message,
        }


@dataclass(frozen=True)
class ReconcileReport:
    """Findings of one reconciliation run and what was counted."""

    findings: list[Finding]
    counts: dict[str, int]
    store: str = ""
    checked_at: dt.datetime | None = None

    @property
    def status(self) -> Status:
        """``unreachable`` if the store could not be checked, else ``incidents`` or ``clean``."""
        if any(f.severity == "unreachable" for f in self.findings):
            return "unreachable"
        if any(f.severity == "incident" for f in self.findings):
            return "incidents"
        return "clean"

    @property
    def incidents(self) -> list[Finding]:
        """The findings that are evidence of loss or tampering."""
        return [f for f in self.findings if f.severity == "incident"]

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``edossier storage reconcile --json``."""
        return {
            "status": self.status,
            "store": self.store,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "counts": self.counts,
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class ExpectedObject:
    """What the catalog says is stored under ``key`` (``size`` None: not catalogued)."""

    key: str
    size: int | None
    required_until: dt.datetime | None  # None: the retention code is unknown, the date is not checked
    basis: str  # why this date: "<archive id> 保管期限 <code>" or "shortest period"
    kind: Literal["blob", "aip"]


@dataclass(frozen=True)
class StoredVersion:
    """One entry of an S3 version listing (a delete marker has no size)."""

    key: str
    version_id: str | None
    size: int
    is_latest: bool
    is_delete_marker: bool
    last_modified: dt.datetime | None = None


# ---------------------------------------------------------------- pure decisions
def aip_keys(manifest_key: str) -> list[str]:
    """The manifest key and the 说明文件/目录文件 keys stored beside it.

    >>> aip_keys("aips/ED-1/v1/manifest.json")
    ['aips/ED-1/v1/manifest.json', 'aips/ED-1/v1/说明文件.xml', 'aips/ED-1/v1/目录文件.xml']
    """
    folder = manifest_key.rsplit("/", 1)[0]
    return [manifest_key, f"{folder}/{DESCRIPTION_FILE}", f"{folder}/{CATALOG_FILE}"]


def required_until(retention: str, archived_at: dt.datetime, scheme: Retention) -> dt.datetime | None:
    """The retain-until date a dossier's 保管期限 requires, None when the code is not in ``scheme``."""
    try:
        return retain_until(retention, archived_at, scheme)
    except ValueError:
        return None


def shortest_until(created_at: dt.datetime, scheme: Retention) -> dt.datetime:
    """The retain-until of the shortest period in ``scheme`` counted from ``created_at``."""
    code = min(
        scheme.periods,
        key=lambda c: float("inf") if scheme.periods[c] is None else float(scheme.periods[c] or 0),
    )
    return retain_until(code, created_at, scheme)


def check_presence(
    expected: Mapping[str, ExpectedObject],
    stored: Mapping[str, ObjectInfo],
    *,
    deleted: Iterable[str] = (),
) -> list[Finding]:
    """``object_missing`` / ``object_size_mismatch`` for every catalogued key, in key order.

    Keys in ``deleted`` (hidden by a delete marker, reported by :func:`check_versions`) are skipped.
    """
    hidden = set(deleted)
    findings: list[Finding] = []
    for key in sorted(expected):
        want = expected[key]
        found = stored.get(key)
        if found is None:
            if key not in hidden:
                findings.append(
                    Finding(
                        "object_missing",
                        key,
                        "incident",
                        {"expected_size": want.size, "found": None, "catalog": want.kind},
                        f"对象缺失：目录登记的 {key} 在存储中不存在",
                    )
                )
            continue
        if want.size is not None and found.size != want.size:
            findings.append(
                Finding(
                    "object_size_mismatch",
                    key,
                    "incident",
                    {"expected_size": want.size, "found_size": found.size, "version_id": found.version_id},
                    f"对象大小不符：{key} 目录登记 {want.size} 字节，存储中为 {found.size} 字节",
                )
            )
    return findings


def check_orphans(expected: Mapping[str, ExpectedObject], stored: Mapping[str, ObjectInfo]) -> list[Finding]:
    """``orphan`` (info) for every stored object the catalog does not know; probe canaries excluded.

    Orphans are reported, never deleted: a crashed ingest leaves blobs that a retry reuses.
    """
    return [
        Finding(
            "orphan",
            key,
            "info",
            {"size": stored[key].size, "version_id": stored[key].version_id},
            f"孤立对象：{key}（{stored[key].size} 字节）未在目录中登记；仅报告，不删除",
        )
        for key in sorted(stored)
        if key not in expected and not key.startswith(PROBE_PREFIX)
    ]


def current_objects(versions: Iterable[StoredVersion]) -> dict[str, ObjectInfo]:
    """The objects a plain listing would show: the latest version of each key unless it is a delete marker."""
    return {
        v.key: ObjectInfo(key=v.key, size=v.size, version_id=v.version_id)
        for v in versions
        if v.is_latest and not v.is_delete_marker
    }


def check_versions(
    expected: Mapping[str, ExpectedObject], versions: Iterable[StoredVersion]
) -> list[Finding]:
    """``delete_marker`` / ``extra_version`` incidents for catalogued keys (S3 version listing).

    The service never deletes nor overwrites, so any delete marker on a catalogued key, or a second
    version of it, is evidence. One finding per key: a delete marker wins and lists what it hides.
    """
    by_key: dict[str, list[StoredVersion]] = {}
    for v in versions:
        if v.key in expected:
            by_key.setdefault(v.key, []).append(v)
    findings: list[Finding] = []
    for key in sorted(by_key):
        entries = by_key[key]
        markers = [v for v in entries if v.is_delete_marker]
        older = [v for v in entries if not v.is_delete_marker and not v.is_latest]
        described = [_describe(v) for v in entries]
        if markers:
            hidden = any(v.is_latest for v in markers)
            findings.append(
                Finding(
                    "delete_marker",
                    key,
                    "incident",
                    {"latest_is_delete_marker": hidden, "versions": described},
                    f"删除标记：{key} 被放置了 {len(markers)} 个删除标记"
                    + ("，当前已不可见；锁定的原版本仍在，可恢复" if hidden else "，其后又被重新写入"),
                )
            )
        elif older:
            findings.append(
                Finding(
                    "extra_version",
                    key,
                    "incident",
                    {"versions": described},
                    f"多余版本：{key} 有 {len(older)} 个非最新版本，说明对象曾被覆盖写入（服务从不覆盖）",
                )
            )
    return findings


def _describe(v: StoredVersion) -> dict[str, Any]:
    return {
        "version_id": v.version_id,
        "size": None if v.is_delete_marker else v.size,
        "is_latest": v.is_latest,
        "is_delete_marker": v.is_delete_marker,
        "last_modified": v.last_modified.isoformat() if v.last_modified else None,
    }


def check_lock(
    want: ExpectedObject, found: ObjectInfo, *, slack: dt.timedelta = DEFAULT_SLACK
) -> list[Finding]:
    """Lock findings for one catalogued object from what its HEAD reported.

    No retention → ``lock_missing``; GOVERNANCE (or any mode but COMPLIANCE) → ``lock_weak``;
    retain-until earlier than required minus ``slack`` → ``lock_too_short``; legal hold → ``legal_hold``
    (info). A missing required date (unknown 保管期限 code) skips only the date comparison.
    """
    key = want.key
    evidence: dict[str, Any] = {
        "mode": found.retention_mode,
        "retain_until": found.retain_until.isoformat() if found.retain_until else None,
        "required_until": want.required_until.isoformat() if want.required_until else None,
        "basis": want.basis,
        "version_id": found.version_id,
    }
    findings: list[Finding] = []
    if found.retention_mode is None or found.retain_until is None:
        findings.append(
            Finding(
                "lock_missing", key, "incident", evidence, f"未锁定：{key} 没有对象锁定保留期（Object Lock）"
            )
        )
    else:
        if found.retention_mode.upper() != COMPLIANCE:
            findings.append(
                Finding(
                    "lock_weak",
                    key,
                    "incident",
                    evidence,
                    f"锁定模式过弱：{key} 为 {found.retention_mode} 模式，特权用户可绕过；应为 COMPLIANCE",
                )
            )
        if want.required_until is not None and found.retain_until < want.required_until - slack:
            findings.append(
                Finding(
                    "lock_too_short",
                    key,
                    "incident",
                    evidence,
                    f"保留期过短：{key} 仅锁定至 {found.retain_until.date().isoformat()}，"
                    f"{want.basis} 要求至少至 {want.required_until.date().isoformat()}",
                )
            )
    if found.legal_hold:
        findings.append(
            Finding("legal_hold", key, "info", evidence, f"法律保留：{key} 处于法律保留（legal hold）状态")
        )
    return findings


def outage_finding(error: StoreUnavailable | StoreError) -> Finding:
    """The single finding of a run the store did not let finish: an outage is never tampering."""
    if isinstance(error, StoreUnavailable):
        kind, what = "unreachable", "存储不可达"
    else:
        kind, what = "store_error", "存储拒绝了核对请求"
    return Finding(
        kind,
        error.path,
        "unreachable",
        {"error_code": error.code, "error": error.message},
        f"{what}：{error.message}；本次核对未完成，不构成篡改告警（将重试）",
    )


def tally(findings: Iterable[Finding], base: Mapping[str, int]) -> dict[str, int]:
    """``base`` plus the number of findings of each kind (``findings.<kind>``) and severity."""
    counts = dict(base)
    items = list(findings)
    for kind, n in sorted(Counter(f.kind for f in items).items()):
        counts[f"findings.{kind}"] = n
    for severity in ("incident", "unreachable", "info"):
        counts[severity] = sum(1 for f in items if f.severity == severity)
    return counts


# ---------------------------------------------------------------- catalog reads
def expected_objects(session: Session, scheme: Retention) -> dict[str, ExpectedObject]:
    """Every key the catalog says is stored, with its size and required retain-until (reads only)."""
    dossiers: dict[str, tuple[dt.datetime | None, str]] = {}
    expected: dict[str, ExpectedObject] = {}
    for archive_id, manifest, retention, archived_at in session.execute(
        select(Dossier.archive_id, Dossier.manifest_key, Dossier.retention, Dossier.archived_at)
    ):
        until = required_until(retention, archived_at, scheme)
        basis = f"{archive_id} 保管期限「{retention}」"
        dossiers[archive_id] = (until, basis)
        for key in aip_keys(manifest):
            expected[key] = ExpectedObject(key, None, until, basis, "aip")
    needs: dict[str, tuple[dt.datetime | None, str]] = {}
    for archive_id, sha, meta_sha in session.execute(
        select(Document.archive_id, Document.sha256, Document.metadata_sha256)
    ):
        for digest in (sha, meta_sha):
            needs[digest] = _later(needs.get(digest), dossiers[archive_id])
    for sha, key, size, created_at in session.execute(
        select(Blob.sha256, Blob.store_key, Blob.size, Blob.created_at)
    ):
        until, basis = needs.get(sha) or (
            shortest_until(created_at, scheme),
            "最短保管期限（无文件引用该对象）",
        )
        expected[key] = ExpectedObject(key, size, until, basis, "blob")
    return expected


def _later(
    a: tuple[dt.datetime | None, str] | None, b: tuple[dt.datetime | None, str]
) -> tuple[dt.datetime | None, str]:
    """The requirement with the later known date (a known date beats an unknown one)."""
    if a is None:
        return b
    if b[0] is None:
        return a
    if a[0] is None or b[0] > a[0]:
        return b
    return a


# ---------------------------------------------------------------- store reads (thin I/O)
def _s3_versions(store: S3Store) -> Iterator[StoredVersion]:
    """Every version and delete marker in the bucket (ListObjectVersions), errors translated.

    Raises:
        StoreUnavailable: the endpoint cannot be reached or the bucket is gone.
        S3StoreError: any other S3 error.
    """
    import urllib3
    from minio.error import MinioException, S3Error

    try:
        for o in store.client.list_objects(store.bucket, recursive=True, include_version=True):
            if o.object_name is None or o.is_dir:
                continue
            yield StoredVersion(
                key=o.object_name,
                version_id=o.version_id,
                size=int(o.size or 0),
                is_latest=str(o.is_latest).lower() == "true",
                is_delete_marker=bool(o.is_delete_marker),
                last_modified=o.last_modified,
            )
    except S3Error as exc:
        if exc.code == "NoSuchBucket":
            raise StoreUnavailable(f"s3 store: bucket {store.bucket!r} does not exist") from None
        raise S3StoreError(
            f"s3 store could not list object versions: S3 error {exc.code}: {exc.message}", s3_code=exc.code
        ) from None
    except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise StoreUnavailable(
            f"s3 store could not list object versions at {store.settings.endpoint}: {type(exc).__name__}: {exc}"
        ) from None


def _lock_findings(
    store: ObjectStore, expected: Mapping[str, ExpectedObject], present: Iterable[str], slack: dt.timedelta
) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    checked = 0
    for key in sorted(present):
        try:
            info = store.stat(key)
        except ObjectNotFound:  # vanished between the listing and the HEAD
            findings.extend(check_presence({key: expected[key]}, {}))
            continue
        checked += 1
        findings.extend(check_lock(expected[key], info, slack=slack))
    return findings, checked


def reconcile(
    session: Session,
    store: ObjectStore,
    settings: Settings,
    now: dt.datetime,
    *,
    slack: dt.timedelta = DEFAULT_SLACK,
) -> ReconcileReport:
    """Compare the catalog with the store (see the module docstring); never deletes anything.

    A store outage yields a report with one ``unreachable`` (or ``store_error``) finding and no
    incidents, whatever had been found before it.

    Raises:
        ValueError: ``now`` is naive (a caller bug).
        DatabaseUnavailable, sqlalchemy.exc.SQLAlchemyError: the catalog cannot be read.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    expected = expected_objects(session, settings.retention)
    counts: dict[str, int] = {
        "expected_objects": len(expected),
        "expected_blobs": sum(1 for e in expected.values() if e.kind == "blob"),
    }
    findings: list[Finding] = []
    try:
        try:
            store.check_ready()
        except StoreMisconfigured as error:
            findings.append(
                Finding(
                    "store_misconfigured",
                    None,
                    "incident",
                    {"error_code": error.code, "error": error.message},
                    f"存储配置不符：{error.message}（对象锁定或版本控制缺失，WORM 保护无法成立）",
                )
            )
        if store.name == "s3":
            s3 = _as_s3(store)
            versions = list(_s3_versions(s3))
            stored = current_objects(versions)
            version_findings = check_versions(expected, versions)
            deleted = {f.key for f in version_findings if f.evidence.get("latest_is_delete_marker") and f.key}
            findings += check_presence(expected, stored, deleted=deleted) + version_findings
            counts["versions"] = len(versions)
            if s3.settings.object_lock:
                present = [k for k in expected if k in stored]
                lock_findings, counts["locks_checked"] = _lock_findings(store, expected, present, slack)
                findings += lock_findings
            else:
                findings.append(
                    Finding(
                        "lock_not_configured",
                        None,
                        "info",
                        {"object_lock": False},
                        "未配置对象锁定（s3.object_lock = false）：未核对保留期",
                    )
                )
        else:
            stored = {info.key: info for info in store.iter_objects()}
            findings += check_presence(expected, stored)
        findings += check_orphans(expected, stored)
        counts["stored_objects"] = len(stored)
        counts["probe_objects"] = sum(1 for k in stored if k.startswith(PROBE_PREFIX))
    except (StoreUnavailable, StoreError) as error:  # ObjectNotFound is handled where it can occur
        findings = [outage_finding(error)]
    findings += [
        Finding(
            "retention_unknown", key, "info", {"basis": e.basis}, f"保管期限代码不在当前配置中：{e.basis}"
        )
        for key, e in sorted(expected.items())
        if e.required_until is None and e.kind == "aip" and key.endswith("manifest.json")
    ]
    return ReconcileReport(
        findings=findings, counts=tally(findings, counts), store=store.name, checked_at=now
    )


def _as_s3(store: ObjectStore) -> S3Store:
    from archive.stores.s3 import S3Store

    if not isinstance(store, S3Store):
        raise TypeError(f"store named 's3' must be an S3Store, found {type(store).__name__}")
    return store
