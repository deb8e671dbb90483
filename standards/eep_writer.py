"""Write one archived court dossier as a signed DA/T 48-2009 EEP (电子档案封装包, 封装包类型 原始型).

Used for transfers to the state archive (DA/T 93-2022): one record (one 案卷 with its 档号) = one EEP.

* :func:`eep_record_from_package` reads the record from a validated court package: its metadata
  (档号, 题名, 责任者, 日期, 保管期限, 密级, 案号, process history …) and every file of the package.
* :func:`build_eep` renders the whole EEP and signs it with a caller-given ``sign`` callable (the key
  lives in :mod:`integrity.eep_key`): one 电子签名 over 被签名对象 and the 锁定签名 over that 电子签名,
  both over exclusive XML C14N 1.0 bytes exactly as :mod:`standards.eep` / :mod:`integrity.eep_signatures`
  read and verify them.
* :func:`court_path` / :func:`rebuild_court_package` turn what :func:`standards.eep.decode_eep_files`
  staged back into the court-package layout, byte for byte.

Mapping (our choices where DA/T 48 is silent):

* DA/T 48 is item-level (聚合层次 fixed 文件, 室编件号 mandatory); the dossier is encapsulated as one
  文件实体 whose 档号 is the 案卷 档号 (全宗号-类别·年度-保管期限-案卷号, 保管期限 of the dossier) with
  室编件号 1 — the package holds one 件, the dossier. The documents' own 件-level 档号 stay in the
  目录文件 and 元数据 carried inside the package.
* Every file of the court package is one 文档 with one 文档数据 and one 编码 (计算机文件名 = the file's
  name, 反编码关键字 = its extension): content files are 主文档, the 元数据/说明文件/目录文件 XML
  附属文档. 文档标识符 names the file's place: ``正卷-0001`` → ``正卷/<计算机文件名>``, ``副卷-…``,
  ``元数据-0001`` → ``元数据/<计算机文件名>``, ``说明文件`` / ``目录文件`` → the package root. So the
  package can be rebuilt exactly from the EEP alone.
* 业务实体块 holds each document's 业务行为 from its 元数据 plus one 封装 step by the creating unit.

Memory: :func:`build_eep` builds in memory — the lxml tree holding every file's Base64 text plus the
serialised document: about 2–3 times the Base64 size at peak (measured: +177 MB for 60 MB of content)
— so it refuses a record whose Base64 text would exceed ``limits.package_bytes``. The reader
(:func:`standards.eep.parse_eep`) checks only documents up to ``limits.xml_bytes``, and its hardened
parser (``huge_tree=False``) refuses a 编码数据 text over libxml2's 10,000,000-byte node limit, i.e. a
file over about 7.4 MB; keep the export's limits in step with the receiver's.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from integrity.hashing import SUPPORTED, MultiHasher
from standards.archival_code import ArchivalCode, ArchivalCodeMalformedError, parse_archival_code
from standards.codes import classifications, retention_periods
from standards.court_package import (
    CATALOG_FILE,
    DESCRIPTION_FILE,
    MAIN_VOLUME,
    METADATA_FOLDER,
    SUB_VOLUME,
    metadata_path,
)
from standards.eep import DECODED_FOLDER, EEP_NS, TYPE_DESCRIPTIONS, canonical_bytes, q
from standards.errors import BadInput, VerificationFailed
from standards.limits import Limits
from standards.package import StagedFile, StagedPackage
from standards.validation import ValidationReport, find_prefix

PACKAGE_TYPE = "原始型"
FORMAT_DESCRIPTION = "本EEP根据中华人民共和国档案行业标准DA/T 48-2009《基于XML的电子文件封装规范》生成"
ENCODING_DESCRIPTION = (  # DA/T 48 M219 default text
    "本封装包中“编码数据”元素存储的是计算机文件二进制流的Base64编码，有关Base64编码规则参见IETF RFC 2045"
    "多用途邮件扩展（MIME）第一部分：互联网信息体格式。当提取和显现封装在编码数据元素中的计算机文件时，"
    "应对Base64编码进行反编码，并依据封装包中“反编码关键字”元素中记录的值还原计算机文件的扩展名"
)
SIGNATURE_RULE = "对“被签名对象”元素的 exclusive XML C14N 1.0（不含注释）字节签名"
LOCK_RULE = "对被锁定“电子签名”元素的 exclusive XML C14N 1.0（不含注释）字节签名"
SIGNATURE_ID = "S1"
NO_EXTENSION = "无扩展名"  # no extension for standards.eep.restored_name(): the name is kept as it is
ROOT_IDS = {DESCRIPTION_FILE: "说明文件", CATALOG_FILE: "目录文件"}
_FOLDERS = (MAIN_VOLUME, SUB_VOLUME, METADATA_FOLDER)
_FOLDER_ID = re.compile(rf"^({'|'.join(_FOLDERS)})-[0-9]+$")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
_READ_CHUNK = 57 * 48 * 1024  # whole 76-character lines (57 bytes each): no padding or short line inside
_LINE = 76  # RFC 2045 line length


# ---------------------------------------------------------------- errors
class EepRecordNotValid(BadInput):
    """The court package did not pass validation (or was not read at all): nothing to encapsulate."""

    code = "eep_record_not_valid"


class EepRecordInconsistent(BadInput):
    """The documents' 档号 disagree on 全宗号, 类别·年度 or 案卷号, so the record has no one 档号."""

    code = "eep_record_inconsistent"


class EepRecordUnmappedFile(BadInput):
    """A package file is neither 说明文件, 目录文件, a listed content file nor its 元数据."""

    code = "eep_record_unmapped_file"


class EepRecordTooLarge(BadInput):
    """The record's Base64 text would exceed ``limits.package_bytes`` (the EEP is built in memory)."""

    code = "eep_record_too_large"


class EepSourceChanged(VerificationFailed):
    """A staged file no longer has the size or SHA-256 recorded when the record was read."""

    code = "eep_source_changed"


class EepLayoutUnknown(BadInput):
    """A decoded file's 文档标识符 does not name a place in the court-package layout."""

    code = "eep_layout_unknown"


# ---------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class EepFile:
    """One package file as one 文档 of the EEP.

    ``path`` is the court-package path (without a wrapping top folder), e.g. ``正卷/0001-起诉状.pdf``;
    ``local`` the staged copy the bytes are read from; ``document_id`` the 文档标识符.
    """

    path: str
    local: Path
    size: int
    sha256: str
    sm3: str | None
    document_id: str
    title: str
    role: str = "附属文档"  # 文档主从声明: 主文档 | 附属文档
    format: str = "XML"  # 格式信息
    creating_program: str | None = None  # 文档创建程序
    scan_resolution: int | None = None  # 数字化属性/扫描分辨率 (dpi)
    scan_colour: str | None = None  # 数字化属性/扫描色彩模式

    @property
    def file_name(self) -> str:
        """计算机文件名 (DA/T 46 M48): the last path segment."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def reverse_key(self) -> str:
        """反编码关键字 (DA/T 48 M220): the extension, or a marker that restores nothing."""
        stem, dot, ext = self.file_name.rpartition(".")
        return ext if dot and stem and _EXTENSION.fullmatch(ext) else NO_EXTENSION


@dataclass(frozen=True, slots=True)
class EepStep:
    """One 业务实体 (DA/T 46 M80–M84): ``file_id`` is the 档号 of the 件 (or record) acted on."""

    action: str
    time: dt.datetime
    actor: str
    description: str
    file_id: str


@dataclass(frozen=True)
class EepRecord:
    """One record (案卷) ready to encapsulate: its metadata and its files, in 文档 order."""

    archival_code: str  # 案卷 档号, e.g. J001-SS·2024-Y-0012
    case_number: str  # 案号 (内容描述/文件编号)
    title: str  # 题名
    author: str  # 责任者
    date: dt.date  # 日期 (结案日期)
    retention: str  # 保管期限 of the dossier
    classification: str  # 密级: the most restricted of the documents
    fonds_code: str  # 全宗号
    category: str  # 类别号
    year: int  # 年度
    volume_number: str  # 室编案卷号, as written in the 档号
    department: str  # 机构或问题 (承办部门)
    archive_unit: str  # 立档单位名称 (the court)
    pages: int  # 页数, all documents
    language: str | None  # 语种
    system: str  # 信息系统描述 (the submitting system's 软硬件环境)
    note: str  # 附注
    access_note: str | None  # 权限管理/控制标识
    steps: tuple[EepStep, ...]
    files: tuple[EepFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def base64_chars(self) -> int:
        """Characters of Base64 text the record's files encode to (RFC 2045 lines, with line breaks)."""
        return sum(_base64_chars(f.size) for f in self.files)


def _base64_chars(size: int) -> int:
    chars = 4 * ((size + 2) // 3)
    return chars + (chars + _LINE - 1) // _LINE + 1  # one break per line plus the leading one


# ---------------------------------------------------------------- the record from a court package
def _record_code(codes: Iterable[str], retention: str) -> tuple[str, ArchivalCode, str]:
    """(案卷 档号, the first document's parsed 档号, its 案卷号 text) from the documents' 档号.

    The 案卷 档号 is 全宗号-类别·年度-保管期限代码-案卷号 with the dossier's 保管期限 (DA/T 13-2022 levels).
    """
    found: dict[tuple[str, str, int, int], tuple[ArchivalCode, list[str]]] = {}
    try:
        for code in codes:
            parsed = parse_archival_code(code)
            found.setdefault(
                (parsed.fonds, parsed.category, parsed.year, parsed.volume), (parsed, code.split("-"))
            )
    except ArchivalCodeMalformedError as exc:
        raise EepRecordInconsistent(f"document 档号: {exc.message}") from None
    period = retention_periods().get(retention)
    if len(found) != 1 or period is None:
        raise EepRecordInconsistent(
            f"documents' 档号: expected one 全宗号-类别·年度-案卷号 and a known 保管期限, found "
            f"{sorted(f'{k[0]}-{k[1]}·{k[2]}-{k[3]}' for k in found)[:5]} and 保管期限 {retention!r}"
        )
    parsed, parts = next(iter(found.values()))
    return f"{parts[0]}-{parts[1]}-{period.archival_code}-{parts[3]}", parsed, parts[3]


def eep_record_from_package(package: StagedPackage, validation: ValidationReport) -> EepRecord:
    """The record a court package holds, read from the package and its passed validation.

    Every file goes in: the content files listed in 目录文件, their 元数据 XML, 目录文件 and 说明文件.
    Paths are relative to the court package (a wrapping top folder is not kept).

    Raises:
        EepRecordNotValid: ``validation`` did not pass (any problem, or nothing could be read).
        EepRecordInconsistent: the documents' 档号 do not share 全宗号, 类别·年度 and 案卷号.
        EepRecordUnmappedFile: a package file is not part of the court layout.
    """
    d = validation.description
    if not validation.passed or d is None:
        raise EepRecordNotValid(
            f"court package validation: expected passed, found {len(validation.problems)} problem(s)"
            + ("" if d is not None else " and no readable 说明文件")
        )
    prefix = find_prefix(package)
    software = d.environment.software

    def file(rel: str, document_id: str, title: str, **kw: Any) -> EepFile:
        found = package.get(prefix + rel)
        if found is None:  # validation passed, so the report is for another package: a caller bug
            raise ValueError(f"{prefix + rel} is not a file of the package the validation report is for")
        local, digests = package.local_path(prefix + rel), found.digests
        return EepFile(
            rel, local, found.size, digests["sha256"], digests.get("sm3"), document_id, title, **kw
        )

    files: list[EepFile] = []
    for e in validation.entries:
        m = validation.metadata[e.sequence]
        scanned = m.scan_resolution is not None and m.scan_colour is not None
        files.append(
            file(
                e.file_path, f"{e.file_path.split('/', 1)[0]}-{e.sequence:04d}", e.title, role="主文档",
                format=e.format, creating_program=m.creating_software,
                scan_resolution=m.scan_resolution if scanned else None,
                scan_colour=m.scan_colour if scanned else None,
            )
        )  # fmt: skip
    for e in validation.entries:
        n = e.sequence
        title = f"文件元数据（顺序号 {n}）"
        files.append(file(metadata_path(n), f"{METADATA_FOLDER}-{n:04d}", title, creating_program=software))
    for rel, title in ((CATALOG_FILE, "目录文件"), (DESCRIPTION_FILE, "说明文件")):
        files.append(file(rel, ROOT_IDS[rel], title, creating_program=software))
    unmapped = sorted({f.path for f in package.files} - {prefix + f.path for f in files})
    if unmapped:
        raise EepRecordUnmappedFile(
            f"package files: expected only 说明文件, 目录文件, listed content and 元数据, found {unmapped[:5]}"
        )

    code, parsed, volume = _record_code((e.archival_code for e in validation.entries), d.retention)
    ranks = {c: n for n, c in enumerate(classifications())}
    languages = sorted({m.language for m in validation.metadata.values() if m.language})
    steps = tuple(
        EepStep(s.action, s.time, s.actor, s.description, e.archival_code)
        for e in validation.entries
        for s in validation.metadata[e.sequence].history
    )
    has_sub_volume = any(e.volume == SUB_VOLUME for e in validation.entries)
    return EepRecord(
        archival_code=code,
        case_number=d.case_number,
        title=f"{d.court_name}{d.case_number}{d.case_type}案件卷宗",
        author=d.court_name,
        date=d.closing_date,
        retention=d.retention,
        classification=max((e.classification for e in validation.entries), key=lambda c: ranks.get(c, -1)),
        fonds_code=parsed.fonds,
        category=parsed.category,
        year=parsed.year,
        volume_number=volume,
        department=d.department,
        archive_unit=d.court_name,
        pages=sum(e.pages for e in validation.entries),
        language="、".join(languages) or None,
        system=f"生成系统：{software}；操作系统：{d.environment.operating_system}；"
        f"硬件环境：{d.environment.hardware}",
        note=d.note,
        access_note="含副卷，副卷材料不对外提供利用" if has_sub_volume else None,
        steps=steps,
        files=tuple(files),
    )


# ---------------------------------------------------------------- building the EEP
def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, q(name), attrs)
    if text is not None:
        el.text = text
    return el


def _base64_text(f: EepFile) -> str:
    """The file's bytes as RFC 2045 Base64 lines, checking size and SHA-256 against the record."""
    sha = hashlib.sha256()
    size = 0
    parts = ["\n"]
    with open(f.local, "rb") as fh:
        while chunk := fh.read(_READ_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            parts.append(base64.encodebytes(chunk).decode("ascii"))
    if size != f.size or not hmac.compare_digest(sha.hexdigest(), f.sha256):
        raise EepSourceChanged(
            f"{f.path}: expected {f.size} bytes with SHA-256 {f.sha256}, found {size} bytes with {sha.hexdigest()}",
            path=f.path,
        )
    return "".join(parts)


def _entity(content: etree._Element, record: EepRecord, carrier: str) -> None:
    """文件实体 (DA/T 48 Annex B; DA/T 46 M1–M75) with its 文件数据."""
    entity = _el(_el(content, "文件实体块"), "文件实体")
    _el(entity, "聚合层次", "文件")  # fixed by DA/T 48
    source = _el(entity, "来源")
    _el(source, "全宗名称", record.archive_unit)
    _el(source, "立档单位名称", record.archive_unit)  # M6
    _el(entity, "电子文件号", record.archival_code)  # M7
    code = _el(entity, "档号", record.archival_code)  # M8, mixed: the whole 档号, then its parts
    _el(code, "全宗号", record.fonds_code)
    _el(code, "年度", f"{record.year:04d}")
    _el(code, "保管期限", record.retention)
    _el(code, "机构或问题", record.department)
    _el(code, "类别号", record.category)
    _el(code, "室编案卷号", record.volume_number)
    _el(code, "室编件号", "1")  # the package holds one 件: the dossier (module docstring)
    desc = _el(entity, "内容描述")
    _el(desc, "题名", record.title)
    _el(desc, "文件编号", record.case_number)
    _el(desc, "责任者", record.author)
    _el(desc, "日期", record.date.strftime("%Y%m%d"))  # DA/T 46 M33: YYYYMMDD
    _el(desc, "密级", record.classification)
    form = _el(entity, "形式特征")
    _el(form, "文件组合类型", "组合文件" if len(record.files) > 1 else "单件")
    if record.pages > 0:
        _el(form, "页数", str(record.pages))
    if record.language:
        _el(form, "语种", record.language)
    _el(_el(entity, "存储位置"), "脱机载体编号", carrier)  # M67
    rights = _el(entity, "权限管理")
    if record.access_note:
        _el(rights, "控制标识", record.access_note)
    _el(entity, "信息系统描述", record.system)
    if record.note:
        _el(entity, "附注", record.note)
    data = _el(entity, "文件数据")
    for n, f in enumerate(record.files, 1):
        doc = _el(data, "文档")
        _el(doc, "文档标识符", f.document_id)
        _el(doc, "文档序号", str(n))
        _el(doc, "文档主从声明", f.role)
        _el(doc, "题名", f.title)
        enc = _el(
            _el(doc, "文档数据", 文档数据ID=f"{f.document_id}-V1"), "编码", 编码ID=f"{f.document_id}-E1"
        )
        attrs = _el(enc, "电子属性")
        _el(attrs, "格式信息", f.format)
        _el(attrs, "计算机文件名", f.file_name)
        _el(attrs, "计算机文件大小", str(f.size))
        if f.creating_program:
            _el(attrs, "文档创建程序", f.creating_program)
        if f.scan_resolution is not None and f.scan_colour is not None:
            scan = _el(enc, "数字化属性")
            _el(scan, "扫描分辨率", f"{f.scan_resolution}dpi")
            _el(scan, "扫描色彩模式", f.scan_colour)
        _el(enc, "编码描述", ENCODING_DESCRIPTION)
        _el(enc, "反编码关键字", f.reverse_key)
        _el(enc, "编码数据", _base64_text(f), 编码数据ID=f"{f.document_id}-D1")


def _business(content: etree._Element, record: EepRecord, unit: str, created_at: dt.datetime) -> None:
    """业务实体块 (M225–M227, M80–M84) and 机构人员实体块 (M228–M232, M76–M79)."""
    steps = (
        *record.steps,
        EepStep("封装", created_at, unit, "按 DA/T 48-2009 封装为原始型电子档案封装包", record.archival_code),
    )
    agents: dict[str, str] = {}
    for name in (record.archive_unit, unit, *(s.actor for s in steps)):
        agents.setdefault(name, f"A{len(agents) + 1}")
    block = _el(content, "业务实体块")
    for n, s in enumerate(steps, 1):
        b = _el(block, "业务实体")
        _el(b, "业务标识符", f"B{n}")
        _el(b, "机构人员标识符", agents[s.actor])
        _el(b, "文件标识符", s.file_id)
        _el(b, "业务状态", "历史行为")
        _el(b, "业务行为", s.action)
        _el(b, "行为时间", s.time.isoformat())
        if s.description:
            _el(b, "行为描述", s.description)
    people = _el(content, "机构人员实体块")
    for name, identifier in agents.items():
        a = _el(people, "机构人员实体")
        _el(a, "机构人员标识符", identifier)
        if name in (record.archive_unit, unit):
            _el(a, "机构人员类型", "单位")
        _el(a, "机构人员名称", name)


def build_eep(
    record: EepRecord,
    *,
    sign: Callable[[bytes], bytes],
    certificate_der: bytes,
    algorithm: str,
    created_at: dt.datetime,
    unit: str,
    limits: Limits,
    carrier: str = "无（网络移交）",
) -> bytes:
    """The whole EEP of ``record`` as UTF-8 XML, signed with ``sign``.

    ``sign`` returns the signature of the bytes it is given under ``algorithm`` (a 签名算法标识 that
    :mod:`integrity.eep_signatures` accepts) by the key of ``certificate_der``. It is called twice: for
    the 电子签名 over 被签名对象 and for the 锁定签名 over that 电子签名 (both exclusive C14N 1.0).
    ``created_at`` is 封装包创建时间 and 签名时间 (verifiers check the certificate at that time, so it must
    lie within the certificate's validity); ``unit`` is 封装包创建单位 and 签名人; ``carrier`` is
    脱机载体编号 (DA/T 46 M67, mandatory): the transfer carrier's label, or a note that there is none.

    Raises:
        ValueError: ``created_at`` is naive, or ``unit``, ``carrier`` or ``record.files`` is empty.
        EepRecordTooLarge: the Base64 text would exceed ``limits.package_bytes`` (built in memory).
        EepSourceChanged: a file's size or SHA-256 differs from the record.
        OSError: a staged file cannot be read.
    """
    if created_at.tzinfo is None or created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    if not unit.strip() or not carrier.strip() or not record.files:
        raise ValueError("unit, carrier and record.files must be non-empty")
    if record.base64_chars > limits.package_bytes:
        raise EepRecordTooLarge(
            f"EEP of {record.archival_code}: Base64 text of its files expected at most {limits.package_bytes} "
            f"bytes (limits.package_bytes; the EEP is built in memory), found {record.base64_chars}"
        )
    time = created_at.isoformat(timespec="seconds")
    root = etree.Element(q("电子文件封装包"), nsmap={None: EEP_NS})  # type: ignore[dict-item]
    _el(root, "封装包格式描述", FORMAT_DESCRIPTION)
    _el(root, "版本", "2009")
    signed = _el(root, "被签名对象", eep版本="2009")  # DA/T 48: @eep版本 puts the version under the signature
    _el(signed, "封装包类型", PACKAGE_TYPE)
    _el(signed, "封装包类型描述", TYPE_DESCRIPTIONS[PACKAGE_TYPE])
    _el(signed, "封装包创建时间", time)
    _el(signed, "封装包创建单位", unit)
    content = _el(signed, "封装内容")
    _entity(content, record, carrier)
    _business(content, record, unit, created_at)
    etree.indent(root)  # whitespace is part of the signed bytes: lay the document out before signing

    def signature(
        parent: etree._Element, tag: str, first: tuple[str, str], rule: str, message: bytes
    ) -> etree._Element:
        """电子签名 / 锁定签名 (DA/T 48 签名内容; DA/T 46 M57–M64)."""
        sig = _el(parent, tag)
        _el(sig, *first)
        _el(sig, "签名规则", rule)
        _el(sig, "签名时间", time)
        _el(sig, "签名人", unit)
        _el(sig, "签名结果", base64.b64encode(sign(message)).decode("ascii"))
        _el(_el(sig, "证书块"), "证书", base64.b64encode(certificate_der).decode("ascii"))
        _el(sig, "签名算法标识", algorithm)
        return sig

    block = _el(root, "电子签名块")
    first = signature(
        block, "电子签名", ("签名标识符", SIGNATURE_ID), SIGNATURE_RULE, canonical_bytes(signed)
    )
    etree.indent(block, level=1)  # before the lock: it signs the 电子签名 as it will be stored
    lock = signature(root, "锁定签名", ("被锁定签名标识符", SIGNATURE_ID), LOCK_RULE, canonical_bytes(first))
    etree.indent(lock, level=1)
    signed.tail = block.tail = "\n  "
    lock.tail = "\n"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


# ---------------------------------------------------------------- back from a decoded EEP
def court_path(decoded_path: str) -> str | None:
    """The court-package path of a file :func:`standards.eep.decode_eep_files` staged (None: the EEP itself).

    ``文件数据/正卷-0001/0001-起诉状.pdf`` → ``正卷/0001-起诉状.pdf``; ``文件数据/说明文件/说明文件.xml`` →
    ``说明文件.xml`` (the 文档标识符 convention of this module).

    Raises:
        EepLayoutUnknown: the path is not ``文件数据/<文档标识符>/<name>`` with a known 文档标识符.
    """
    parts = decoded_path.split("/")
    if len(parts) == 1:
        return None
    if len(parts) == 3 and parts[0] == DECODED_FOLDER:
        _, document_id, name = parts
        if _FOLDER_ID.fullmatch(document_id):
            return f"{document_id.rsplit('-', 1)[0]}/{name}"
        if ROOT_IDS.get(name) == document_id:
            return name
    raise EepLayoutUnknown(
        f"decoded file {decoded_path!r}: expected 文件数据/<正卷|副卷|元数据-n or 说明文件|目录文件>/<name>"
    )


def rebuild_court_package(decoded: StagedPackage, dest: Path) -> StagedPackage:
    """Copy the files of a decoded EEP into the new folder ``dest`` in the court-package layout.

    Each file is hashed (SHA-256, SM3) while it is copied; the EEP itself is left out.

    Raises:
        FileExistsError: ``dest`` exists (a caller bug: staging folders are never reused).
        EepLayoutUnknown: a decoded file has no place in the layout (see :func:`court_path`).
        OSError: a file cannot be read or written.
    """
    targets = [(f, court_path(f.path)) for f in decoded.files]
    dest.mkdir(parents=True, exist_ok=False)
    files: list[StagedFile] = []
    for f, rel in targets:
        if rel is None:
            continue
        out = dest.joinpath(*rel.split("/"))
        out.parent.mkdir(parents=True, exist_ok=True)
        hasher = MultiHasher(SUPPORTED)
        with open(decoded.local_path(f.path), "rb") as src, open(out, "xb") as dst:
            while chunk := src.read(1024 * 1024):
                hasher.update(chunk)
                dst.write(chunk)
        files.append(StagedFile(path=rel, size=hasher.size, digests=hasher.hexdigests()))
    return StagedPackage(
        root=dest,
        files=tuple(sorted(files, key=lambda s: s.path)),
        source_name=decoded.source_name,
        source_kind=decoded.source_kind,
        source_digest=decoded.source_digest,
    )


__all__ = [
    "EepFile",
    "EepLayoutUnknown",
    "EepRecord",
    "EepRecordInconsistent",
    "EepRecordNotValid",
    "EepRecordTooLarge",
    "EepRecordUnmappedFile",
    "EepSourceChanged",
    "EepStep",
    "build_eep",
    "court_path",
    "eep_record_from_package",
    "rebuild_court_package",
]
