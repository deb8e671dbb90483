"""DA/T 70 items a person answers, and items this system cannot answer yet.

Manual items (2-7, 2-8, 4-5, 4-9; 4-8 until a vulnerability scanner is integrated) return
``manual`` with a checklist: what to confirm and where to record it. 4-6 (光盘合格性) does not
apply to online archiving; 3-9 (备份可恢复性) is ``not_run`` until backups are configured. None of
these ever reports ``pass``. Pure: reads only ``ctx.stage``.
"""

from __future__ import annotations

from integrity.checks.model import CheckContext, ItemResult

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


def check_backup_restorable(ctx: CheckContext) -> ItemResult:
    """3-9 备份数据可恢复性检测: not run until backups are configured (a later issue)."""
    return ItemResult(
        ctx.item_id("3-9"),
        "not_run",
        "备份数据可恢复性检测未执行：未配置备份",
        reason="未配置备份",
    )
