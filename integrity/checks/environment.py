"""DA/T 70 environment and process items: archive codes, recorded and current environment, read speed, process.

:func:`gather_environment_facts` is the I/O part (the platform, the clock, a timed read of the staged
files); the checks are pure over ``ctx.facts``, ``ctx.config`` and the validation report:

* 1-9 (YJ) 全宗号/分类号 vs the receiving archive's codes (config ``archive_fonds_codes``,
  ``archive_class_codes``; not_run when neither is configured);
* 3-6 软硬件环境 recorded in 说明文件 present and plausible;
* 3-7 (BC) recorded environment (fact ``recorded_environment``, kept at ingest) vs the current one
  (fact ``environment``);
* 4-4 read speed (fact ``read_mb_per_s``) vs config ``min_read_mb_per_s`` (default 20 MB/s);
* 4-7 process security from facts ``actor``, ``transport``, ``audit_logged`` (warn when unknown).

Scanning for viruses, formats and EEP packages is left to their own modules.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import time
from collections.abc import Mapping
from typing import Any

from archive.settings import Settings
from integrity.checks.model import CheckContext, Evidence, ItemResult
from standards.archival_code import ArchivalCodeMalformedError, parse_archival_code
from standards.package import StagedPackage
from standards.problems import Problem
from standards.validation import ValidationReport

DEFAULT_MIN_READ_MB_PER_S = 20.0
READ_SAMPLE_BYTES = 64 * 1024 * 1024  # enough to time, cheap to read
_CHUNK = 1024 * 1024
_PLACEHOLDERS = {
    "无",
    "未知",
    "不详",
    "暂无",
    "其他",
    "-",
    "—",
    "/",
    "n/a",
    "na",
    "null",
    "none",
    "unknown",
    "test",
}
PROTECTED_TRANSPORTS = frozenset(
    {"https", "tls", "sftp", "local"}
)  # local: read on the archive server itself
UNPROTECTED_TRANSPORTS = frozenset({"http", "ftp", "smb", "email"})
_ENVIRONMENT_LABELS = {
    "os": "操作系统",
    "os_release": "内核版本",
    "machine": "硬件架构",
    "python": "Python 版本",
    "implementation": "Python 实现",
    "platform": "平台",
}


# ----------------------------------------------------------------------------------------- gatherer
def current_environment() -> dict[str, str]:
    """The software/hardware environment of this process (DA/T 70 BC-3-7 compares it over time)."""
    return {
        "os": platform.system(),
        "os_release": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


#: Below this many bytes read, a speed says more about opening files than about the carrier (4-4).
MIN_SPEED_SAMPLE_BYTES = 1024 * 1024


def measure_read_speed(package: StagedPackage, budget: int = READ_SAMPLE_BYTES) -> tuple[int, float]:
    """Read up to ``budget`` bytes of the staged files; return (bytes read, seconds).

    Raises:
        OSError: a staged file cannot be read.
    """
    done, started = 0, time.perf_counter()
    for f in package.files:
        if done >= budget:
            break
        with package.local_path(f.path).open("rb") as fh:
            while done < budget:
                chunk = fh.read(min(_CHUNK, budget - done))
                if not chunk:
                    break
                done += len(chunk)
    return done, time.perf_counter() - started


def gather_environment_facts(package: StagedPackage, settings: Settings, stage: str) -> dict[str, Any]:
    """Facts ``environment``, ``gathered_at`` and (when measurable) ``read_mb_per_s``/``read_bytes``.

    The speed is that of the staged copy (likely in the page cache right after staging), so it is
    a lower bound on trouble, not a carrier benchmark.

    Raises:
        OSError: a staged file cannot be read.
    """
    facts: dict[str, Any] = {
        "environment": current_environment(),
        "gathered_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    done, seconds = measure_read_speed(package)
    if done > 0 and seconds > 0:
        facts["read_bytes"] = done
        facts["read_mb_per_s"] = done / seconds / 1_000_000
    return facts


# ------------------------------------------------------------------------------------------ helpers
def _report(ctx: CheckContext) -> ValidationReport | None:
    return ctx.validation if isinstance(ctx.validation, ValidationReport) else None


def _not_run(item: str, name: str, reason: str) -> ItemResult:
    return ItemResult(item, "not_run", f"{name}未执行：{reason}", reason=reason)


# ---------------------------------------------------------------------------------------- 1-9 (YJ)
def check_archive_codes(ctx: CheckContext) -> ItemResult:
    """1-9 全宗号、目录号、分类号与档案馆要求的一致性 (config ``archive_fonds_codes``/``archive_class_codes``)."""
    item, name = ctx.item_id("1-9"), "元数据项(全宗号、目录号、分类号)与档案馆要求的一致性检测"
    fonds = tuple(str(c) for c in ctx.config.get("archive_fonds_codes") or ())
    classes = tuple(str(c) for c in ctx.config.get("archive_class_codes") or ())
    if not fonds and not classes:
        return _not_run(
            item, name, "未配置档案馆的全宗号、分类号要求（archive_fonds_codes / archive_class_codes）"
        )
    report = _report(ctx)
    if report is None or report.description is None:
        return _not_run(item, name, "没有可读的说明文件校验结果")
    problems: list[Problem] = []
    fonds_seen = {report.description.fonds_code} | {m.fonds_code for m in report.metadata.values()}
    class_seen: set[str] = set()
    for e in report.entries:
        try:
            code = parse_archival_code(e.archival_code)
        except ArchivalCodeMalformedError:
            continue  # a malformed 档号 is reported by 1-7
        fonds_seen.add(code.fonds)
        class_seen.add(code.category)
    if fonds:
        problems += [
            Problem(
                "fonds_code_not_accepted", f"全宗号“{c}”不在档案馆要求的全宗号 {'、'.join(fonds)} 中", item
            )
            for c in sorted(fonds_seen)
            if c not in fonds
        ]
    if classes:
        problems += [
            Problem(
                "class_code_not_accepted", f"分类号“{c}”不在档案馆要求的分类号 {'、'.join(classes)} 中", item
            )
            for c in sorted(class_seen)
            if c not in classes
        ]
    evidence = Evidence(
        f"说明文件、元数据和 {len(report.entries)} 个档号中的全宗号、分类号（本档号规则不含目录号）",
        f"全宗号 ∈ {{{'、'.join(fonds) or '未配置'}}}；分类号 ∈ {{{'、'.join(classes) or '未配置'}}}",
        f"全宗号 {'、'.join(sorted(fonds_seen))}；分类号 {'、'.join(sorted(class_seen)) or '无'}",
    )
    if problems:
        return ItemResult(item, "fail", f"{name}不通过", (evidence,), tuple(problems))
    return ItemResult(item, "pass", f"{name}通过", (evidence,))


# --------------------------------------------------------------------------------------- 3-6, 3-7
def _implausible(value: str) -> bool:
    text = value.strip()
    return len(text) < 2 or text.lower() in _PLACEHOLDERS


def check_recorded_environment(ctx: CheckContext) -> ItemResult:
    """3-6 软硬件环境合规性: 说明文件/软硬件环境 present and plausible (a version for the software)."""
    item, name = ctx.item_id("3-6"), "软硬件环境合规性检测"
    report = _report(ctx)
    if report is None or report.description is None:
        return _not_run(item, name, "没有可读的说明文件校验结果")
    env = report.description.environment
    values = {"生成系统": env.software, "操作系统": env.operating_system, "硬件环境": env.hardware}
    evidence = Evidence(
        "说明文件“软硬件环境”",
        "生成系统（含版本）、操作系统、硬件环境均已如实记录",
        "；".join(f"{k}：{v or '（空）'}" for k, v in values.items()),
    )
    path = "说明文件.xml"
    problems = [
        Problem("environment_implausible", f"说明文件“软硬件环境/{k}”为“{v}”，不是有效的环境描述", item, path)
        for k, v in values.items()
        if _implausible(v)
    ]
    if problems:
        return ItemResult(item, "fail", f"{name}不通过：环境记录缺失或无效", (evidence,), tuple(problems))
    if not re.search(r"\d", env.software):
        problem = Problem("software_version_missing", f"“生成系统”未记录版本号：“{env.software}”", item, path)
        return ItemResult(item, "warn", f"{name}：生成系统未记录版本号", (evidence,), (problem,))
    return ItemResult(item, "pass", f"{name}通过", (evidence,))


def check_environment_change(ctx: CheckContext) -> ItemResult:
    """3-7 保存环境变化情况: fact ``recorded_environment`` vs fact ``environment``; a change warns."""
    item, name = ctx.item_id("3-7"), "保存环境变化情况检测"
    recorded, current = ctx.facts.get("recorded_environment"), ctx.facts.get("environment")
    if not isinstance(recorded, Mapping) or not recorded:
        return _not_run(item, name, "没有入库时记录的保存环境（recorded_environment）")
    if not isinstance(current, Mapping) or not current:
        return _not_run(item, name, "未采集当前保存环境（environment）")
    changes = [
        (key, str(recorded.get(key, "")), str(current.get(key, "")))
        for key in sorted(set(recorded) | set(current))
        if str(recorded.get(key, "")) != str(current.get(key, ""))
    ]
    evidence = Evidence(
        f"记录的保存环境 {len(recorded)} 项与当前环境 {len(current)} 项",
        "与记录一致；有变化时登记并评估",
        "无变化"
        if not changes
        else "；".join(
            f"{_ENVIRONMENT_LABELS.get(k, k)}：{a or '（无）'} → {b or '（无）'}" for k, a, b in changes
        ),
    )
    if not changes:
        return ItemResult(item, "pass", f"{name}通过：保存环境未变化", (evidence,))
    problems = tuple(
        Problem("environment_changed", f"保存环境“{_ENVIRONMENT_LABELS.get(k, k)}”由“{a}”变为“{b}”", item)
        for k, a, b in changes
    )
    return ItemResult(
        item, "warn", f"{name}：保存环境有 {len(changes)} 项变化，需评估并登记", (evidence,), problems
    )


# --------------------------------------------------------------------------------------- 4-4, 4-7
def check_read_speed(ctx: CheckContext) -> ItemResult:
    """4-4 载体读取速度: fact ``read_mb_per_s`` vs config ``min_read_mb_per_s`` (default 20 MB/s).

    A sample under :data:`MIN_SPEED_SAMPLE_BYTES` is ``not_run``: reading a few KB measures the cost
    of opening files, not the carrier (a 3 KB package "read" at 12.9 MB/s and failed — found by fuzzing).
    """
    item, name = ctx.item_id("4-4"), "载体读取速度检测"
    speed = ctx.facts.get("read_mb_per_s")
    if not isinstance(speed, int | float) or isinstance(speed, bool):
        return _not_run(item, name, "未测量存储读取速度（read_mb_per_s）")
    read_bytes = ctx.facts.get("read_bytes")
    if isinstance(read_bytes, int) and read_bytes < MIN_SPEED_SAMPLE_BYTES:
        return _not_run(
            item, name, f"读取样本仅 {read_bytes:,} 字节，少于 {MIN_SPEED_SAMPLE_BYTES:,} 字节，速度不可比"
        )
    minimum = float(ctx.config.get("min_read_mb_per_s") or DEFAULT_MIN_READ_MB_PER_S)
    sample = f"（读取 {read_bytes:,} 字节）" if isinstance(read_bytes, int) else ""
    evidence = Evidence(f"存储读取速度{sample}", f"≥ {minimum:g} MB/s", f"{speed:.1f} MB/s")
    if speed >= minimum:
        return ItemResult(item, "pass", f"{name}通过", (evidence,))
    problem = Problem("read_speed_low", f"读取速度 {speed:.1f} MB/s 低于正常值 {minimum:g} MB/s", item)
    return ItemResult(item, "fail", f"{name}不通过：读取速度偏低", (evidence,), (problem,))


def check_process_security(ctx: CheckContext) -> ItemResult:
    """4-7 操作过程安全性: authenticated actor, logged operation, protected transport."""
    item, name = ctx.item_id("4-7"), "操作过程安全性检测"
    actor, transport, logged = (
        ctx.facts.get("actor"),
        ctx.facts.get("transport"),
        ctx.facts.get("audit_logged"),
    )
    transport_text = str(transport).lower() if transport else ""
    logged_text = "已记录" if logged is True else "未记录" if logged is False else "未知"
    evidence = Evidence(
        "操作人身份认证、操作日志记录、传输方式",
        f"已认证的操作人；操作写入日志；传输方式受保护（{'、'.join(sorted(PROTECTED_TRANSPORTS))}）",
        f"操作人：{actor or '未知'}；日志：{logged_text}；传输：{transport_text or '未知'}",
    )
    problems: list[Problem] = []
    if transport_text in UNPROTECTED_TRANSPORTS:
        problems.append(Problem("transport_unprotected", f"信息包经未加密的 {transport_text} 传输", item))
    if logged is False:
        problems.append(Problem("operation_not_logged", "归档操作未写入操作日志", item))
    if problems:
        return ItemResult(item, "fail", f"{name}不通过", (evidence,), tuple(problems))
    unknown = [
        label
        for label, missing in (
            ("操作人身份", not (isinstance(actor, str) and actor.strip())),
            ("操作日志", logged is not True),
            ("传输方式", transport_text not in PROTECTED_TRANSPORTS),
        )
        if missing
    ]
    if unknown:
        return ItemResult(item, "warn", f"{name}：无法确认{'、'.join(unknown)}", (evidence,))
    return ItemResult(item, "pass", f"{name}通过", (evidence,))
