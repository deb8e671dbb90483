"""Rules for one 元数据/<n>.xml: agreement with its catalogue entry and 说明文件 (GD-1-11, GD-1-7),
mandatory DA/T 46 fields (GD-2-4) and process metadata (GD-2-5).

Pure: dataclasses in, :class:`Problem` list out. Parsing the file is left to :mod:`standards.validation`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from standards.court_package import ORIGIN_DIGITISED, CatalogEntry, DocumentMetadata, DossierDescription
from standards.problems import Problem
from standards.rules_fields import after_day, empty, implausible


def check_metadata(
    m: DocumentMetadata,
    e: CatalogEntry,
    d: DossierDescription | None,
    *,
    today: dt.date,
    path: str,
    lines: Mapping[str, int],
) -> list[Problem]:
    """Every disagreement and omission of metadata ``m`` for catalogue entry ``e``."""
    out: list[Problem] = []
    file_name = e.file_path.rsplit("/", 1)[-1]
    pairs: tuple[tuple[str, str, object, object], ...] = (
        ("顺序号", "顺序号", m.sequence, e.sequence),
        ("档号", "档号", m.archival_code, e.archival_code),
        ("题名", "内容描述/题名", m.title, e.title),
        ("责任者", "内容描述/责任者", m.author, e.author),
        ("日期", "内容描述/日期", m.date, e.date),
        ("密级", "内容描述/密级", m.classification, e.classification),
        ("保管期限", "保管期限", m.retention, e.retention),
        ("卷别", "卷别", m.volume, e.volume),
        ("页数", "形式特征/页数", m.pages, e.pages),
        ("格式信息", "电子属性/格式信息", m.format, e.format),
        ("计算机文件名", "电子属性/计算机文件名", m.file_name, file_name),
        ("计算机文件大小", "电子属性/计算机文件大小", m.file_size, e.file_size),
        ("原件形态", "原件形态", m.origin, e.origin),
        ("纸质原件存放位置", "纸质原件存放位置", m.paper_location, e.paper_location),
        ("SHA-256 摘要", "固化信息/摘要[1]", m.sha256.lower(), e.sha256.lower()),
        ("SM3 摘要", "固化信息/摘要[2]", m.sm3.lower(), e.sm3.lower()),
    )
    for label, key, found, expected in pairs:  # DA/T 70 GD-1-11: metadata is tied to its content
        if found != expected:
            out.append(
                Problem(
                    "metadata_mismatch",
                    f"元数据的“{label}”为“{found}”，目录文件为“{expected}”",
                    "GD-1-11",
                    path,
                    lines.get(key),
                )
            )
    if d is not None:
        if m.case_number != d.case_number:  # GD-1-7
            out.append(
                Problem(
                    "case_number_mismatch",
                    f"元数据的案号“{m.case_number}”与说明文件的案号“{d.case_number}”不一致",
                    "GD-1-7",
                    path,
                    lines.get("案号"),
                )
            )
        if m.fonds_code != d.fonds_code:
            out.append(
                Problem(
                    "metadata_mismatch",
                    f"元数据的全宗号“{m.fonds_code}”与说明文件的全宗号“{d.fonds_code}”不一致",
                    "GD-1-11",
                    path,
                    lines.get("来源/全宗号"),
                )
            )
    for label, key, value in (
        ("立档单位名称", "来源/立档单位名称", m.archive_unit),
        ("语种", "形式特征/语种", m.language),
        ("计算机文件名", "电子属性/计算机文件名", m.file_name),
        ("文档创建程序", "电子属性/文档创建程序", m.creating_software),
    ):
        if not value:  # GD-2-4
            out.append(empty(label, "元数据", path, lines.get(key)))
    if m.origin == ORIGIN_DIGITISED and (m.scan_resolution is None or not m.scan_colour):
        out.append(
            Problem(
                "scan_attributes_missing",
                "纸质原件数字化的文件缺少数字化属性（扫描分辨率、扫描色彩模式）",
                "GD-2-4",
                path,
                lines.get("原件形态"),
            )
        )
    out += _check_history(m, today=today, path=path, lines=lines)
    return out


def _check_history(
    m: DocumentMetadata, *, today: dt.date, path: str, lines: Mapping[str, int]
) -> list[Problem]:
    """DA/T 70 GD-2-5 (DA/T 46 M80–M84): at least one 业务行为, each with 行为 and 机构人员名称."""
    if not m.history:
        return [
            Problem(
                "process_metadata_missing",
                "元数据缺少过程信息（业务行为）",
                "GD-2-5",
                path,
                lines.get("过程信息"),
            )
        ]
    out: list[Problem] = []
    for i, step in enumerate(m.history, start=1):
        line = lines.get(f"过程信息/业务实体[{i}]", lines.get("过程信息/业务实体"))
        if not step.action or not step.actor:
            out.append(
                Problem(
                    "process_step_incomplete",
                    f"第 {i} 个业务行为缺少业务行为或机构人员名称",
                    "GD-2-5",
                    path,
                    line,
                )
            )
        if after_day(step.time, today):
            out.append(
                implausible(
                    f"第 {i} 个业务行为的行为时间 {step.time.isoformat()} 晚于检测日期 {today}", path, line
                )
            )
    return out
