"""Render and read the court package XML files (说明文件, 目录文件, 元数据/<n>.xml).

``render_*`` turn the dataclasses of :mod:`standards.court_package` into UTF-8 XML (declaration,
pretty-printed) that conforms to ``standards/schemas/court/*.xsd``. ``*_from_xml`` convert an
already parsed (and normally XSD-validated) root element back into the dataclasses with source line
numbers; ``parse_*`` do parse + XSD + conversion in one call. Profile rules (code tables, 案号,
counts, digests against files) are left to :mod:`standards.validation`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from lxml import etree

from standards.court_package import (
    SCHEMA_VERSION,
    CatalogEntry,
    DocumentMetadata,
    DossierDescription,
    Environment,
    ProcessStep,
)
from standards.errors import BadInput
from standards.limits import Limits
from standards.xml_parser import parse_xml, source_line, verify_schema

DESCRIPTION_SCHEMA = "court/description.xsd"
CATALOG_SCHEMA = "court/catalog.xsd"
METADATA_SCHEMA = "court/document-metadata.xsd"

_ALGORITHMS = (("SHA-256", "sha256"), ("SM3", "sm3"))
_T = TypeVar("_T")


class CourtXmlValueError(BadInput):
    """An element of a court XML file is missing or its text cannot be converted."""

    code = "court_xml_value"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message, path=path)
        self.line = line


# ------------------------------------------------------------------ rendering
def _sub(parent: etree._Element, tag: str, text: str | int | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _digests(parent: etree._Element, sha256: str, sm3: str) -> None:
    for name, value in (("SHA-256", sha256), ("SM3", sm3)):
        _sub(parent, "摘要", value).set("算法", name)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render_description(d: DossierDescription) -> bytes:
    """说明文件.xml for ``d`` (valid against ``court/description.xsd``)."""
    root = etree.Element("说明文件", {"版本": SCHEMA_VERSION})
    for tag, value in (
        ("案号", d.case_number),
        ("法院名称", d.court_name),
        ("案件类型", d.case_type),
        ("收案年度", f"{d.year:04d}"),
        ("结案日期", d.closing_date.isoformat()),
        ("承办部门", d.department),
        ("承办人", d.judge),
        ("全宗号", d.fonds_code),
        ("提交人", d.submitter),
        ("提交时间", d.submitted_at.isoformat()),
        ("文件总数", d.document_count),
        ("总字节数", d.total_bytes),
    ):
        _sub(root, tag, value)
    algorithms = _sub(root, "摘要算法")
    for name in d.digest_algorithms:
        _sub(algorithms, "算法", name)
    env = _sub(root, "软硬件环境")
    _sub(env, "生成系统", d.environment.software)
    _sub(env, "操作系统", d.environment.operating_system)
    _sub(env, "硬件环境", d.environment.hardware)
    _sub(root, "保管期限", d.retention)
    if d.note:
        _sub(root, "备注", d.note)
    return _serialise(root)


def render_catalog(case_number: str, entries: Iterable[CatalogEntry]) -> bytes:
    """目录文件.xml listing ``entries`` in the given order (valid against ``court/catalog.xsd``)."""
    root = etree.Element("文件目录", {"版本": SCHEMA_VERSION, "案号": case_number})
    for e in entries:
        f = _sub(root, "文件")
        for tag, value in (
            ("顺序号", e.sequence),
            ("档号", e.archival_code),
            ("题名", e.title),
            ("责任者", e.author),
            ("日期", e.date.isoformat()),
            ("保管期限", e.retention),
            ("密级", e.classification),
            ("页数", e.pages),
            ("卷别", e.volume),
            ("原件形态", e.origin),
        ):
            _sub(f, tag, value)
        if e.paper_location is not None:
            _sub(f, "纸质原件存放位置", e.paper_location)
        _sub(f, "文件路径", e.file_path)
        _sub(f, "计算机文件大小", e.file_size)
        _sub(f, "格式信息", e.format)
        _digests(f, e.sha256, e.sm3)
        if e.note:
            _sub(f, "备注", e.note)
    return _serialise(root)


def render_document_metadata(m: DocumentMetadata) -> bytes:
    """元数据/<n>.xml for ``m`` (valid against ``court/document-metadata.xsd``)."""
    root = etree.Element("文件元数据", {"版本": SCHEMA_VERSION})
    _sub(root, "案号", m.case_number)
    _sub(root, "顺序号", m.sequence)
    _sub(root, "档号", m.archival_code)
    source = _sub(root, "来源")
    _sub(source, "全宗号", m.fonds_code)
    _sub(source, "立档单位名称", m.archive_unit)
    content = _sub(root, "内容描述")
    _sub(content, "题名", m.title)
    _sub(content, "责任者", m.author)
    _sub(content, "日期", m.date.isoformat())
    _sub(content, "密级", m.classification)
    if m.document_number:
        _sub(content, "文件编号", m.document_number)
    _sub(root, "保管期限", m.retention)
    _sub(root, "卷别", m.volume)
    form = _sub(root, "形式特征")
    _sub(form, "页数", m.pages)
    _sub(form, "语种", m.language)
    elec = _sub(root, "电子属性")
    _sub(elec, "格式信息", m.format)
    _sub(elec, "计算机文件名", m.file_name)
    _sub(elec, "计算机文件大小", m.file_size)
    _sub(elec, "文档创建程序", m.creating_software)
    _sub(root, "原件形态", m.origin)
    if m.paper_location is not None:
        _sub(root, "纸质原件存放位置", m.paper_location)
    if m.scan_resolution is not None or m.scan_colour is not None:
        scan = _sub(root, "数字化属性")
        _sub(scan, "扫描分辨率", m.scan_resolution)
        _sub(scan, "扫描色彩模式", m.scan_colour)
    _digests(_sub(root, "固化信息"), m.sha256, m.sm3)
    history = _sub(root, "过程信息")
    for step in m.history:
        s = _sub(history, "业务实体")
        _sub(s, "业务行为", step.action)
        _sub(s, "行为时间", step.time.isoformat())
        _sub(s, "机构人员名称", step.actor)
        if step.description:
            _sub(s, "行为描述", step.description)
    return _serialise(root)


# ------------------------------------------------------------------ reading
@dataclass(frozen=True)
class ParsedDescription:
    description: DossierDescription
    lines: dict[str, int]  # element tag → source line


@dataclass(frozen=True)
class ParsedCatalog:
    case_number: str
    entries: list[CatalogEntry]
    lines: dict[int, int]  # 顺序号 → line of its 文件 element (first one when duplicated)


@dataclass(frozen=True)
class ParsedMetadata:
    metadata: DocumentMetadata
    lines: dict[str, int]  # element path (e.g. "内容描述/题名") → source line


def _child(parent: etree._Element, path: str) -> etree._Element:
    el = parent.find(path)
    if el is None:
        raise CourtXmlValueError(
            f"element {path!r} missing under <{parent.tag}> (line {source_line(parent)})",
            line=source_line(parent),
        )
    return el


def _text(parent: etree._Element, path: str) -> str:
    return (_child(parent, path).text or "").strip()


def _opt_text(parent: etree._Element, path: str) -> str | None:
    el = parent.find(path)
    return None if el is None else (el.text or "").strip()


def _convert(parent: etree._Element, path: str, kind: str, fn: Callable[[str], _T]) -> _T:
    el = _child(parent, path)
    raw = (el.text or "").strip()
    try:
        return fn(raw)
    except ValueError:
        raise CourtXmlValueError(
            f"element {path!r}: expected {kind}, found {raw!r} (line {source_line(el)})", line=source_line(el)
        ) from None


def _int(parent: etree._Element, path: str) -> int:
    return _convert(parent, path, "an integer", int)


def _date(parent: etree._Element, path: str) -> dt.date:
    return _convert(parent, path, "a date YYYY-MM-DD", dt.date.fromisoformat)


def _datetime(parent: etree._Element, path: str) -> dt.datetime:
    value: dt.datetime = _convert(parent, path, "a dateTime", dt.datetime.fromisoformat)
    if value.tzinfo is None:
        el = _child(parent, path)
        raise CourtXmlValueError(
            f"element {path!r}: expected a timezone, found {el.text!r} (line {source_line(el)})",
            line=source_line(el),
        )
    return value


def _digest_pair(parent: etree._Element) -> tuple[str, str]:
    found = {el.get("算法"): (el.text or "").strip().lower() for el in parent.findall("摘要")}
    for name, _key in _ALGORITHMS:
        if name not in found:
            raise CourtXmlValueError(
                f"<摘要 算法={name!r}> missing under <{parent.tag}> (line {source_line(parent)})",
                line=source_line(parent),
            )
    return found["SHA-256"] or "", found["SM3"] or ""


def _check_root(root: etree._Element, tag: str) -> None:
    if root.tag != tag:
        raise CourtXmlValueError(
            f"root element: expected <{tag}>, found <{root.tag}>", line=source_line(root)
        )


def description_from_xml(root: etree._Element) -> ParsedDescription:
    """The 说明文件 values of ``root``.

    Raises:
        CourtXmlValueError: wrong root, a missing element or an unconvertible value.
    """
    _check_root(root, "说明文件")
    env = _child(root, "软硬件环境")
    d = DossierDescription(
        case_number=_text(root, "案号"),
        court_name=_text(root, "法院名称"),
        case_type=_text(root, "案件类型"),
        year=_int(root, "收案年度"),
        closing_date=_date(root, "结案日期"),
        department=_text(root, "承办部门"),
        judge=_text(root, "承办人"),
        fonds_code=_text(root, "全宗号"),
        submitter=_text(root, "提交人"),
        submitted_at=_datetime(root, "提交时间"),
        document_count=_int(root, "文件总数"),
        total_bytes=_int(root, "总字节数"),
        digest_algorithms=tuple((el.text or "").strip() for el in _child(root, "摘要算法").findall("算法")),
        environment=Environment(
            software=_text(env, "生成系统"),
            operating_system=_text(env, "操作系统"),
            hardware=_text(env, "硬件环境"),
        ),
        retention=_text(root, "保管期限"),
        note=_opt_text(root, "备注") or "",
    )
    lines = {str(el.tag): source_line(el) or 0 for el in root if isinstance(el.tag, str)}
    return ParsedDescription(d, lines)


def entry_from_xml(f: etree._Element) -> CatalogEntry:
    """One 文件 element of 目录文件 as a :class:`CatalogEntry`.

    Raises:
        CourtXmlValueError: a missing element or an unconvertible value.
    """
    sha256, sm3 = _digest_pair(f)
    return CatalogEntry(
        sequence=_int(f, "顺序号"),
        archival_code=_text(f, "档号"),
        title=_text(f, "题名"),
        author=_text(f, "责任者"),
        date=_date(f, "日期"),
        retention=_text(f, "保管期限"),
        classification=_text(f, "密级"),
        pages=_int(f, "页数"),
        volume=_text(f, "卷别"),
        origin=_text(f, "原件形态"),
        paper_location=_opt_text(f, "纸质原件存放位置"),
        file_path=_text(f, "文件路径"),
        file_size=_int(f, "计算机文件大小"),
        format=_text(f, "格式信息"),
        sha256=sha256,
        sm3=sm3,
        note=_opt_text(f, "备注") or "",
    )


def catalog_from_xml(root: etree._Element) -> ParsedCatalog:
    """The 目录文件 entries of ``root`` in document order, with the line of each 文件.

    Raises:
        CourtXmlValueError: wrong root, a missing element or an unconvertible value.
    """
    _check_root(root, "文件目录")
    entries: list[CatalogEntry] = []
    lines: dict[int, int] = {}
    for f in root.findall("文件"):
        entry = entry_from_xml(f)
        entries.append(entry)
        lines.setdefault(entry.sequence, source_line(f) or 0)
    return ParsedCatalog((root.get("案号") or "").strip(), entries, lines)


def metadata_from_xml(root: etree._Element) -> ParsedMetadata:
    """The 文件元数据 values of ``root``.

    Raises:
        CourtXmlValueError: wrong root, a missing element or an unconvertible value.
    """
    _check_root(root, "文件元数据")
    scan = root.find("数字化属性")
    sha256, sm3 = _digest_pair(_child(root, "固化信息"))
    history = tuple(
        ProcessStep(
            action=_text(s, "业务行为"),
            time=_datetime(s, "行为时间"),
            actor=_text(s, "机构人员名称"),
            description=_opt_text(s, "行为描述") or "",
        )
        for s in _child(root, "过程信息").findall("业务实体")
    )
    m = DocumentMetadata(
        case_number=_text(root, "案号"),
        sequence=_int(root, "顺序号"),
        archival_code=_text(root, "档号"),
        fonds_code=_text(root, "来源/全宗号"),
        archive_unit=_text(root, "来源/立档单位名称"),
        title=_text(root, "内容描述/题名"),
        author=_text(root, "内容描述/责任者"),
        date=_date(root, "内容描述/日期"),
        classification=_text(root, "内容描述/密级"),
        document_number=_opt_text(root, "内容描述/文件编号") or "",
        retention=_text(root, "保管期限"),
        volume=_text(root, "卷别"),
        pages=_int(root, "形式特征/页数"),
        language=_text(root, "形式特征/语种"),
        format=_text(root, "电子属性/格式信息"),
        file_name=_text(root, "电子属性/计算机文件名"),
        file_size=_int(root, "电子属性/计算机文件大小"),
        creating_software=_text(root, "电子属性/文档创建程序"),
        origin=_text(root, "原件形态"),
        paper_location=_opt_text(root, "纸质原件存放位置"),
        scan_resolution=None if scan is None else _int(scan, "扫描分辨率"),
        scan_colour=None if scan is None else _text(scan, "扫描色彩模式"),
        sha256=sha256,
        sm3=sm3,
        history=history,
    )
    tree = root.getroottree()
    lines: dict[str, int] = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el is not root:
            key = tree.getpath(el)[len("/文件元数据/") :]
            lines.setdefault(key, source_line(el) or 0)
    return ParsedMetadata(m, lines)


# ------------------------------------------------------------------ one-call parsers
def parse_description(data: bytes, *, limits: Limits, path: str | None = None) -> ParsedDescription:
    """Parse, XSD-validate and convert a 说明文件.

    Raises:
        XmlTooLargeError, XmlSyntaxError, XmlDoctypeForbiddenError: see
            :func:`standards.xml_parser.parse_xml`.
        XmlSchemaViolationError: not valid against ``court/description.xsd``.
        CourtXmlValueError: a value cannot be converted.
    """
    root = parse_xml(data, limits=limits, path=path)
    verify_schema(root, DESCRIPTION_SCHEMA, path=path)
    return description_from_xml(root)


def parse_catalog(data: bytes, *, limits: Limits, path: str | None = None) -> ParsedCatalog:
    """Parse, XSD-validate and convert a 目录文件.

    Raises:
        XmlTooLargeError, XmlSyntaxError, XmlDoctypeForbiddenError: see
            :func:`standards.xml_parser.parse_xml`.
        XmlSchemaViolationError: not valid against ``court/catalog.xsd``.
        CourtXmlValueError: a value cannot be converted.
    """
    root = parse_xml(data, limits=limits, path=path)
    verify_schema(root, CATALOG_SCHEMA, path=path)
    return catalog_from_xml(root)


def parse_document_metadata(data: bytes, *, limits: Limits, path: str | None = None) -> ParsedMetadata:
    """Parse, XSD-validate and convert one 元数据/<n>.xml.

    Raises:
        XmlTooLargeError, XmlSyntaxError, XmlDoctypeForbiddenError: see
            :func:`standards.xml_parser.parse_xml`.
        XmlSchemaViolationError: not valid against ``court/document-metadata.xsd``.
        CourtXmlValueError: a value cannot be converted.
    """
    root = parse_xml(data, limits=limits, path=path)
    verify_schema(root, METADATA_SCHEMA, path=path)
    return metadata_from_xml(root)
