"""DA/T 70 x-4-1 (系统环境中是否安装杀毒软件检测) and x-4-2 (病毒感染检测) for GD, YJ and BC.

:func:`gather_antivirus_facts` is the I/O shell: it asks clamd (:mod:`integrity.antivirus.clamd`,
address from ``settings.clamd_address``) for its version and streams every staged file through
INSTREAM. It returns two plain facts::

    "antivirus": {"configured": bool, "address": str | None, "available": bool, "error": str | None,
                  "engine": str | None, "database_version": int | None,
                  "database_date": ISO-8601 str | None, "version_raw": str | None}
    "virus_scan": {package path: {"status": "clean"|"infected"|"too_large"|"error",
                                  "signature": str | None, "detail": str}}

``virus_scan`` is present only when clamd answered VERSION. The checks are pure over these facts,
``ctx.package`` (which files must have been scanned), ``ctx.now`` and
``ctx.config["antivirus_max_signature_age_days"]``:

* :func:`check_antivirus_present` (x-4-1): the configured scanner answers → ``pass`` when its signature
  database is at most that many days old, ``warn`` when older or of unknown date (only custom
  signatures loaded); configured but unreachable → ``fail``; not configured → ``not_run``. The
  standard asks for a "domestic mainstream" product (国内主流杀毒软件); which engine answered is
  recorded in the evidence for a person to judge.
* :func:`check_virus_scan` (x-4-2, "调用杀毒软件接口对信息包进行病毒检测"): ``pass`` only when every
  file of the package was scanned fully and found clean. A virus → ``fail`` naming file and
  signature. A file clamd could not scan fully (over its size limits) is never clean → ``fail``
  (re-running will not help; the limits or the file must change). A file whose scan errored or is
  missing, or a scanner that is down or not configured → ``not_run`` with the reason (an outage is
  not a finding about the package).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from archive.settings import Settings
from integrity.antivirus.clamd import (
    SCAN_STATUSES,
    ClamdClient,
    ScannerError,
    ScannerUnavailable,
    ScanResult,
    parse_address,
)
from integrity.checks.model import CheckContext, Evidence, ItemResult
from standards.package import StagedPackage
from standards.problems import Problem

MAX_LISTED = 10  # files named in a summary or reason before "…"


# ---------------------------------------------------------------- gatherer (I/O)
def _not_configured() -> dict[str, Any]:
    return {
        "configured": False, "address": None, "available": False, "error": None,
        "engine": None, "database_version": None, "database_date": None, "version_raw": None,
    }  # fmt: skip


def gather_antivirus_facts(package: StagedPackage, settings: Settings, stage: str) -> dict[str, Any]:
    """Ask clamd for its version and scan every staged file (streamed from disk, 1 MiB chunks).

    Never raises for a scanner problem: an unparsable address, an unreachable or misbehaving clamd
    and per-file errors are recorded in the facts (see the module docstring). When clamd becomes
    unreachable mid-package the remaining files are recorded as ``error`` without further attempts.
    ``stage`` is accepted for the gatherer interface; the scan is the same at every stage.
    """
    del stage
    facts = _not_configured()
    if not settings.clamd_address:
        return {"antivirus": facts}
    facts.update(configured=True, address=settings.clamd_address)
    try:
        client = ClamdClient(parse_address(settings.clamd_address), timeout_s=settings.clamd_timeout_s)
        # clamd prints its database date in its local time; we assume it runs on this host's zone
        local_zone = dt.datetime.now().astimezone().tzinfo or dt.UTC
        version = client.version(tz=local_zone)
    except (ValueError, ScannerUnavailable, ScannerError) as exc:
        facts["error"] = str(exc)
        return {"antivirus": facts}
    facts.update(
        available=True,
        engine=version.engine,
        database_version=version.database_version,
        database_date=version.database_date.isoformat() if version.database_date else None,
        version_raw=version.raw,
    )
    scans: dict[str, dict[str, Any]] = {}
    lost: str | None = None
    for file in package.files:
        if lost is not None:
            scans[file.path] = ScanResult("error", None, f"未扫描：杀毒引擎已不可用（{lost}）").as_dict()
            continue
        try:
            result = client.scan_file(package.local_path(file.path))
        except ScannerUnavailable as exc:
            lost = str(exc)
            result = ScanResult("error", None, lost)
        except ScannerError as exc:
            result = ScanResult("error", None, str(exc))
        except OSError as exc:
            result = ScanResult("error", None, f"读取暂存文件失败：{exc.strerror or exc}")
        scans[file.path] = result.as_dict()
    return {"antivirus": facts, "virus_scan": scans}


# ---------------------------------------------------------------- checks (pure)
def _listed(paths: list[str]) -> str:
    shown = "、".join(paths[:MAX_LISTED])
    return shown + (f" 等 {len(paths)} 个" if len(paths) > MAX_LISTED else "")


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _not_run(item: str, summary: str, reason: str, evidence: tuple[Evidence, ...] = ()) -> ItemResult:
    return ItemResult(item=item, status="not_run", summary=summary, reason=reason, evidence=evidence)


def _scanner_facts(ctx: CheckContext, item: str, name: str) -> Mapping[str, Any] | ItemResult:
    """The ``antivirus`` fact, or the ``not_run`` answer when it is missing or no scanner is configured."""
    facts = ctx.facts.get("antivirus")
    if not isinstance(facts, Mapping):
        return _not_run(
            item, f"{name}未执行", "没有杀毒软件的检测事实（gather_antivirus_facts 未运行或出错）"
        )
    if not facts.get("configured"):
        return _not_run(
            item,
            f"{name}未执行",
            "未配置杀毒引擎（设置项 clamd_address / EDOSSIER_CLAMD_ADDRESS 为空），无法检测",
        )
    return facts


def check_antivirus_present(ctx: CheckContext) -> ItemResult:
    """DA/T 70 x-4-1 系统环境中是否安装杀毒软件检测 (see the module docstring for the statuses)."""
    item = ctx.item_id("4-1")
    name = "系统环境中是否安装杀毒软件检测"
    facts = _scanner_facts(ctx, item, name)
    if isinstance(facts, ItemResult):
        return facts
    address = str(facts.get("address"))
    if not facts.get("available"):
        error = str(facts.get("error") or "未知原因")
        return ItemResult(
            item=item,
            status="fail",
            summary=f"已配置的杀毒引擎（{address}）无应答，系统环境中没有可用的杀毒软件",
            evidence=(
                Evidence(read=f"clamd VERSION（{address}）", expected="杀毒引擎应答版本信息", found=error),
            ),
            problems=(
                Problem(
                    code="antivirus_unavailable",
                    message=f"杀毒引擎 clamd_address：应为可连接的 clamd（{address}），实际：{error}",
                    item=item,
                ),
            ),
        )
    engine = str(facts.get("engine"))
    db_version = facts.get("database_version")
    db_date_text = facts.get("database_date")
    read = f"clamd VERSION（{address}）：{facts.get('version_raw')}"
    max_age = ctx.config.get("antivirus_max_signature_age_days")
    if not isinstance(db_date_text, str):
        return ItemResult(
            item=item,
            status="warn",
            summary=f"杀毒引擎 {engine} 已安装并应答，但病毒库日期未知，无法确认病毒库及时更新",
            evidence=(
                Evidence(
                    read=read,
                    expected="病毒库版本与发布日期",
                    found="引擎未报告病毒库版本和日期（仅加载了自定义特征库）",
                ),
            ),
            problems=(
                Problem(
                    code="antivirus_signatures_undated",
                    message=f"病毒库日期：应可读，实际：clamd 未报告（{facts.get('version_raw')}）",
                    item=item,
                ),
            ),
        )
    db_date = _aware(dt.datetime.fromisoformat(db_date_text))
    age_days = (_aware(ctx.now) - db_date).total_seconds() / 86400.0
    found = f"病毒库版本 {db_version}，发布于 {db_date.isoformat()}，距今 {age_days:.1f} 天"
    if not isinstance(max_age, int) or isinstance(max_age, bool):
        return ItemResult(
            item=item,
            status="warn",
            summary=f"杀毒引擎 {engine} 已安装并应答，但未设定病毒库最长期限，病毒库时效未核验",
            evidence=(Evidence(read=read, expected="配置项 antivirus_max_signature_age_days", found=found),),
        )
    evidence = (Evidence(read=read, expected=f"病毒库不超过 {max_age} 天", found=found),)
    if age_days > max_age:
        return ItemResult(
            item=item,
            status="warn",
            summary=f"杀毒引擎 {engine} 已安装，但病毒库已 {age_days:.1f} 天未更新（上限 {max_age} 天）",
            evidence=evidence,
            problems=(
                Problem(
                    code="antivirus_signatures_outdated",
                    message=(
                        f"病毒库时效：应不超过 {max_age} 天，"
                        f"实际：{age_days:.1f} 天（{db_date.date().isoformat()}）"
                    ),
                    item=item,
                ),
            ),
        )
    return ItemResult(
        item=item,
        status="pass",
        summary=f"杀毒引擎 {engine} 已安装并应答，病毒库为 {age_days:.1f} 天内更新",
        evidence=evidence,
    )


def _scan_of(scans: Mapping[str, Any], path: str) -> tuple[str, str | None, str]:
    """(status, signature, detail) of one file; a missing or malformed entry counts as an error."""
    entry = scans.get(path)
    if not isinstance(entry, Mapping):
        return "error", None, "没有扫描结果"
    status = entry.get("status")
    if status not in SCAN_STATUSES:
        return "error", None, f"无法识别的扫描结果 {status!r}"
    signature = entry.get("signature")
    return str(status), signature if isinstance(signature, str) else None, str(entry.get("detail") or "")


def check_virus_scan(ctx: CheckContext) -> ItemResult:
    """DA/T 70 x-4-2 病毒感染检测 (see the module docstring for the statuses)."""
    item = ctx.item_id("4-2")
    name = "病毒感染检测"
    facts = _scanner_facts(ctx, item, name)
    if isinstance(facts, ItemResult):
        return facts
    address = str(facts.get("address"))
    if not facts.get("available"):
        return _not_run(
            item,
            f"{name}未执行",
            f"杀毒引擎（{address}）不可用，信息包未经病毒扫描：{facts.get('error') or '未知原因'}",
        )
    scans = ctx.facts.get("virus_scan")
    if not isinstance(scans, Mapping):
        return _not_run(item, f"{name}未执行", "没有病毒扫描结果（virus_scan）")
    paths = [f.path for f in ctx.package.files] if ctx.package is not None else sorted(str(p) for p in scans)
    if not paths:
        return _not_run(item, f"{name}未执行", "信息包中没有文件，没有可扫描的内容")

    infected: list[str] = []
    too_large: list[str] = []
    errored: list[str] = []
    evidence: list[Evidence] = []
    problems: list[Problem] = []
    for path in paths:
        status, signature, detail = _scan_of(scans, path)
        if status == "clean":
            continue
        evidence.append(
            Evidence(read=path, expected="stream: OK（完整扫描且未检出病毒）", found=detail or status)
        )
        if status == "infected":
            infected.append(path)
            problems.append(
                Problem(
                    code="virus_found", message=f"文件 {path}：检出病毒 {signature}", item=item, path=path
                )
            )
        elif status == "too_large":
            too_large.append(path)
            problems.append(
                Problem(
                    code="virus_scan_incomplete",
                    message=f"文件 {path}：超过杀毒引擎扫描上限，未能完整扫描（{detail}），不能认定无毒",
                    item=item,
                    path=path,
                )
            )
        else:
            errored.append(path)
    clean = len(paths) - len(infected) - len(too_large) - len(errored)
    overview = Evidence(
        read=f"clamd INSTREAM（{address}，{facts.get('engine')}）扫描信息包内 {len(paths)} 个文件",
        expected="全部文件完整扫描且未检出病毒",
        found=f"无毒 {clean} 个；感染 {len(infected)} 个；未能完整扫描 {len(too_large)} 个；扫描出错 {len(errored)} 个",
    )
    all_evidence = (overview, *evidence)
    if infected or too_large:
        parts = []
        if infected:
            parts.append(f"{len(infected)} 个文件检出病毒：{_listed(infected)}")
        if too_large:
            parts.append(f"{len(too_large)} 个文件超过扫描上限未能完整扫描：{_listed(too_large)}")
        return ItemResult(
            item=item,
            status="fail",
            summary="；".join(parts),
            evidence=all_evidence,
            problems=tuple(problems),
        )
    if errored:
        return _not_run(
            item,
            f"{name}未完成：{len(errored)} 个文件未能扫描",
            f"杀毒引擎未能扫描 {_listed(errored)}，这些文件不能认定无毒",
            all_evidence,
        )
    return ItemResult(
        item=item,
        status="pass",
        summary=f"信息包内 {len(paths)} 个文件均已完整扫描，未检出病毒",
        evidence=all_evidence,
    )
