"""Validate a staged court package against the court profile and collect every problem.

Reads the package's XML files (the only I/O here, from the staged copy), runs the hardened parser
and the XSDs (GD-3-1, GD-1-2, GD-1-3), the GD-1-6 special-character scan, then the pure rules of
:mod:`standards.rules_package`, :mod:`standards.rules_fields` and :mod:`standards.rules_metadata`.
It never stops at the first problem. Detection reports, the "same 案号 archived twice" check and
storage are left to ``integrity.checks`` and ``archive.ingest``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from lxml import etree

from standards.codes import find_special_characters
from standards.court_package import (
    CATALOG_FILE,
    DESCRIPTION_FILE,
    CatalogEntry,
    DocumentMetadata,
    DossierDescription,
    metadata_path,
)
from standards.court_xml import (
    CATALOG_SCHEMA,
    DESCRIPTION_SCHEMA,
    METADATA_SCHEMA,
    CourtXmlValueError,
    catalog_from_xml,
    description_from_xml,
    metadata_from_xml,
)
from standards.limits import Limits
from standards.package import StagedFile, StagedPackage
from standards.problems import Problem
from standards.rules_fields import check_description, check_entries
from standards.rules_metadata import check_metadata
from standards.rules_package import check_entry_files, check_layout_only, check_totals, check_unlisted
from standards.xml_parser import (
    XmlDoctypeForbiddenError,
    XmlSyntaxError,
    XmlTooLargeError,
    parse_xml,
    schema_violations,
    source_line,
)

_T = TypeVar("_T")


@dataclass(frozen=True)
class ValidationReport:
    problems: list[Problem]
    description: DossierDescription | None
    entries: list[CatalogEntry]
    metadata: dict[int, DocumentMetadata] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """No problems and the package could be read at all (nothing checked is not a pass)."""
        return not self.problems and self.description is not None and bool(self.entries)


def find_prefix(package: StagedPackage) -> str:
    """``""`` when 说明文件.xml is at the top, or ``"<top>/"`` when every file sits in one top folder."""
    if package.get(DESCRIPTION_FILE) is not None:
        return ""
    tops = {f.path.split("/", 1)[0] for f in package.files if "/" in f.path}
    if len(tops) == 1 and all("/" in f.path for f in package.files):
        top = tops.pop() + "/"
        if package.get(top + DESCRIPTION_FILE) is not None or package.get(top + CATALOG_FILE) is not None:
            return top
    return ""


def _xsd_problem(path: str, schema: str, line: int | None, message: str, type_name: str) -> Problem:
    if "MAXLENGTH" in type_name:
        return Problem("field_too_long", f"{path} 第 {line} 行数据长度超限：{message}", "GD-1-2", path, line)
    if type_name.startswith("SCHEMAV_CVC_IDC"):
        item = "GD-2-6" if "顺序号" in message else "GD-1-8"
        return Problem("xsd_duplicate_key", f"{path} 第 {line} 行存在重复值：{message}", item, path, line)
    return Problem("xsd_invalid", f"{path} 第 {line} 行不符合 {schema}：{message}", "GD-1-3", path, line)


def _special_characters(root: etree._Element, path: str) -> list[Problem]:
    """DA/T 70 GD-1-6: no control characters or GB 18030 double-byte non-Hanzi symbols in any value."""
    out: list[Problem] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = str(el.tag)
        values = [(tag, el.text or "")] + [(f"{tag}@{k!s}", str(v)) for k, v in el.attrib.items()]
        for name, text in values:
            hits = find_special_characters(text)
            if hits:
                chars = "、".join(f"U+{ord(c):04X}" for _, c, _ in hits)
                out.append(
                    Problem(
                        "special_character", f"“{name}”含有特殊字符 {chars}", "GD-1-6", path, source_line(el)
                    )
                )
    return out


def _load(
    package: StagedPackage,
    path: str,
    schema: str,
    convert: Callable[[etree._Element], _T],
    *,
    limits: Limits,
    problems: list[Problem],
) -> _T | None:
    """Parse, XSD-validate, scan and convert one XML file; record every problem on the way."""
    try:
        root = parse_xml(package.read_bytes(path), limits=limits, path=path)
    except XmlTooLargeError as exc:
        problems.append(
            Problem(exc.code, f"{path} 超过 XML 大小上限 {limits.xml_bytes} 字节", "GD-3-1", path)
        )
        return None
    except XmlSyntaxError as exc:
        problems.append(
            Problem("xml_malformed", f"{path} 不是格式良好的 XML：{exc.message}", "GD-3-1", path, exc.line)
        )
        return None
    except XmlDoctypeForbiddenError as exc:
        problems.append(Problem(exc.code, f"{path} 含有 DOCTYPE 声明，不允许使用 DTD", "GD-3-1", path))
        return None
    violations = schema_violations(root, schema)
    problems.extend(_xsd_problem(path, schema, v.line, v.message, v.type_name) for v in violations)
    problems.extend(_special_characters(root, path))
    try:
        return convert(root)
    except CourtXmlValueError as exc:
        if not violations:
            problems.append(Problem("xml_value_invalid", f"{path}：{exc.message}", "GD-1-3", path, exc.line))
        return None


def validate_court_package(package: StagedPackage, *, limits: Limits, today: dt.date) -> ValidationReport:
    """Check ``package`` against the court profile and return every problem found.

    Reads the XML files of the staged copy; raises nothing for bad input (it becomes a Problem).

    Raises:
        OSError: a staged file listed in the inventory cannot be read (a staging fault, not input).
    """
    problems: list[Problem] = []
    prefix = find_prefix(package)
    files: dict[str, StagedFile] = {
        f.path[len(prefix) :]: f for f in package.files if f.path.startswith(prefix)
    }
    parsed_desc = parsed_cat = None
    for name in (DESCRIPTION_FILE, CATALOG_FILE):  # DA/T 70 GD-1-12
        if name not in files:
            code = "description_missing" if name == DESCRIPTION_FILE else "catalog_missing"
            problems.append(Problem(code, f"信息包缺少 {name}", "GD-1-12", prefix + name))
    if DESCRIPTION_FILE in files:
        parsed_desc = _load(
            package,
            prefix + DESCRIPTION_FILE,
            DESCRIPTION_SCHEMA,
            description_from_xml,
            limits=limits,
            problems=problems,
        )
    if CATALOG_FILE in files:
        parsed_cat = _load(
            package, prefix + CATALOG_FILE, CATALOG_SCHEMA, catalog_from_xml, limits=limits, problems=problems
        )
    desc = parsed_desc.description if parsed_desc else None
    entries = parsed_cat.entries if parsed_cat else []
    cat_lines = parsed_cat.lines if parsed_cat else {}

    metadata: dict[int, DocumentMetadata] = {}
    seen: set[int] = set()
    for e in entries:
        rel = metadata_path(e.sequence)
        if e.sequence in seen:  # a duplicated 顺序号 is reported once, by the GD-2-6 rule
            continue
        seen.add(e.sequence)
        if rel not in files:
            problems.append(
                Problem(
                    "metadata_missing",
                    f"顺序号 {e.sequence} 缺少元数据文件 {rel}",
                    "GD-1-11",
                    prefix + rel,
                    cat_lines.get(e.sequence),
                )
            )
            continue
        parsed_m = _load(
            package, prefix + rel, METADATA_SCHEMA, metadata_from_xml, limits=limits, problems=problems
        )
        if parsed_m is not None:
            metadata[e.sequence] = parsed_m.metadata
            problems += check_metadata(
                parsed_m.metadata, e, desc, today=today, path=prefix + rel, lines=parsed_m.lines
            )

    if parsed_cat is not None:
        problems += check_entry_files(files, entries, prefix=prefix, catalog_lines=cat_lines)
        problems += check_unlisted(files, entries, prefix=prefix)
        problems += check_entries(
            entries,
            desc,
            catalog_case_number=parsed_cat.case_number,
            today=today,
            prefix=prefix,
            lines=cat_lines,
        )
    else:
        problems += check_layout_only(files, prefix=prefix)
    if parsed_desc is not None and desc is not None:
        problems += check_description(desc, today=today, prefix=prefix, lines=parsed_desc.lines)
        problems += check_totals(
            files, entries if parsed_cat else None, desc, prefix=prefix, lines=parsed_desc.lines
        )
    return ValidationReport(problems, desc, entries, metadata)
