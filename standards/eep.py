"""DA/T 48-2009 electronic record encapsulation packages (EEP): read, validate, decode.

Three jobs, all without network or database:

* :func:`parse_eep` — hardened parse (:func:`standards.xml_parser.parse_xml`, so ``limits.xml_bytes``
  bounds the document) + validation against our XSD ``schemas/eep/eep.xsd`` (DA/T 70 BC-1-15) →
  an :class:`EepPackage` value: package metadata, documents with their 编码 entries, signature blocks
  and the canonical bytes each signature covers.
* :func:`eep_profile_problems` and :func:`missing_metadata` — the rules XSD 1.0 cannot state
  (eep版本 = 版本, 封装包类型 ↔ branch, decoded size = 计算机文件大小; DA/T 48 §2.3) and the mandatory
  encapsulation metadata of DA/T 48 Annex C / DA/T 46 (BC-2-10), lenient over any tree.
* :func:`decode_eep_files` — stream every 编码数据 of an EEP file into a staging folder while hashing
  (SHA-256 + SM3), refusing a decoded size that differs from 计算机文件大小.

Canonical bytes (our choice, DA/T 48 predates XMLDSig conventions and names none): a 电子签名 signs the
exclusive XML C14N 1.0 (without comments) of the 被签名对象 element; a 锁定签名 signs the exclusive C14N of
the 电子签名 element its 被锁定签名标识符 names. Verifying them is :mod:`integrity.eep_signatures`' job.

Memory: :func:`parse_eep` holds the document (bounded by ``limits.xml_bytes``);
:func:`decode_eep_files` uses lxml ``iterparse`` and frees each 编码 after decoding it, so at most one
编码数据 text is held at a time (plus one decode chunk) and Base64 text is never held twice.
"""

from __future__ import annotations

import base64
import binascii
import re
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from integrity.hashing import SUPPORTED, MultiHasher
from standards.errors import BadInput
from standards.limits import Limits
from standards.package import StagedFile, StagedPackage
from standards.problems import Problem
from standards.xml_parser import (
    SchemaViolation,
    XmlDoctypeForbiddenError,
    XmlSchemaViolationError,
    XmlSyntaxError,
    has_doctype_marker,
    parse_xml,
    schema_violations,
    source_line,
)

EEP_NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"
SCHEMA_NAME = "eep/eep.xsd"
ROOT_NAME = "电子文件封装包"
ROOT_TAG = f"{{{EEP_NS}}}{ROOT_NAME}"
EEP_VERSION = "2009"
# DA/T 48-2009 Annex B: the fixed 封装包类型描述 of each 封装包类型, and the content branch each one uses.
TYPE_DESCRIPTIONS = {
    "原始型": "本封装包包含电子文件数据及其元数据，原始封装，未经修改",
    "修改型": "本封装包包含电子文件数据及其元数据，系修改封装，在保留原封装包的基础上，添加了修改层",
}
TYPE_BRANCHES = {"原始型": "封装内容", "修改型": "修改封装内容"}
DECODED_FOLDER = "文件数据"
_DECODE_CHUNK_CHARS = 4 * 256 * 1024  # multiple of 4: 1 MiB of Base64 text → 768 KiB decoded
_PROLOG_SCAN_BYTES = 1024 * 1024  # where decode_eep_files looks for a DOCTYPE before parsing
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
_DIGITS = re.compile(r"[0-9]{1,30}")
#: The longest file or folder name staging can create (NAME_MAX of ext4, XFS, APFS; UTF-8 bytes).
NAME_BYTES = 255


def q(name: str) -> str:
    """The qualified tag of an EEP element, e.g. ``q("版本")``."""
    return f"{{{EEP_NS}}}{name}"


# ---------------------------------------------------------------- errors
class NotAnEep(BadInput):
    """The XML root is not 电子文件封装包 in the DA/T 48 namespace."""

    code = "eep_not_an_eep"


class EepSchemaInvalid(XmlSchemaViolationError):
    """The EEP does not conform to ``eep/eep.xsd`` (DA/T 70 BC-1-15); ``violations`` lists every error."""

    code = "eep_schema_invalid"

    def __init__(self, message: str, violations: list[SchemaViolation], *, path: str | None = None) -> None:
        super().__init__(message, path=path, line=violations[0].line if violations else None)
        self.violations = violations


class EepBase64Invalid(BadInput):
    """An 编码数据 is not valid Base64 (RFC 2045)."""

    code = "eep_base64_invalid"


class EepSizeMismatch(BadInput):
    """The decoded 编码数据 length differs from 计算机文件大小."""

    code = "eep_size_mismatch"


class EepUnsafeFileName(BadInput):
    """A 计算机文件名 or 文档标识符 cannot be used as one path segment (separator, dot segment, control)."""

    code = "eep_unsafe_file_name"


class EepDuplicateFileName(BadInput):
    """Two 编码 of one 文档 decode to the same file name."""

    code = "eep_duplicate_file_name"


class EepMissingElement(BadInput):
    """An element decoding needs (计算机文件名, 计算机文件大小, 文档标识符, @编码数据ID) is absent or malformed."""

    code = "eep_missing_element"


class EepReferenceUnresolved(BadInput):
    """An empty 编码数据's 引用编码数据ID names no earlier 编码数据 (修改型 packages)."""

    code = "eep_reference_unresolved"


class EepLimitExceeded(BadInput):
    """Decoding would exceed ``limits.file_bytes``, ``limits.package_bytes`` or ``limits.file_count``."""

    code = "eep_limit_exceeded"


# ---------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class EepEncoding:
    """One 编码 (one computer file, DA/T 48): its 电子属性 and where its Base64 text is.

    ``declared_size`` is 计算机文件大小 (None when absent or not an integer); ``decoded_size`` is the
    length the Base64 text decodes to (None when it is not valid Base64); ``data_line`` is the line of
    the 编码数据 element and ``base64_chars`` the length of its text without whitespace.
    """

    encoding_id: str
    data_id: str
    document_id: str
    document_data_id: str
    file_name: str
    declared_size: int | None
    format: str | None
    creating_program: str | None
    reverse_key: str
    reference_id: str | None
    data_line: int | None
    base64_chars: int
    decoded_size: int | None


@dataclass(frozen=True, slots=True)
class EepDocument:
    """One 文档 (M214): identifier (M215), order, 主/附属 declaration (M216), title, its 编码."""

    identifier: str
    sequence: str | None
    role: str | None
    title: str | None
    encodings: tuple[EepEncoding, ...]


@dataclass(frozen=True, slots=True)
class EepSignature:
    """One 电子签名 (M57) or the 锁定签名, with the exact bytes it must verify over.

    ``identifier`` is 签名标识符 (for the lock: the 被锁定签名标识符 it references, also in ``locks``);
    ``value`` is the decoded 签名结果 (None when not Base64); ``certificates`` the decoded 证书 of every
    证书块 in document order (the first is the signer's); ``message`` the canonical bytes it covers
    (None for a lock whose reference does not resolve to a 电子签名).
    """

    identifier: str
    locks: str | None
    rule: str
    time: str | None
    signer: str | None
    algorithm: str
    value: bytes | None
    certificates: tuple[bytes | None, ...]
    certificate_refs: tuple[str, ...]
    message: bytes | None
    line: int | None


@dataclass(frozen=True)
class EepPackage:
    """A parsed, schema-valid EEP. ``metadata`` maps element paths under 文件实体 to their text."""

    format_description: str
    version: str
    eep_version: str
    package_type: str
    type_description: str
    created_at: str
    creator: str
    branch: str
    metadata: dict[str, str]
    documents: tuple[EepDocument, ...]
    signatures: tuple[EepSignature, ...]
    lock: EepSignature | None

    @property
    def encodings(self) -> tuple[EepEncoding, ...]:
        return tuple(e for d in self.documents for e in d.encodings)


# ---------------------------------------------------------------- helpers
def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return el.text if el.text is not None else ""


def _child_text(el: etree._Element, name: str) -> str | None:
    return _text(el.find(q(name)))


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def canonical_bytes(el: etree._Element) -> bytes:
    """Exclusive XML C14N 1.0 without comments of ``el`` — what EEP signatures cover (our choice)."""
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def base64_decoded_size(text: str) -> int | None:
    """The byte length ``text`` (RFC 2045 Base64, whitespace allowed) decodes to; None if not Base64."""
    compact = "".join(text.split())
    if len(compact) % 4 or not _BASE64.fullmatch(compact):
        return None
    return len(compact) // 4 * 3 - (len(compact) - len(compact.rstrip("=")))


def _b64(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _int(text: str | None) -> int | None:
    # ASCII digits only: str.isdigit() also accepts "²" and "①", which int() refuses (ValueError), and
    # int() refuses more than 4300 digits; 30 digits already exceed every size limit.
    if text is None or not _DIGITS.fullmatch(text.strip()):
        return None
    return int(text.strip())


def is_eep_root(root: etree._Element) -> bool:
    """Whether ``root`` is 电子文件封装包 in the DA/T 48 namespace."""
    return root.tag == ROOT_TAG


def looks_like_eep(head: bytes) -> bool:
    """Cheap sniff of a document's first bytes (UTF-8): names the root and the DA/T 48 namespace."""
    return ROOT_NAME.encode("utf-8") in head and EEP_NS.encode("ascii") in head


# ---------------------------------------------------------------- parse
def parse_eep(data: bytes, limits: Limits, *, path: str | None = None) -> EepPackage:
    """Parse and schema-validate an EEP document (DA/T 70 BC-1-15) and read it into values.

    Raises:
        XmlTooLargeError, XmlSyntaxError, XmlDoctypeForbiddenError: see :func:`parse_xml`.
        NotAnEep: the root is not 电子文件封装包 in the DA/T 48 namespace.
        EepSchemaInvalid: the document does not conform to ``eep/eep.xsd``.
    """
    # huge_tree: one 编码数据 node holds a whole file in Base64 (a 7.5 MB scan passes libxml2's 10 MB
    # node limit); the document stays bounded by limits.xml_bytes, DOCTYPEs and external loads refused
    return read_eep(parse_xml(data, limits=limits, path=path, huge_tree=True), path=path)


def read_eep(root: etree._Element, *, path: str | None = None) -> EepPackage:
    """:func:`parse_eep` for an already parsed root.

    Raises:
        NotAnEep: the root is not 电子文件封装包 in the DA/T 48 namespace.
        EepSchemaInvalid: the document does not conform to ``eep/eep.xsd``.
    """
    if not is_eep_root(root):
        raise NotAnEep(f"XML root: expected {{{EEP_NS}}}{ROOT_NAME}, found {root.tag}", path=path)
    violations = schema_violations(root, SCHEMA_NAME)
    if violations:
        first = violations[0]
        raise EepSchemaInvalid(
            f"{SCHEMA_NAME}: {first.message} (line {first.line}; {len(violations)} error(s) in all)",
            violations,
            path=path,
        )
    signed = root.find(q("被签名对象"))
    assert signed is not None  # schema-valid
    branch_el = signed[-1]
    branch = _local(branch_el)
    content = branch_el if branch == "封装内容" else branch_el.find(q("修订内容"))
    assert content is not None
    entity = content.find(f"{q('文件实体块')}/{q('文件实体')}")
    assert entity is not None
    signatures, lock = _read_signatures(root, signed)
    return EepPackage(
        format_description=_child_text(root, "封装包格式描述") or "",
        version=_child_text(root, "版本") or "",
        eep_version=signed.get("eep版本", ""),
        package_type=_child_text(signed, "封装包类型") or "",
        type_description=_child_text(signed, "封装包类型描述") or "",
        created_at=_child_text(signed, "封装包创建时间") or "",
        creator=_child_text(signed, "封装包创建单位") or "",
        branch=branch,
        metadata=_flatten(entity),
        documents=tuple(_read_document(d) for d in entity.iterfind(f"{q('文件数据')}/{q('文档')}")),
        signatures=signatures,
        lock=lock,
    )


def _flatten(entity: etree._Element) -> dict[str, str]:
    """Leaf texts under 文件实体 except 文件数据, keyed ``来源/立档单位名称``; repeats get ``[n]``."""
    out: dict[str, str] = {}

    def walk(el: etree._Element, prefix: str) -> None:
        seen: dict[str, int] = {}
        for child in el:
            name = _local(child)
            if name == "文件数据":
                continue
            seen[name] = seen.get(name, 0) + 1
            key = f"{prefix}{name}" if seen[name] == 1 else f"{prefix}{name}[{seen[name]}]"
            if len(child):
                walk(child, key + "/")
            else:
                out[key] = (child.text or "").strip()

    walk(entity, "")
    return out


def _read_document(doc: etree._Element) -> EepDocument:
    identifier = _child_text(doc, "文档标识符") or ""
    encodings: list[EepEncoding] = []
    for data_el in doc.iterfind(q("文档数据")):
        for enc in data_el.iterfind(q("编码")):
            attrs = enc.find(q("电子属性"))
            payload = enc.find(q("编码数据"))
            assert attrs is not None  # schema-valid
            assert payload is not None
            compact = "".join((payload.text or "").split())
            encodings.append(
                EepEncoding(
                    encoding_id=enc.get("编码ID", ""),
                    data_id=payload.get("编码数据ID", ""),
                    document_id=identifier,
                    document_data_id=data_el.get("文档数据ID", ""),
                    file_name=_child_text(attrs, "计算机文件名") or "",
                    declared_size=_int(_child_text(attrs, "计算机文件大小")),
                    format=_child_text(attrs, "格式信息"),
                    creating_program=_child_text(attrs, "文档创建程序"),
                    reverse_key=_child_text(enc, "反编码关键字") or "",
                    reference_id=payload.get("引用编码数据ID"),
                    data_line=source_line(payload),
                    base64_chars=len(compact),
                    decoded_size=base64_decoded_size(compact),
                )
            )
    return EepDocument(
        identifier=identifier,
        sequence=_child_text(doc, "文档序号"),
        role=_child_text(doc, "文档主从声明"),
        title=_child_text(doc, "题名"),
        encodings=tuple(encodings),
    )


def _read_signature(el: etree._Element, message: bytes | None, *, locks: str | None) -> EepSignature:
    certs: list[bytes | None] = []
    refs: list[str] = []
    for block in el.iterfind(q("证书块")):
        certs.extend(_b64(c.text or "") for c in block.iterfind(q("证书")))
        ref = _child_text(block, "证书引证")
        if ref:
            refs.append(ref)
    return EepSignature(
        identifier=locks if locks is not None else (_child_text(el, "签名标识符") or ""),
        locks=locks,
        rule=_child_text(el, "签名规则") or "",
        time=_child_text(el, "签名时间"),
        signer=_child_text(el, "签名人"),
        algorithm=(_child_text(el, "签名算法标识") or "").strip(),
        value=_b64(_child_text(el, "签名结果")),
        certificates=tuple(certs),
        certificate_refs=tuple(refs),
        message=message,
        line=source_line(el),
    )


def _read_signatures(
    root: etree._Element, signed: etree._Element
) -> tuple[tuple[EepSignature, ...], EepSignature | None]:
    block = root.find(q("电子签名块"))
    if block is None:
        return (), None
    signed_bytes = canonical_bytes(signed)  # one bytes object shared by every 电子签名
    by_id: dict[str, etree._Element] = {}
    signatures = []
    for sig in block.iterfind(q("电子签名")):
        signatures.append(_read_signature(sig, signed_bytes, locks=None))
        by_id[(_child_text(sig, "签名标识符") or "").strip()] = sig
    lock_el = root.find(q("锁定签名"))
    lock = None
    if lock_el is not None:
        target_id = (_child_text(lock_el, "被锁定签名标识符") or "").strip()
        target = by_id.get(target_id)
        lock = _read_signature(
            lock_el, canonical_bytes(target) if target is not None else None, locks=target_id
        )
    return tuple(signatures), lock


# ---------------------------------------------------------------- profile rules (beyond XSD 1.0)
def eep_profile_problems(
    pkg: EepPackage, *, item: str | None = None, path: str | None = None
) -> list[Problem]:
    """DA/T 48 rules the XSD cannot state (§2.3): version echo, type ↔ branch, Base64 and sizes, lock target.

    Every problem carries ``item`` (the caller's DA/T 70 id, e.g. ``BC-1-15``) and ``path``.
    """
    out: list[Problem] = []

    def add(code: str, message: str, line: int | None = None) -> None:
        out.append(Problem(code=code, message=message, item=item, path=path, line=line))

    if pkg.eep_version != pkg.version:  # DA/T 48 Annex B: @eep版本 repeats 版本 inside the signed scope
        add(
            "eep_version_mismatch",
            f"被签名对象/@eep版本 应与 版本 相同：版本为 {pkg.version}，实为 {pkg.eep_version}",
        )
    expected_branch = TYPE_BRANCHES.get(pkg.package_type)
    if expected_branch and pkg.branch != expected_branch:
        add(
            "eep_type_branch_mismatch",
            f"封装包类型 为 {pkg.package_type}，应使用 {expected_branch}，实为 {pkg.branch}",
        )
    expected_text = TYPE_DESCRIPTIONS.get(pkg.package_type)
    if expected_text and pkg.type_description != expected_text:
        add(
            "eep_type_description_mismatch",
            f"封装包类型描述 应为“{expected_text}”，实为“{pkg.type_description}”",
        )
    for enc in pkg.encodings:
        where = f"文档 {enc.document_id} 编码 {enc.encoding_id}（{enc.file_name}）"
        if enc.reference_id and enc.base64_chars == 0:
            continue  # 修改型: unchanged data referenced, nothing to decode here
        if enc.decoded_size is None:
            add(
                "eep_base64_invalid",
                f"{where}：编码数据 应为 Base64 编码（RFC 2045），无法解码",
                enc.data_line,
            )
        elif enc.declared_size is not None and enc.decoded_size != enc.declared_size:
            add(
                "eep_size_mismatch",
                f"{where}：计算机文件大小 记录为 {enc.declared_size} 字节，编码数据 解码后为 {enc.decoded_size} 字节",
                enc.data_line,
            )
    if pkg.lock is not None and pkg.lock.message is None:
        add(
            "eep_lock_target_missing",
            f"锁定签名/被锁定签名标识符 应指向一个 电子签名，实为 {pkg.lock.identifier!r}（未找到）",
            pkg.lock.line,
        )
    return out


# ---------------------------------------------------------------- mandatory metadata (BC-2-10)
@dataclass(frozen=True, slots=True)
class MissingElement:
    """A mandatory element absent or empty: its path, DA/T 46/48 number (None where unknown), line."""

    element: str
    number: str | None
    line: int | None


# DA/T 48 Annex B minOccurs ≥ 1 and DA/T 46 numbers (standards-reference §2.4, §3 "EEP-required").
_PACKAGE_REQUIRED = (("封装包格式描述", None), ("版本", None))
_SIGNED_REQUIRED = (
    ("封装包类型", None),
    ("封装包类型描述", None),
    ("封装包创建时间", None),
    ("封装包创建单位", None),
)
_ENTITY_REQUIRED = (
    ("聚合层次", "M1"),
    ("来源/立档单位名称", "M6"),
    ("电子文件号", "M7"),
    ("档号/年度", "M11"),
    ("档号/保管期限", "M12"),
    ("内容描述/题名", "M22"),
    ("内容描述/责任者", "M32"),
    ("内容描述/日期", "M33"),
    ("内容描述/密级", "M38"),
    ("形式特征/文件组合类型", "M41"),
    ("存储位置/脱机载体编号", "M67"),
)
_ENCODING_REQUIRED = (
    ("电子属性/计算机文件名", "M48"),
    ("电子属性/计算机文件大小", "M49"),
    ("编码描述", "M219"),
    ("反编码关键字", "M220"),
)
_BUSINESS_REQUIRED = (
    ("业务标识符", "M227"),
    ("机构人员标识符", "M228"),
    ("文件标识符", "M223"),
    ("业务状态", "M80"),
    ("业务行为", "M81"),
    ("行为时间", "M82"),
)
_AGENT_REQUIRED = (("机构人员标识符", "M228"), ("机构人员名称", "M77"))


def _has_text(parent: etree._Element, rel: str) -> bool:
    el = parent.find("/".join(q(p) for p in rel.split("/")))
    return el is not None and bool((el.text or "").strip())


def missing_metadata(root: etree._Element) -> list[MissingElement]:
    """Every mandatory encapsulation element that is absent or empty (DA/T 70 BC-2-10, DA/T 48 Annex C).

    Lenient: works on any tree with an EEP root, schema-valid or not, so BC-2-10 can answer even when
    BC-1-15 fails. The original package nested in a 修改型 (原封装包) is not re-checked.
    """
    out: list[MissingElement] = []

    def need(parent: etree._Element, items: tuple[tuple[str, str | None], ...], prefix: str) -> None:
        for rel, number in items:
            if not _has_text(parent, rel):
                out.append(MissingElement(f"{prefix}{rel}", number, source_line(parent)))

    need(root, _PACKAGE_REQUIRED, "")
    signed = root.find(q("被签名对象"))
    if signed is None:
        out.append(MissingElement("被签名对象", None, source_line(root)))
        return out
    if not (signed.get("eep版本") or "").strip():
        out.append(MissingElement("被签名对象/@eep版本", None, source_line(signed)))
    need(signed, _SIGNED_REQUIRED, "被签名对象/")
    content = signed.find(q("封装内容"))
    prefix = "被签名对象/封装内容/"
    if content is None:
        content = signed.find(f"{q('修改封装内容')}/{q('修订内容')}")
        prefix = "被签名对象/修改封装内容/修订内容/"
    if content is None:
        out.append(MissingElement("被签名对象/封装内容", None, source_line(signed)))
        return out
    for block, number in (("文件实体块", "M210"), ("业务实体块", "M225"), ("机构人员实体块", "M229")):
        if content.find(q(block)) is None:
            out.append(MissingElement(prefix + block, number, source_line(content)))
    for entity in content.iterfind(f"{q('文件实体块')}/{q('文件实体')}"):
        p = prefix + "文件实体块/文件实体/"
        need(entity, _ENTITY_REQUIRED, p)
        archival = entity.find(q("档号"))
        if archival is not None and not (_has_text(archival, "室编件号") or _has_text(archival, "馆编件号")):
            out.append(MissingElement(p + "档号/室编件号|馆编件号", "M17/M18", source_line(archival)))
        documents = list(entity.iterfind(f"{q('文件数据')}/{q('文档')}"))
        if not documents:
            out.append(MissingElement(p + "文件数据/文档", "M214", source_line(entity)))
        for doc in documents:
            doc_id = _child_text(doc, "文档标识符")
            dp = f"{p}文件数据/文档[{(doc_id or '').strip() or '?'}]/"
            need(doc, (("文档标识符", "M215"),), dp)
            encodings = list(doc.iterfind(f"{q('文档数据')}/{q('编码')}"))
            if not encodings:
                out.append(MissingElement(dp + "文档数据/编码", "M217", source_line(doc)))
            for enc in encodings:
                ep = f"{dp}编码[{enc.get('编码ID', '?')}]/"
                need(enc, _ENCODING_REQUIRED, ep)
                digitised = enc.find(q("数字化属性"))
                if digitised is not None:
                    need(digitised, (("扫描分辨率", "M54"), ("扫描色彩模式", "M55")), ep + "数字化属性/")
                payload = enc.find(q("编码数据"))
                if payload is None or not ((payload.text or "").strip() or payload.get("引用编码数据ID")):
                    out.append(MissingElement(ep + "编码数据", "M221", source_line(enc)))
    for business in content.iterfind(f"{q('业务实体块')}/{q('业务实体')}"):
        need(business, _BUSINESS_REQUIRED, prefix + "业务实体块/业务实体/")
    if (
        content.find(q("业务实体块")) is not None
        and content.find(f"{q('业务实体块')}/{q('业务实体')}") is None
    ):
        out.append(MissingElement(prefix + "业务实体块/业务实体", "M226", source_line(content)))
    for agent in content.iterfind(f"{q('机构人员实体块')}/{q('机构人员实体')}"):
        need(agent, _AGENT_REQUIRED, prefix + "机构人员实体块/机构人员实体/")
    return out


# ---------------------------------------------------------------- decode into staging
def safe_segment(name: str, *, what: str, limits: Limits) -> str:
    """``name`` NFC-normalised if it is usable as one path segment, else refuse.

    Raises:
        EepUnsafeFileName: empty, ``.``/``..``, a separator, a control character, or too long
            (``limits.path_length`` characters, :data:`NAME_BYTES` bytes in UTF-8).
    """
    value = unicodedata.normalize("NFC", name.strip())
    bad = (
        not value
        or value.strip(" .") == ""
        or any(c in value for c in "/\\")
        or any(unicodedata.category(c) in ("Cc", "Cs") for c in value)
        or len(value) > limits.path_length
        or len(value.encode("utf-8")) > NAME_BYTES
    )
    if bad:
        raise EepUnsafeFileName(f"{what}: expected one safe path segment, found {name[:80]!r}")
    return value


def restored_name(file_name: str, reverse_key: str) -> str:
    """计算机文件名 with the extension of 反编码关键字 restored when missing (DA/T 48 M220).

    >>> restored_name("起诉状", "pdf"), restored_name("起诉状.pdf", ".PDF"), restored_name("a.ofd", "Base64")
    ('起诉状.pdf', '起诉状.pdf', 'a.ofd.Base64')

    Only a short alphanumeric key (≤ 10 characters, optional leading dot) is taken as an extension.
    """
    key = reverse_key.strip().lstrip(".")
    if not _EXTENSION.fullmatch(key) or file_name.lower().endswith("." + key.lower()):
        return file_name
    return f"{file_name}.{key}"


def decode_base64_stream(text: str, write: Callable[[bytes], None], *, what: str) -> None:
    """Decode ``text`` (RFC 2045 Base64, whitespace allowed) in chunks and pass each chunk to ``write``.

    Raises:
        EepBase64Invalid: not Base64, or padding before the end.
    """
    carry = ""
    padded = False
    for start in range(0, len(text), _DECODE_CHUNK_CHARS):
        piece = carry + "".join(text[start : start + _DECODE_CHUNK_CHARS].split())
        usable = len(piece) - len(piece) % 4
        carry = piece[usable:]
        if not usable:
            continue
        if padded:
            raise EepBase64Invalid(f"{what}: Base64 padding '=' before the end of 编码数据")
        block = piece[:usable]
        padded = block.endswith("=")
        try:
            write(base64.b64decode(block, validate=True))
        except (binascii.Error, ValueError):
            raise EepBase64Invalid(f"{what}: 编码数据 is not Base64 (RFC 2045) near offset {start}") from None
    if carry:
        raise EepBase64Invalid(f"{what}: Base64 length is not a multiple of 4 ({len(carry)} characters left)")


class _Writer:
    """One staged output file: hashes, counts and refuses growth beyond the declared size."""

    def __init__(self, dest: Path, declared: int, what: str) -> None:
        self.hasher = MultiHasher(SUPPORTED)
        self.declared = declared
        self.what = what
        self.fh = open(dest, "xb")  # noqa: SIM115 - closed by the caller; "x": never overwrite

    def write(self, data: bytes) -> None:
        if self.hasher.size + len(data) > self.declared:  # refuse early: never write past 计算机文件大小
            raise EepSizeMismatch(
                f"{self.what}: 计算机文件大小 expected {self.declared} bytes, "
                f"found more than {self.hasher.size + len(data) - 1}"
            )
        self.hasher.update(data)
        self.fh.write(data)


def decode_eep_files(path: Path, staging: Path, limits: Limits) -> StagedPackage:
    """Decode every 编码数据 of the EEP file ``path`` into the new folder ``staging``, hashing as it goes.

    Layout of the staged package: the EEP itself at the root under its own name (so BC-1-15/1-16/2-10
    can be run on the staged copy), and each file at ``文件数据/<文档标识符>/<计算机文件名>`` with the
    extension of 反编码关键字 restored. An empty 编码数据 with 引用编码数据ID (修改型) is staged as a
    copy of the referenced, earlier decoded file. Parsing is lxml ``iterparse`` without entities, DTDs
    or network, and each 编码 is freed after it is decoded. The input is only read; on failure
    ``staging`` is removed again.

    Raises:
        FileExistsError: ``staging`` already exists (a caller bug: staging folders are never reused).
        XmlSyntaxError: the file is not well-formed XML.
        XmlDoctypeForbiddenError: it declares a DOCTYPE.
        NotAnEep: its root is not 电子文件封装包.
        EepMissingElement, EepUnsafeFileName, EepDuplicateFileName, EepBase64Invalid,
        EepReferenceUnresolved: the 编码 cannot be decoded as declared.
        EepSizeMismatch: a decoded size differs from 计算机文件大小.
        EepLimitExceeded: a file, the total or the file count exceeds ``limits``.
        OSError: the EEP cannot be read or staging cannot be written.
    """
    staging.mkdir(parents=True, exist_ok=False)
    try:
        return _decode(path, staging, limits)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _copy_source(path: Path, staging: Path) -> StagedFile:
    hasher = MultiHasher(SUPPORTED)
    with open(path, "rb") as src, open(staging / path.name, "xb") as dst:
        while chunk := src.read(1024 * 1024):
            hasher.update(chunk)
            dst.write(chunk)
    return StagedFile(path=path.name, size=hasher.size, digests=hasher.hexdigests())


def _refuse_doctype_in_head(path: Path) -> None:
    # A DOCTYPE belongs in the prolog. Refuse it before libxml2 reads its internal subset: iterparse runs
    # with huge_tree=True, under which older libxml2 releases lift the entity amplification limit
    # (billion laughs). One hidden after the first MiB is still refused by the docinfo check.
    with open(path, "rb") as fh:
        head = fh.read(_PROLOG_SCAN_BYTES)
    if has_doctype_marker(head):
        raise XmlDoctypeForbiddenError("XML declares a DOCTYPE; expected no DOCTYPE", path=path.name)


def _decode(path: Path, staging: Path, limits: Limits) -> StagedPackage:
    _refuse_doctype_in_head(path)
    source = _copy_source(path, staging)
    staged: list[StagedFile] = [source]
    by_data_id: dict[str, StagedFile] = {}
    total = 0
    document_id: str | None = None
    context: Any = etree.iterparse(
        str(path),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # one 编码数据 text may exceed libxml2's 10 MB text-node limit
        remove_comments=True,
        remove_pis=True,
    )
    first = True
    try:
        for event, el in context:
            if first:
                first = False
                docinfo: Any = el.getroottree().docinfo
                if docinfo.doctype or docinfo.internalDTD is not None:
                    raise XmlDoctypeForbiddenError(
                        "XML declares a DOCTYPE; expected no DOCTYPE", path=path.name
                    )
                if el.tag != ROOT_TAG:
                    raise NotAnEep(f"XML root: expected {ROOT_TAG}, found {el.tag}", path=path.name)
            if event != "end":
                continue
            if el.tag == q("文档标识符"):
                document_id = (el.text or "").strip()
            elif el.tag == q("编码"):
                if document_id is None:
                    raise EepMissingElement(
                        "编码: expected a 文档标识符 before it, found none", path=path.name
                    )
                file, data_id = _decode_encoding(el, document_id, staging, limits, by_data_id, path.name)
                total += file.size
                if len(staged) > limits.file_count or total > limits.package_bytes:
                    raise EepLimitExceeded(
                        f"decoded package: expected at most {limits.file_count} files and "
                        f"{limits.package_bytes} bytes, found {len(staged)} files and {total} bytes",
                        path=path.name,
                    )
                staged.append(file)
                by_data_id[data_id] = file
                el.clear(keep_tail=True)
            elif el.tag == q("文档"):
                el.clear(keep_tail=True)
                parent = el.getparent()
                while parent is not None and el.getprevious() is not None:  # free decoded documents
                    del parent[0]
                document_id = None
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise XmlSyntaxError(
            f"XML is not well-formed: {exc.msg} (line {line})", path=path.name, line=line
        ) from None
    return StagedPackage(
        root=staging,
        files=tuple(staged),
        source_name=path.name,
        source_kind="eep",
        source_digest=source.digests["sha256"],
    )


def _decode_encoding(
    enc: etree._Element,
    document_id: str,
    staging: Path,
    limits: Limits,
    by_data_id: dict[str, StagedFile],
    source: str,
) -> tuple[StagedFile, str]:
    encoding_id = enc.get("编码ID", "?")
    what = f"文档 {document_id} 编码 {encoding_id}"
    name = enc.findtext(f"{q('电子属性')}/{q('计算机文件名')}")
    size_text = enc.findtext(f"{q('电子属性')}/{q('计算机文件大小')}")
    payload = enc.find(q("编码数据"))
    declared = _int(size_text)
    if name is None or declared is None or payload is None or not payload.get("编码数据ID"):
        raise EepMissingElement(
            f"{what}: expected 计算机文件名, an integer 计算机文件大小 and 编码数据/@编码数据ID, "
            f"found name={name!r} size={size_text!r} data={'present' if payload is not None else 'absent'}",
            path=source,
        )
    if declared > limits.file_bytes:
        raise EepLimitExceeded(
            f"{what}: 计算机文件大小 {declared} exceeds limits.file_bytes {limits.file_bytes}", path=source
        )
    folder = safe_segment(document_id, what=f"{what} 文档标识符", limits=limits)
    file_name = restored_name(
        safe_segment(name, what=f"{what} 计算机文件名", limits=limits), enc.findtext(q("反编码关键字")) or ""
    )
    if len(file_name.encode("utf-8")) > NAME_BYTES:  # the restored extension made it too long
        raise EepUnsafeFileName(
            f"{what} 计算机文件名: expected at most {NAME_BYTES} bytes in UTF-8 with its extension, "
            f"found {len(file_name.encode('utf-8'))}",
            path=source,
        )
    rel = f"{DECODED_FOLDER}/{folder}/{file_name}"
    dest = staging / DECODED_FOLDER / folder / file_name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        raise EepDuplicateFileName(
            f"{what}: file name {file_name!r} already used in 文档 {document_id}", path=source
        )
    text = payload.text or ""
    reference = payload.get("引用编码数据ID")
    writer = _Writer(dest, declared, what)
    with writer.fh:
        if reference and not text.strip():
            original = by_data_id.get(reference)
            if original is None:
                raise EepReferenceUnresolved(
                    f"{what}: 引用编码数据ID expected an earlier 编码数据ID, found {reference!r}", path=source
                )
            with open(staging.joinpath(*original.path.split("/")), "rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    writer.write(chunk)
        else:
            decode_base64_stream(text, writer.write, what=what)
    if writer.hasher.size != declared:  # DA/T 48 §2.3: decoded size = 计算机文件大小
        raise EepSizeMismatch(
            f"{what}: 计算机文件大小 expected {declared} bytes, found {writer.hasher.size}", path=source
        )
    return StagedFile(path=rel, size=writer.hasher.size, digests=writer.hasher.hexdigests()), payload.get(
        "编码数据ID", ""
    )


__all__ = [
    "EEP_NS",
    "SCHEMA_NAME",
    "EepBase64Invalid",
    "EepDocument",
    "EepDuplicateFileName",
    "EepEncoding",
    "EepLimitExceeded",
    "EepMissingElement",
    "EepPackage",
    "EepReferenceUnresolved",
    "EepSchemaInvalid",
    "EepSignature",
    "EepSizeMismatch",
    "EepUnsafeFileName",
    "MissingElement",
    "NotAnEep",
    "base64_decoded_size",
    "canonical_bytes",
    "decode_eep_files",
    "eep_profile_problems",
    "is_eep_root",
    "looks_like_eep",
    "missing_metadata",
    "parse_eep",
    "read_eep",
    "restored_name",
    "safe_segment",
]
