"""Open ZIP containers and OFD documents without trusting them (DA/T 70 x-3-4, x-3-8).

Every entry is checked against the limits (count, declared sizes, compression ratio) before a
byte is inflated, encrypted entries and compression methods other than stored/deflate are recorded
(x-3-8: no encryption, no non-public compression), and every readable entry is read to its end so
its CRC-32 is verified. For an OFD (GB/T 33190-2016) the entry file ``OFD.xml`` and the
``Document.xml`` each ``DocBody/DocRoot`` points to are parsed with the hardened XML parser; the
page count is the number of ``Pages/Page`` and each page's ``BaseLoc`` must exist. Rendering page
content is left to an OFD reader.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from lxml import etree

from integrity.formats.identify import OFD_ENTRY, OFD_NAMESPACE, is_ofd_main
from integrity.formats.result import PUBLIC_ZIP_METHODS, ZIP_METHODS, ParseResult, failed
from standards.errors import BadInput
from standards.limits import Limits
from standards.xml_parser import parse_xml

_READ_CHUNK = 1024 * 1024
_NS = {"ofd": OFD_NAMESPACE}
_DECODABLE = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})


class _Refused(Exception):
    """Internal: the container breaks a rule; ``code`` and Chinese ``message`` say which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _check_declared(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.file_count:
        raise _Refused("zip_too_many_entries", f"含 {len(infos)} 个条目，超过上限 {limits.file_count}")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.file_bytes:
            raise _Refused(
                "zip_entry_too_large",
                f"条目 {info.filename} 声明 {info.file_size} 字节，超过上限 {limits.file_bytes}",
            )
        big = info.file_size >= limits.ratio_floor_bytes
        if big and info.file_size > limits.compression_ratio * max(info.compress_size, 1):
            raise _Refused(
                "zip_ratio_exceeded",
                f"条目 {info.filename} 压缩比 {info.file_size}/{info.compress_size} "
                f"超过上限 {limits.compression_ratio}",
            )
    if total > limits.file_bytes:
        raise _Refused("zip_too_large", f"条目共声明 {total} 字节，超过单个文件上限 {limits.file_bytes}")


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read one entry to its end (verifies CRC-32), keeping at most ``cap`` bytes; refuse overruns."""
    kept = bytearray()
    count = 0
    with zf.open(info) as fh:
        while chunk := fh.read(_READ_CHUNK):
            count += len(chunk)
            if count > info.file_size:
                raise _Refused(
                    "zip_size_mismatch", f"条目 {info.filename} 解压后超过声明的 {info.file_size} 字节"
                )
            if len(kept) < cap:
                kept += chunk[: cap - len(kept)]
    return bytes(kept)


def _resolve(base_dir: str, loc: str) -> str:
    """An OFD ST_Loc (GB/T 33190 §7.2): absolute from the package root when it starts with ``/``."""
    loc = loc.strip().replace("\\", "/")
    joined = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base_dir, loc)
    return posixpath.normpath(joined)


def _xml(contents: dict[str, bytes], name: str, limits: Limits) -> etree._Element:
    if name not in contents:
        raise _Refused("ofd_entry_missing", f"OFD 缺少 {name}")
    try:
        return parse_xml(contents[name], limits=limits, path=name)
    except BadInput as exc:
        raise _Refused("ofd_xml_invalid", f"{name} 无法解析：{exc.message}") from None


def _ofd_structure(
    contents: dict[str, bytes], names: set[str], limits: Limits
) -> tuple[int, str | None, str]:
    """(pages, creation date, DocRoot list) of an OFD whose XML entries are in ``contents``."""
    main = _xml(contents, OFD_ENTRY, limits)
    if not is_ofd_main(main):
        raise _Refused("ofd_namespace", f"OFD.xml 根元素为 {main.tag}，应为 {{{OFD_NAMESPACE}}}OFD")
    bodies = main.findall("ofd:DocBody", _NS)
    if not bodies:
        raise _Refused("ofd_no_docbody", "OFD.xml 没有 DocBody")
    pages = 0
    created: str | None = None
    roots: list[str] = []
    for body in bodies:
        loc = body.findtext("ofd:DocRoot", default="", namespaces=_NS)
        if not loc.strip():
            raise _Refused("ofd_no_docroot", "DocBody 没有 DocRoot")
        doc_path = _resolve("", loc)
        roots.append(doc_path)
        created = created or (body.findtext("ofd:DocInfo/ofd:CreationDate", namespaces=_NS) or None)
        document = _xml(contents, doc_path, limits)
        if document.tag != f"{{{OFD_NAMESPACE}}}Document":
            raise _Refused("ofd_namespace", f"{doc_path} 根元素为 {document.tag}，应为 ofd:Document")
        base = posixpath.dirname(doc_path)
        for page in document.findall("ofd:Pages/ofd:Page", _NS):
            target = _resolve(base, page.get("BaseLoc", ""))
            if target not in names:
                raise _Refused("ofd_page_missing", f"页面 {page.get('ID')} 的 BaseLoc 指向不存在的 {target}")
            pages += 1
    if pages == 0:
        raise _Refused("ofd_no_pages", "Document.xml 没有页面（Pages/Page）")
    return pages, created, " ".join(roots)


def parse_container(path: Path, *, limits: Limits, ofd: bool) -> ParseResult:
    """Check every entry of the ZIP at ``path``; with ``ofd`` also parse the OFD structure.

    Raises:
        OSError: the file cannot be opened or read.
    """
    fmt = "OFD" if ofd else "ZIP"
    methods: set[int] = set()
    encrypted: list[str] = []
    unreadable: list[str] = []
    contents: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_declared(infos, limits)
            for info in infos:
                methods.add(info.compress_type)
                if info.flag_bits & 0x1:  # APPNOTE §4.4.4 bit 0: traditional or strong encryption
                    encrypted.append(info.filename)
                    continue
                if info.compress_type not in _DECODABLE or info.is_dir():
                    if not info.is_dir():
                        unreadable.append(info.filename)
                    continue
                keep = limits.xml_bytes if info.filename.lower().endswith(".xml") else 0
                contents[info.filename] = _read_entry(zf, info, keep)
    except _Refused as exc:
        return failed(fmt, exc.code, exc.message, compression_methods=tuple(sorted(methods)))
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
        return failed(
            fmt, "zip_damaged", f"ZIP 结构或数据损坏：{exc}", compression_methods=tuple(sorted(methods))
        )
    found = tuple(sorted(methods))
    details = {"entries": str(len(infos)), "methods": " ".join(ZIP_METHODS.get(m, str(m)) for m in found)}
    if not set(found) <= PUBLIC_ZIP_METHODS:
        details["non_public_methods"] = " ".join(ZIP_METHODS.get(m, str(m)) for m in found if m not in (0, 8))

    def fail(code: str, message: str) -> ParseResult:
        return ParseResult(
            ok=False,
            format=fmt,
            code=code,
            error=message,
            encrypted=bool(encrypted),
            compression_methods=found,
            details=details,
        )

    if encrypted:
        return fail("zip_encrypted_entry", f"条目已加密，无法读取：{'、'.join(encrypted[:5])}")
    if unreadable:
        return fail("zip_unsupported_method", f"条目使用无法解压的压缩方法：{'、'.join(unreadable[:5])}")
    if not ofd:
        return ParseResult(ok=True, format="ZIP", compression_methods=found, details=details)
    try:
        pages, created, roots = _ofd_structure(contents, {i.filename for i in infos}, limits)
    except _Refused as exc:
        return fail(exc.code, exc.message)
    details["doc_roots"] = roots
    return ParseResult(
        ok=True, format="OFD", pages=pages, created=created, compression_methods=found, details=details
    )
