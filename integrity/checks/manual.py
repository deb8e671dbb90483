"""DA/T 70 items a person answers, and items this system cannot answer yet.

Manual items (2-7, 2-8, 4-5, 4-9; 4-8 until a vulnerability scanner is integrated) return
``manual`` with a checklist: what to confirm and where to record it. 4-6 (光盘合格性) does not
apply to online archiving. None of these ever reports ``pass``. Pure: reads only ``ctx.stage``.
The exception is 3-9 (备份可恢复性), which decides on the fact ``backup_restore`` a full audit gathers
(:mod:`archive.backup.sample_check`) and is ``not_run`` until backups are configured and exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrity.checks.model import CheckContext, Evidence, ItemResult
from integrity.hashing import digests_equal
from standards.problems import Problem

# Where the result is recorded, per stage (GB/T 18894-2016 表A.1 at archiving; 档发〔2012〕7号 附件3 /
# DA/T 93-2022 附录C at transfer; the preservation check log at BC).
_FORM = {
    "GD": "《电子文件归档登记表》（GB/T 18894-2016 表A.1）",
    "YJ": "《电子档案移交接收登记表》（DA/T 93-2022 附录C）",
    "BC": "长期保存检测记录（本系统检测报告的人工确认栏）",
}


def _manual(ctx: CheckContext, number: str, name: str, checklist: str) -> ItemResult:
    return ItemResult(ctx.item_id(number), "manual", f"{name}需人工检查", checklist=checklist)


def check_content_integrity(ctx: CheckContext) -> ItemResult:
    """2-7 内容数据完整性检测 (DA/T 70 GD-2-7: open the content and inspect)."""
    return _manual(
        ctx,
        "2-7",
        "内容数据完整性检测",
        "逐件打开正卷、副卷内容文件，确认：页数与目录文件“页数”一致；首页、末页及中间页无缺页、空白页或乱码；"
        "签名、印章、落款日期可见；纸质原件数字化件与纸质原件页数一致。"
        f"在{_FORM[ctx.stage]}“完整性检测”栏记录检查结果、检查人和日期。",
    )


def check_attachment_integrity(ctx: CheckContext) -> ItemResult:
    """2-8 附件数据完整性检测 (DA/T 70 GD-2-8: open attachments, nothing lost)."""
    return _manual(
        ctx,
        "2-8",
        "附件数据完整性检测",
        "对照各文件正文中“附件”所列名称和数量，确认每个附件（证据材料、送达回证、清单等）均已作为单独文件或页归档、"
        "能打开且内容与附件名称相符。"
        f"在{_FORM[ctx.stage]}“完整性检测”栏记录缺失附件的顺序号与名称（无缺失则写“附件齐全”）。",
    )


def check_carrier_appearance(ctx: CheckContext) -> ItemResult:
    """4-5 载体外观检测 (visual inspection of the storage carrier)."""
    return _manual(
        ctx,
        "4-5",
        "载体外观检测",
        "离线载体（移动硬盘、光盘、磁带）：目视确认无划痕、霉斑、变形、破损，标签清晰且与载体编号一致；"
        "在线归档或在线移交无离线载体时注明“在线传输，无载体”。"
        f"在{_FORM[ctx.stage]}“载体外观”栏记录。",
    )


def check_optical_disc(ctx: CheckContext) -> ItemResult:
    """4-6 光盘合格性检测: not applicable, the system archives online (no optical discs)."""
    return ItemResult(
        ctx.item_id("4-6"),
        "not_applicable",
        "光盘合格性检测不适用",
        reason="本系统在线归档，不涉及光盘载体",
    )


def check_vulnerability_scan(ctx: CheckContext) -> ItemResult:
    """4-8 软件系统安全漏洞检测: no vulnerability scanner integrated, so a person runs one."""
    return _manual(
        ctx,
        "4-8",
        "软件系统安全漏洞检测",
        "本系统未集成漏洞扫描工具：由安全管理员使用专业漏洞扫描工具扫描长期保存所涉及的服务器、数据库、对象存储和本系统，"
        "确认无高危漏洞或已处置；在长期保存检测记录中记录扫描工具及版本、扫描日期、高危/中危漏洞数和处置情况。",
    )


def check_storage_environment(ctx: CheckContext) -> ItemResult:
    """4-9 载体保管环境安全性检测 (manual check of the rooms holding disks, tapes, discs)."""
    return _manual(
        ctx,
        "4-9",
        "载体保管环境安全性检测",
        "检查存放存储设备与备份载体的机房/库房：温湿度在国家规定范围内并有记录，防火、防水、防磁、防盗措施有效，"
        "门禁与出入登记完整；在长期保存检测记录中记录温度、湿度、检查人和日期及发现的问题。",
    )


def _object_problem(item: str, obj: Mapping[str, Any]) -> Problem | None:
    """3-9: one restored object against the inventory and the live catalog (None: it matches)."""
    key, want, found = obj.get("key"), obj.get("expected_sha256"), obj.get("found_sha256")
    catalog = obj.get("catalog_sha256")
    if obj.get("code") == "object_missing" or found is None:
        return Problem("backup_object_missing", f"备份清单登记的 {key} 在备份存储中不存在", item, key)
    if obj.get("code") or not digests_equal(str(want), str(found)):
        message = f"备份对象 {key} 恢复后 SHA-256 应为 {want}，实为 {found}（大小 {obj.get('size')} 字节）"
        return Problem("backup_object_mismatch", message, item, key)
    if catalog is not None and not digests_equal(str(want), str(catalog)):
        message = f"备份对象 {key} 的 SHA-256 为 {want}，目录数据库登记为 {catalog}"
        return Problem("backup_catalog_mismatch", message, item, key)
    return None


def _backup_problems(item: str, fact: Mapping[str, Any]) -> list[Problem]:
    """3-9: every restored object, and the catalog dump, against what the backup and the catalog say."""
    problems: list[Problem] = []
    corrupt = fact.get("corrupt")
    if isinstance(corrupt, Mapping):
        message = f"备份不完整或已损坏：{corrupt.get('message')}"
        problems.append(
            Problem(str(corrupt.get("code", "backup_corrupt")), message, item, corrupt.get("path"))
        )
    problems += [p for p in (_object_problem(item, o) for o in fact.get("objects", [])) if p is not None]
    dump = fact.get("catalog")
    if isinstance(dump, Mapping):
        if dump.get("rows") != dump.get("rows_expected") or dump.get("tables_differing"):
            message = f"备份目录数据应有 {dump.get('rows_expected')} 行，解析得 {dump.get('rows')} 行"
            problems.append(Problem("backup_catalog_rows", message, item))
        same_root = digests_equal(str(dump.get("ledger_expected_root")), str(dump.get("ledger_root")))
        if dump.get("ledger_size") != dump.get("ledger_expected_size") or not same_root:
            expected = f"{dump.get('ledger_expected_size')} 个叶子、根哈希 {dump.get('ledger_expected_root')}"
            found = f"{dump.get('ledger_size')} 个叶子、根哈希 {dump.get('ledger_root')}"
            message = f"备份中的账本应为 {expected}，由备份叶子重算为 {found}"
            problems.append(Problem("backup_ledger_mismatch", message, item))
        problems += [
            Problem("backup_catalog_dump", f"备份目录数据：{p}", item) for p in dump.get("problems", [])
        ]
    return problems


def check_backup_restorable(ctx: CheckContext) -> ItemResult:
    """3-9 备份数据可恢复性检测 (DA/T 70 BC-3-9: a backup-recovery tool confirms backups restore intact).

    Reads the fact ``backup_restore`` (:func:`archive.backup.sample_check.backup_restore_fact`):
    ``status`` ``not_configured`` / ``no_backup`` / ``unavailable`` (→ ``not_run`` with ``reason``) or
    ``checked`` with ``backup_id``, ``created_at``, ``objects`` (each ``key``, ``expected_sha256`` from the
    inventory, ``found_sha256`` after restoring, ``catalog_sha256`` from the live catalog or None, ``code``),
    ``catalog`` (rows and ledger recomputed from the dump vs ``backup.json``), optional ``corrupt`` (a part
    that does not match ``backup.json``) and ``dossier_in_backup``. ``fail`` on any mismatch; ``warn`` when
    everything restored but this dossier is not yet in the latest backup; ``pass`` otherwise.
    """
    item, name = ctx.item_id("3-9"), "备份数据可恢复性检测"
    fact = ctx.facts.get("backup_restore")
    if not isinstance(fact, Mapping):
        return ItemResult(item, "not_run", f"{name}未执行：未配置备份", reason="未配置备份")
    status = fact.get("status")
    reasons = {
        "not_configured": f"未配置备份（{fact.get('reason') or 'EDOSSIER_BACKUP__STORE'}）",
        "no_backup": "备份存储中尚无完整备份（请先运行 edossier backup）",
        "unavailable": f"备份存储或数据库暂不可达，未能恢复抽样（不构成检测结论）：{fact.get('reason')}",
    }
    if status in reasons:
        return ItemResult(item, "not_run", f"{name}未执行：{reasons[status]}", reason=reasons[status])
    objects = list(fact.get("objects", []))
    problems = _backup_problems(item, fact)
    if not objects and not problems:
        reason = f"最新备份 {fact.get('backup_id')} 中没有可抽样恢复的对象"
        return ItemResult(item, "not_run", f"{name}未执行：{reason}", reason=reason)
    matching = sum(1 for o in objects if _object_problem(item, o) is None)
    raw_dump = fact.get("catalog")
    dump: Mapping[str, Any] = raw_dump if isinstance(raw_dump, Mapping) else {}
    backup = f"最新备份 {fact.get('backup_id')}（{fact.get('created_at')}）"
    ledger_expected = f"{dump.get('ledger_expected_size')} 个叶子，根哈希 {dump.get('ledger_expected_root')}"
    evidence = (
        Evidence(
            f"{backup}中抽取 {len(objects)} 个对象恢复到临时目录并重新计算 SHA-256",
            "与备份清单（inventory.json）及目录数据库登记的摘要一致",
            f"{matching}/{len(objects)} 个一致",
        ),
        Evidence(
            "备份中的目录数据（catalog.jsonl.gz，逐行解析）与账本叶子",
            f"{dump.get('rows_expected')} 行；账本 {ledger_expected}",
            f"{dump.get('rows')} 行；账本 {dump.get('ledger_size')} 个叶子，根哈希 {dump.get('ledger_root')}",
        ),
    )
    if problems:
        return ItemResult(item, "fail", f"{name}不通过：备份无法完整恢复", evidence, tuple(problems))
    if fact.get("dossier_in_backup") is False:
        summary = f"{name}：抽样恢复一致，但本卷尚未包含在最新备份中（请运行 edossier backup）"
        return ItemResult(item, "warn", summary, evidence)
    return ItemResult(item, "pass", f"{name}通过：抽样恢复的对象与备份清单、目录数据库一致", evidence)
