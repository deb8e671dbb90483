"""The court package (default SIP) as plain values: 说明文件, 目录文件 entries, per-document metadata.

Layout (one case; modelled on the DA/T 93-2022 transfer package)::

    <案号>/                      (optional top folder; a ZIP may also hold the files at its root)
      说明文件.xml               DossierDescription
      目录文件.xml               CatalogEntry per document
      正卷/<顺序号:04d>-<题名>.<ext>
      副卷/<顺序号:04d>-<题名>.<ext>
      元数据/<顺序号:04d>.xml    DocumentMetadata (DA/T 46 subset)

The XML vocabulary (no namespace, attribute 版本="1.0" on each root; schemas in
``standards/schemas/court/``) mirrors these dataclasses field by field; see
:mod:`standards.court_xml` for rendering and parsing. This module only holds values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

DESCRIPTION_FILE = "说明文件.xml"
CATALOG_FILE = "目录文件.xml"
MAIN_VOLUME = "正卷"
SUB_VOLUME = "副卷"
VOLUMES = (MAIN_VOLUME, SUB_VOLUME)
METADATA_FOLDER = "元数据"
SCHEMA_VERSION = "1.0"

ORIGIN_ELECTRONIC = "电子原件"
ORIGIN_DIGITISED = "纸质原件数字化"


def metadata_path(sequence: int) -> str:
    """Package path of the per-document metadata file for 顺序号 ``sequence``."""
    return f"{METADATA_FOLDER}/{sequence:04d}.xml"


@dataclass(frozen=True)
class Environment:
    """软硬件环境 recorded by the submitting system (DA/T 70 GD-3-6)."""

    software: str  # 生成系统, e.g. "某法院电子卷宗系统 3.2"
    operating_system: str  # 操作系统
    hardware: str  # 硬件环境


@dataclass(frozen=True)
class DossierDescription:
    """说明文件.xml – one per package."""

    case_number: str  # 案号, e.g. （2024）粤0306民初1234号
    court_name: str  # 法院名称
    case_type: str  # 案件类型 (code table case_types.csv: 刑事, 民事, 行政, 执行, 国家赔偿, …)
    year: int  # 收案年度
    closing_date: dt.date  # 结案日期
    department: str  # 承办部门
    judge: str  # 承办人
    fonds_code: str  # 全宗号
    submitter: str  # 提交人 (书记员)
    submitted_at: dt.datetime  # 提交时间 (timezone-aware)
    document_count: int  # 文件总数: number of 目录文件 entries (content files)
    total_bytes: int  # 总字节数: sum of 计算机文件大小 of the content files
    digest_algorithms: tuple[str, ...]  # 摘要算法: e.g. ("SHA-256", "SM3")
    environment: Environment  # 软硬件环境
    retention: str  # 保管期限 of the dossier (永久|长期|短期) – the longest of its documents
    note: str = ""  # 备注


@dataclass(frozen=True)
class CatalogEntry:
    """One 文件 entry of 目录文件.xml (root 文件目录)."""

    sequence: int  # 顺序号, 1..n continuous
    archival_code: str  # 档号, e.g. J001-SS·2024-Y-0012-0001
    title: str  # 题名
    author: str  # 责任者
    date: dt.date  # 日期
    retention: str  # 保管期限: 永久 | 长期 | 短期 (configurable court scheme)
    classification: str  # 密级 (code table: 公开, 内部, 秘密, 机密, 绝密)
    pages: int  # 页数
    volume: str  # 卷别: 正卷 | 副卷
    origin: str  # 原件形态: 电子原件 | 纸质原件数字化
    paper_location: str | None  # 纸质原件存放位置, required when origin is 纸质原件数字化
    file_path: str  # 文件路径, package-relative, e.g. 正卷/0001-起诉状.pdf
    file_size: int  # 计算机文件大小 (bytes)
    format: str  # 格式信息 (code table formats.csv: PDF, OFD, JPEG, TIFF, PNG, …)
    sha256: str  # 摘要 算法="SHA-256" (lowercase hex)
    sm3: str  # 摘要 算法="SM3" (lowercase hex)
    note: str = ""  # 备注


@dataclass(frozen=True)
class ProcessStep:
    """One 业务行为 (process metadata, DA/T 46 M80–M84; DA/T 70 GD-2-5)."""

    action: str  # 业务行为, e.g. 立案, 收文, 制作, 签发, 归档
    time: dt.datetime  # 行为时间
    actor: str  # 机构人员名称
    description: str = ""  # 行为描述


@dataclass(frozen=True)
class DocumentMetadata:
    """元数据/<顺序号:04d>.xml – DA/T 46 subset for one document (root 文件元数据)."""

    case_number: str  # 案号
    sequence: int  # 顺序号
    archival_code: str  # 档号
    fonds_code: str  # 来源/全宗号
    archive_unit: str  # 来源/立档单位名称
    title: str  # 内容描述/题名
    author: str  # 内容描述/责任者
    date: dt.date  # 内容描述/日期
    classification: str  # 内容描述/密级
    document_number: str  # 内容描述/文件编号 (may be empty)
    retention: str  # 保管期限
    volume: str  # 卷别
    pages: int  # 形式特征/页数
    language: str  # 形式特征/语种
    format: str  # 电子属性/格式信息
    file_name: str  # 电子属性/计算机文件名 (the last path segment)
    file_size: int  # 电子属性/计算机文件大小
    creating_software: str  # 电子属性/文档创建程序
    origin: str  # 原件形态
    paper_location: str | None  # 纸质原件存放位置
    scan_resolution: int | None  # 数字化属性/扫描分辨率 (dpi), when digitised
    scan_colour: str | None  # 数字化属性/扫描色彩模式: 黑白二值 | 灰度 | 彩色
    sha256: str  # 固化信息/摘要 算法="SHA-256"
    sm3: str  # 固化信息/摘要 算法="SM3"
    history: tuple[ProcessStep, ...] = field(default_factory=tuple)  # 过程信息/业务行为*
