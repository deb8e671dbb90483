"""说明文件, 目录文件 and 移交清单 of a transfer package: values, UTF-8 XML rendering, hardened parsing (pure).

``render_*`` write XML (declaration, UTF-8, pretty-printed) that conforms to ``schemas/*.xsd`` beside
this module; ``parse_*`` take untrusted bytes through :func:`standards.xml_parser.parse_xml` (size
limit, no DOCTYPE, no entities, no network), validate them against the XSD and return the values.
Whether the values agree with each other and with the files is :mod:`archive.transfer.inspect`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from lxml import etree

from archive.transfer.errors import TransferDocumentInvalid
from archive.transfer.findings import Finding
from archive.transfer.fixity import FixityList
from standards.errors import BadInput
from standards.limits import Limits
from standards.xml_parser import make_parser, parse_xml, source_line

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
VERSION = "1.0"
_ALGORITHM_NAMES = {"sha256": "SHA-256", "sm3": "SM3"}
_T = TypeVar("_T")


@dataclass(frozen=True)
class TransferDescription:
    """说明文件.xml (DA/T 93-2022 Annex B)."""

    transfer_id: str  # 移交标识
    encoding: str  # 字符编码
    carrier_type: str  # 载体/载体类型
    carrier_label: str  # 载体/载体编号 (Annex D)
    transferring_unit: str  # 移交单位
    receiving_unit: str  # 接收单位
    content: str  # 内容描述
    arrangement: str  # 整理方式
    first_code: str  # 起始档号
    last_code: str  # 终止档号
    record_count: int  # 案卷数
    document_count: int  # 文件数 (documents of every record)
    file_count: int  # 计算机文件数 (files in the record folders, EEPs included)
    total_bytes: int  # 总字节数 (of those files)
    digest_algorithms: tuple[str, ...]  # 摘要算法: SHA-256, SM3
    software: str  # 软硬件环境/生成系统
    runtime: str  # 软硬件环境/运行环境
    operating_system: str
    hardware: str
    created_at: dt.datetime  # 创建时间


@dataclass(frozen=True)
class TransferEntry:
    """One 文件 of 目录文件.xml: the minimum catalogue fields of DA/T 93 for one record."""

    sequence: int  # 顺序号
    archival_code: str  # 档号 (record level)
    author: str  # 责任者
    title: str  # 题名
    date: dt.date  # 日期
    retention: str  # 保管期限
    classification: str  # 密级
    pages: int  # 页数
    note: str  # 备注
    line: int | None = None


@dataclass(frozen=True)
class ListEntry:
    """One 记录 of 其他/移交清单.xml."""

    sequence: int
    archival_code: str
    case_number: str  # 案号
    archive_id: str  # the sender's archive id
    file_count: int  # files of the record's court package (the EEP not counted)
    total_bytes: int  # their bytes
    package_digest: str  # inventory SHA-256 recorded at archiving (DA/T 70 YJ-1-14 "before")
    eep_file: str  # 封装包文件 (name inside the record folder)
    eep_sha256: str
    line: int | None = None


@dataclass(frozen=True)
class TransferDocuments:
    """The parsed description files (None when absent or unreadable) and the findings of reading them."""

    description: TransferDescription | None = None
    catalog: list[TransferEntry] | None = None
    list_id: str | None = None
    transfer_list: list[ListEntry] | None = None
    fixity: FixityList | None = None
    findings: tuple[Finding, ...] = ()


# ------------------------------------------------------------------ schemas
@functools.cache
def load_transfer_schema(name: str) -> etree.XMLSchema:
    """The compiled XSD ``schemas/<name>`` of the transfer package, cached per process.

    Raises:
        ValueError: no such schema file (a caller bug; schemas ship with the package).
    """
    file = (SCHEMA_DIR / name).resolve()
    if file.parent != SCHEMA_DIR or not file.is_file():
        raise ValueError(f"unknown transfer schema {name!r} (looked in {SCHEMA_DIR})")
    return etree.XMLSchema(etree.parse(str(file), parser=make_parser()))


def parse_checked(data: bytes, schema: str, *, limits: Limits, path: str) -> etree._Element:
    """Hardened parse + XSD validation of an untrusted transfer document.

    Raises:
        TransferDocumentInvalid: too large, a DOCTYPE, not well-formed, or not valid against ``schema``
            (the message names the first error and its line).
    """
    try:
        root = parse_xml(data, limits=limits, path=path)
    except BadInput as error:
        raise TransferDocumentInvalid(f"{path}: {error.message}", path=path) from None
    compiled = load_transfer_schema(schema)
    if not compiled.validate(root):
        errors: list[Any] = list(cast(Iterable[Any], compiled.error_log))
        first = errors[0]
        raise TransferDocumentInvalid(
            f"{path}: not valid against {schema}: {first.message} (line {first.line}; {len(errors)} error(s))",
            path=path,
            line=first.line,
        )
    return root


# ------------------------------------------------------------------ helpers
def _sub(parent: etree._Element, tag: str, text: str | int | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text(el: etree._Element, tag: str) -> str:
    found = el.find(tag)
    return (found.text or "") if found is not None else ""


def _convert(el: etree._Element, tag: str, convert: Callable[[str], _T], path: str) -> _T:
    found = el.find(tag)
    text = (found.text or "").strip() if found is not None else ""
    try:
        return convert(text)
    except ValueError:
        line = source_line(found) if found is not None else source_line(el)
        raise TransferDocumentInvalid(
            f"{path}: {tag} {text[:60]!r} cannot be read (line {line})", path=path, line=line
        ) from None


def _time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("naive time")
    return value


def _digest(parent: etree._Element, tag: str, hexdigest: str) -> None:
    _sub(parent, tag, hexdigest).set("算法", "SHA-256")


# ------------------------------------------------------------------ 说明文件
def render_description(d: TransferDescription) -> bytes:
    root = etree.Element("说明文件", {"版本": VERSION})
    _sub(root, "移交标识", d.transfer_id)
    _sub(root, "字符编码", d.encoding)
    carrier = _sub(root, "载体")
    _sub(carrier, "载体类型", d.carrier_type)
    _sub(carrier, "载体编号", d.carrier_label)
    for tag, value in (
        ("移交单位", d.transferring_unit),
        ("接收单位", d.receiving_unit),
        ("内容描述", d.content),
        ("整理方式", d.arrangement),
        ("起始档号", d.first_code),
        ("终止档号", d.last_code),
        ("案卷数", d.record_count),
        ("文件数", d.document_count),
        ("计算机文件数", d.file_count),
        ("总字节数", d.total_bytes),
    ):
        _sub(root, tag, value)
    for name in d.digest_algorithms:
        _sub(root, "摘要算法", _ALGORITHM_NAMES.get(name, name))
    env = _sub(root, "软硬件环境")
    _sub(env, "生成系统", d.software)
    _sub(env, "运行环境", d.runtime)
    _sub(env, "操作系统", d.operating_system)
    _sub(env, "硬件环境", d.hardware)
    _sub(root, "创建时间", d.created_at.isoformat())
    return _bytes(root)


def parse_description(data: bytes, *, limits: Limits, path: str = "说明文件.xml") -> TransferDescription:
    """Read 说明文件.xml.

    Raises:
        TransferDocumentInvalid: unreadable or not valid against ``description.xsd``.
    """
    root = parse_checked(data, "description.xsd", limits=limits, path=path)
    env = root.find("软硬件环境")
    assert env is not None  # schema-valid
    names = {v: k for k, v in _ALGORITHM_NAMES.items()}
    return TransferDescription(
        transfer_id=_text(root, "移交标识"),
        encoding=_text(root, "字符编码"),
        carrier_type=_text(root, "载体/载体类型"),
        carrier_label=_text(root, "载体/载体编号"),
        transferring_unit=_text(root, "移交单位"),
        receiving_unit=_text(root, "接收单位"),
        content=_text(root, "内容描述"),
        arrangement=_text(root, "整理方式"),
        first_code=_text(root, "起始档号"),
        last_code=_text(root, "终止档号"),
        record_count=_convert(root, "案卷数", int, path),
        document_count=_convert(root, "文件数", int, path),
        file_count=_convert(root, "计算机文件数", int, path),
        total_bytes=_convert(root, "总字节数", int, path),
        digest_algorithms=tuple(names.get(e.text or "", e.text or "") for e in root.iterfind("摘要算法")),
        software=_text(env, "生成系统"),
        runtime=_text(env, "运行环境"),
        operating_system=_text(env, "操作系统"),
        hardware=_text(env, "硬件环境"),
        created_at=_convert(root, "创建时间", _time, path),
    )


# ------------------------------------------------------------------ 目录文件
def render_catalog(entries: Iterable[TransferEntry]) -> bytes:
    root = etree.Element("文件目录", {"版本": VERSION})
    for e in entries:
        el = _sub(root, "文件")
        for tag, value in (
            ("顺序号", e.sequence),
            ("档号", e.archival_code),
            ("责任者", e.author),
            ("题名", e.title),
            ("日期", e.date.isoformat()),
            ("保管期限", e.retention),
            ("密级", e.classification),
            ("页数", e.pages),
            ("备注", e.note),
        ):
            _sub(el, tag, value)
    return _bytes(root)


def parse_catalog(data: bytes, *, limits: Limits, path: str = "目录文件.xml") -> list[TransferEntry]:
    """Read 目录文件.xml (entries in document order).

    Raises:
        TransferDocumentInvalid: unreadable or not valid against ``catalog.xsd``.
    """
    root = parse_checked(data, "catalog.xsd", limits=limits, path=path)
    return [
        TransferEntry(
            sequence=_convert(el, "顺序号", int, path),
            archival_code=_text(el, "档号"),
            author=_text(el, "责任者"),
            title=_text(el, "题名"),
            date=_convert(el, "日期", dt.date.fromisoformat, path),
            retention=_text(el, "保管期限"),
            classification=_text(el, "密级"),
            pages=_convert(el, "页数", int, path),
            note=_text(el, "备注"),
            line=source_line(el),
        )
        for el in root.iterfind("文件")
    ]


# ------------------------------------------------------------------ 移交清单
def render_transfer_list(transfer_id: str, entries: Iterable[ListEntry]) -> bytes:
    root = etree.Element("移交清单", {"版本": VERSION, "移交标识": transfer_id})
    for e in entries:
        el = _sub(root, "记录")
        for tag, value in (
            ("顺序号", e.sequence),
            ("档号", e.archival_code),
            ("案号", e.case_number),
            ("档案标识", e.archive_id),
            ("计算机文件数", e.file_count),
            ("总字节数", e.total_bytes),
        ):
            _sub(el, tag, value)
        _digest(el, "信息包摘要", e.package_digest)
        _sub(el, "封装包文件", e.eep_file)
        _digest(el, "封装包摘要", e.eep_sha256)
    return _bytes(root)


def parse_transfer_list(
    data: bytes, *, limits: Limits, path: str = "其他/移交清单.xml"
) -> tuple[str, list[ListEntry]]:
    """Read 移交清单.xml: its 移交标识 and the records in document order.

    Raises:
        TransferDocumentInvalid: unreadable or not valid against ``transfer-list.xsd``.
    """
    root = parse_checked(data, "transfer-list.xsd", limits=limits, path=path)
    return root.get("移交标识", ""), [
        ListEntry(
            sequence=_convert(el, "顺序号", int, path),
            archival_code=_text(el, "档号"),
            case_number=_text(el, "案号"),
            archive_id=_text(el, "档案标识"),
            file_count=_convert(el, "计算机文件数", int, path),
            total_bytes=_convert(el, "总字节数", int, path),
            package_digest=_text(el, "信息包摘要"),
            eep_file=_text(el, "封装包文件"),
            eep_sha256=_text(el, "封装包摘要"),
            line=source_line(el),
        )
        for el in root.iterfind("记录")
    ]
