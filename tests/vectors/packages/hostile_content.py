"""Hostile *contents* in otherwise valid packages: a court package, a BagIt bag, a DA/T 48 EEP.

:mod:`make_hostile` zips what this module returns and records each vector in ``expected.csv``. The
ZIP container of these vectors is honest; what is hostile is inside: XML with a DOCTYPE (external
entities to ``file://`` and ``http://``, parameter entities, an external DTD, billion laughs,
quadratic blowup, a UTF-7 or UTF-16 DOCTYPE), XML past libxml2's limits (nesting depth, a 10 MB
text node), a 10 MB attribute, XML declared in one encoding and written in another, wrong digests and
truncated files. Every value is fixed, so the output is byte-identical on every run.

``base_court_files()`` is the unmutated court package (one PDF); the tests check that it validates
without a problem, so each vector is refused for its one mutation and nothing else.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from integrity.hashing import digest_bytes
from standards.court_package import (
    CATALOG_FILE,
    DESCRIPTION_FILE,
    CatalogEntry,
    DocumentMetadata,
    DossierDescription,
    Environment,
    ProcessStep,
    metadata_path,
)
from standards.court_xml import render_catalog, render_description, render_document_metadata

EEP_BASE = Path(__file__).resolve().parents[1] / "eep" / "warning" / "unsigned.xml"
CASE = "（2024）粤0306民初1234号"
COURT = "深圳市南山区人民法院"
TZ = dt.timezone(dt.timedelta(hours=8))
PDF_PATH = "正卷/0001-起诉状.pdf"
METADATA = metadata_path(1)
LIBXML_TEXT_LIMIT = 10_000_000  # XML_MAX_TEXT_LENGTH: the longest text or attribute without XML_PARSE_HUGE
_PASSWD = "file:///etc/passwd"
_NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers, nothing may be fetched


@dataclass(frozen=True)
class ContentVector:
    """One vector: ``files`` (package path → bytes) for a ZIP, or ``document`` for a bare EEP file.

    ``reader`` says which reader must refuse it (``court``, ``bagit``, ``eep``); ``error_class`` is the
    exception the XML parser or EEP reader raises (``Problem`` for a finding without an exception);
    ``code`` the error or problem code; ``ingest_code`` the first error ingest reports.
    """

    name: str
    reader: str
    error_class: str
    code: str
    ingest_code: str
    build: Callable[[], dict[str, bytes] | bytes]


# ------------------------------------------------------------------ the valid court package
def make_pdf(text: str) -> bytes:
    """A small, valid one-page PDF (fixed bytes for a given ASCII text)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF = make_pdf("Complaint (2024) Yue 0306 Min Chu 1234")


def _entry(pdf: bytes = PDF) -> CatalogEntry:
    d = digest_bytes(pdf)
    return CatalogEntry(
        sequence=1,
        archival_code="J001-SS·2024-Y-0012-0001",
        title="起诉状",
        author=COURT,
        date=dt.date(2024, 6, 1),
        retention="永久",
        classification="公开",
        pages=1,
        volume="正卷",
        origin="电子原件",
        paper_location=None,
        file_path=PDF_PATH,
        file_size=len(pdf),
        format="PDF",
        sha256=d["sha256"],
        sm3=d["sm3"],
    )


def _metadata(e: CatalogEntry) -> DocumentMetadata:
    return DocumentMetadata(
        case_number=CASE,
        sequence=e.sequence,
        archival_code=e.archival_code,
        fonds_code="J001",
        archive_unit=COURT,
        title=e.title,
        author=e.author,
        date=e.date,
        classification=e.classification,
        document_number="",
        retention=e.retention,
        volume=e.volume,
        pages=e.pages,
        language="汉语",
        format=e.format,
        file_name=e.file_path.rsplit("/", 1)[-1],
        file_size=e.file_size,
        creating_software="某法院电子卷宗系统 3.2",
        origin=e.origin,
        paper_location=None,
        scan_resolution=None,
        scan_colour=None,
        sha256=e.sha256,
        sm3=e.sm3,
        history=(
            ProcessStep("收文", dt.datetime(2024, 6, 1, 9, 0, tzinfo=TZ), "张书记员"),
            ProcessStep("归档", dt.datetime(2025, 1, 10, 9, 0, tzinfo=TZ), "张书记员", "随案归档"),
        ),
    )


def _description(e: CatalogEntry) -> DossierDescription:
    return DossierDescription(
        case_number=CASE,
        court_name=COURT,
        case_type="民事",
        year=2024,
        closing_date=dt.date(2024, 12, 20),
        department="民事审判第一庭",
        judge="李法官",
        fonds_code="J001",
        submitter="张书记员",
        submitted_at=dt.datetime(2025, 1, 10, 10, 30, tzinfo=TZ),
        document_count=1,
        total_bytes=e.file_size,
        digest_algorithms=("SHA-256", "SM3"),
        environment=Environment("某法院电子卷宗系统 3.2", "麒麟 V10", "x86_64 服务器"),
        retention="永久",
    )


def base_court_files(entry: CatalogEntry | None = None, pdf: bytes = PDF) -> dict[str, bytes]:
    """A valid court package (说明文件, 目录文件, one metadata file, one PDF) as path → bytes."""
    e = entry or _entry(pdf)
    return {
        DESCRIPTION_FILE: render_description(_description(e)),
        CATALOG_FILE: render_catalog(CASE, [e]),
        METADATA: render_document_metadata(_metadata(e)),
        PDF_PATH: pdf,
    }


# ------------------------------------------------------------------ XML mutations
def with_doctype(xml: bytes, doctype: str) -> bytes:
    """``xml`` with ``doctype`` inserted after its XML declaration."""
    end = xml.index(b"?>") + 2
    return xml[:end] + b"\n" + doctype.encode("utf-8") + xml[end:]


def with_text(xml: bytes, tag: str, text: str | bytes) -> bytes:
    """``xml`` with the text of the first ``<tag>`` replaced (markup allowed: entity references)."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    pattern = re.compile(b"(<" + re.escape(tag.encode("utf-8")) + b">)[^<]*(</)")
    result, n = pattern.subn(lambda m: m.group(1) + raw + m.group(2), xml, count=1)
    if n != 1:
        raise ValueError(f"no <{tag}> element to replace")
    return result


def _court(path: str, mutate: Callable[[bytes], bytes]) -> Callable[[], dict[str, bytes]]:
    def build() -> dict[str, bytes]:
        files = base_court_files()
        files[path] = mutate(files[path])
        return files

    return build


def _billion_laughs(root: str) -> str:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    return f"<!DOCTYPE {root} [{entities}]>"


def _utf7(text: str) -> bytes:
    """Every character of ``text`` in UTF-7's Base64 form (``<`` → ``+ADw-``): no ASCII markup is left."""
    raw = text.encode("utf-16-be")
    return b"+" + base64.b64encode(raw).rstrip(b"=") + b"-"


def utf7_doctype_document(xml: bytes, doctype: str) -> bytes:
    """``xml`` re-declared as UTF-7 with ``doctype`` spelled so no ``<!DOCTYPE`` bytes appear."""
    body = xml[xml.index(b"?>") + 2 :].decode("utf-8")
    return b'<?xml version="1.0" encoding="UTF-7"?>' + _utf7(doctype) + body.encode("utf-7")


def _padding(total: int, seed: int) -> str:
    """``total`` characters that deflate about 150:1: 0.5 % pseudo-random letters, then one repeated letter.

    Under the intake ratio limit (200:1), so the refusal must come from the XML parser, not from intake.
    """
    rng = random.Random(seed)
    noisy = max(total // 140, 1)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(letters) for _ in range(noisy)) + "A" * (total - noisy)


def _giant_attribute(xml: bytes) -> bytes:
    value = _padding(LIBXML_TEXT_LIMIT + 1000, seed=1)
    return xml.replace(' 版本="1.0"'.encode(), f' 版本="{value}"'.encode(), 1)


def _deep(xml: bytes, depth: int) -> bytes:
    return with_text(xml, "承办人", b"<x>" * depth + b"</x>" * depth)


def _declared_as(xml: bytes, declared: str, actual: str) -> bytes:
    """``xml`` (UTF-8) re-declared as ``declared`` and written, declaration included, in ``actual``."""
    body = xml[xml.index(b"?>") + 2 :].decode("utf-8")
    return f'<?xml version="1.0" encoding="{declared}"?>{body}'.encode(actual)


def _wrong_digest() -> dict[str, bytes]:
    e = _entry()
    wrong = f"{int(e.sha256, 16) ^ 1:064x}"  # one bit off, recorded consistently in 目录文件 and 元数据
    files = base_court_files(dataclasses.replace(e, sha256=wrong))
    files[PDF_PATH] = PDF
    return files


def _truncated_file() -> dict[str, bytes]:
    files = base_court_files()  # catalogue records the full size and digests
    files[PDF_PATH] = PDF[: len(PDF) // 2]
    return files


def court_vectors() -> list[ContentVector]:
    """Court packages whose XML or content files are hostile; refused by validation and by ingest."""
    doctype, malformed = "XmlDoctypeForbiddenError", "XmlSyntaxError"
    forbidden, bad_xml = "xml_doctype_forbidden", "xml_malformed"

    def v(name: str, error: str, code: str, build: Callable[[], dict[str, bytes]]) -> ContentVector:
        return ContentVector(name, "court", error, code, code, build)

    xxe = f'<!DOCTYPE 说明文件 [<!ENTITY xxe SYSTEM "{_PASSWD}">]>'
    http = f'<!DOCTYPE 文件目录 [<!ENTITY xxe SYSTEM "{_NOWHERE}/xxe">]>'
    parameter = f'<!DOCTYPE 说明文件 [<!ENTITY % dtd SYSTEM "{_NOWHERE}/evil.dtd"> %dtd;]>'
    quadratic = '<!DOCTYPE 说明文件 [<!ENTITY a "' + "a" * 50_000 + '">]>'
    return [
        v(
            "court_xxe_file_entity.zip",
            doctype,
            forbidden,
            _court(DESCRIPTION_FILE, lambda x: with_text(with_doctype(x, xxe), "承办人", "&xxe;")),
        ),
        v(
            "court_xxe_http_entity.zip",
            doctype,
            forbidden,
            _court(CATALOG_FILE, lambda x: with_text(with_doctype(x, http), "题名", "&xxe;")),
        ),
        v(
            "court_xxe_parameter_entity.zip",
            doctype,
            forbidden,
            _court(DESCRIPTION_FILE, lambda x: with_doctype(x, parameter)),
        ),
        v(
            "court_external_dtd_in_metadata.zip",
            doctype,
            forbidden,
            _court(METADATA, lambda x: with_doctype(x, f'<!DOCTYPE 文件元数据 SYSTEM "{_NOWHERE}/m.dtd">')),
        ),
        v(
            "court_billion_laughs.zip",
            doctype,
            forbidden,
            _court(
                CATALOG_FILE,
                lambda x: with_text(with_doctype(x, _billion_laughs("文件目录")), "题名", "&lol9;"),
            ),
        ),
        v(
            "court_quadratic_blowup.zip",
            doctype,
            forbidden,
            _court(
                DESCRIPTION_FILE, lambda x: with_text(with_doctype(x, quadratic), "承办人", "&a;" * 20_000)
            ),
        ),
        v(
            "court_doctype_utf16.zip",
            doctype,
            forbidden,
            _court(
                DESCRIPTION_FILE,
                lambda x: _declared_as(with_doctype(x, xxe), "UTF-16", "utf-16"),
            ),
        ),
        v(  # regression: UTF-7 hid the DOCTYPE from the byte scan and libxml2 read the external subset
            "court_doctype_utf7_external_subset.zip",
            doctype,
            forbidden,
            _court(
                DESCRIPTION_FILE,
                lambda x: utf7_doctype_document(x, f'<!DOCTYPE 说明文件 SYSTEM "{_PASSWD}">'),
            ),
        ),
        v("court_deep_nesting.zip", malformed, bad_xml, _court(DESCRIPTION_FILE, lambda x: _deep(x, 10_000))),
        # libxml2 parses a 10 MB attribute (limits.xml_bytes bounds it); the XSD refuses the value
        v("court_giant_attribute.zip", "Problem", "xsd_invalid", _court(DESCRIPTION_FILE, _giant_attribute)),
        v(
            "court_giant_text_node.zip",
            malformed,
            bad_xml,
            _court(
                CATALOG_FILE,
                lambda x: with_text(x, "题名", _padding(LIBXML_TEXT_LIMIT + 1000, seed=2)),
            ),
        ),
        v(
            "court_declared_utf8_written_gb18030.zip",
            malformed,
            bad_xml,
            _court(DESCRIPTION_FILE, lambda x: _declared_as(x, "UTF-8", "gb18030")),
        ),
        v(
            "court_declared_gb18030_written_utf8.zip",
            malformed,
            bad_xml,
            _court(DESCRIPTION_FILE, lambda x: _declared_as(x, "GB18030", "utf-8")),
        ),
        v("court_wrong_digest.zip", "Problem", "digest_mismatch", _wrong_digest),
        v("court_truncated_content_file.zip", "Problem", "file_size_mismatch", _truncated_file),
    ]


# ------------------------------------------------------------------ BagIt (RFC 8493)
def bag_files(
    *,
    payload: bytes = PDF,
    listed_digest: str | None = None,
    extra_manifest_line: str = "",
    fetch: str | None = None,
    encoding: str = "UTF-8",
) -> dict[str, bytes]:
    """A bag of the PDF (sha256 manifest, Payload-Oxum); without arguments a valid one (RFC 8493)."""
    digest = listed_digest or digest_bytes(PDF)["sha256"]
    files = {
        "bagit.txt": f"BagIt-Version: 1.0\nTag-File-Character-Encoding: {encoding}\n".encode(),
        "bag-info.txt": f"Source-Organization: {COURT}\nPayload-Oxum: {len(PDF)}.1\n".encode(),
        "manifest-sha256.txt": f"{digest}  data/起诉状.pdf\n{extra_manifest_line}".encode(),
        "data/起诉状.pdf": payload,
    }
    if fetch is not None:
        files["fetch.txt"] = fetch.encode()
    return files


def bagit_vectors() -> list[ContentVector]:
    """Bags with wrong digests, a truncated payload, a manifest path out of the bag, a fetch.txt, a codec.

    Ingest takes court packages only, so it refuses a bag as a court package without 说明文件.
    """

    def v(name: str, code: str, build: Callable[[], dict[str, bytes]]) -> ContentVector:
        return ContentVector(name, "bagit", "Problem", code, "description_missing", build)

    sha = digest_bytes(PDF)["sha256"]
    return [
        v(
            "bagit_wrong_digest.zip",
            "digest_mismatch",
            lambda: bag_files(listed_digest=f"{int(sha, 16) ^ 1:064x}"),
        ),
        v("bagit_truncated_payload.zip", "payload_oxum_bytes_mismatch", lambda: bag_files(payload=PDF[:100])),
        v(
            "bagit_manifest_parent_segment.zip",
            "manifest_path_escape",
            lambda: bag_files(extra_manifest_line=f"{sha}  data/../../../etc/passwd\n"),
        ),
        v(
            "bagit_fetch_url.zip",
            "fetch_refused",
            lambda: bag_files(fetch=f"{_NOWHERE}/x.pdf {len(PDF)} data/x.pdf\n"),
        ),
        # regression: rot13 is a codec but not a text encoding; decoding the tag files raised LookupError
        v("bagit_tag_encoding_not_text.zip", "tag_encoding_unsupported", lambda: bag_files(encoding="rot13")),
    ]


# ------------------------------------------------------------------ DA/T 48 EEP
def _eep(mutate: Callable[[bytes], bytes]) -> Callable[[], bytes]:
    return lambda: mutate(EEP_BASE.read_bytes())


def _eep_truncated(xml: bytes) -> bytes:
    match = re.search("(<编码数据[^>]*>)([^<]*)(<)".encode(), xml)
    if match is None:
        raise ValueError("no 编码数据 in the EEP base")
    data = b"".join(match.group(2).split())
    half = data[: len(data) // 2 // 4 * 4]
    return xml[: match.start(2)] + half + xml[match.end(2) :]


def eep_vectors() -> list[ContentVector]:
    """EEPs with a DOCTYPE, past the nesting limit, a traversing or too long file name, bad sizes.

    Ingest takes ZIPs and folders, so it refuses an EEP file as not a ZIP.
    """
    root = "电子文件封装包"

    def v(name: str, error: str, code: str, mutate: Callable[[bytes], bytes]) -> ContentVector:
        return ContentVector(name, "eep", error, code, "not_a_zip", _eep(mutate))

    xxe = f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{_PASSWD}">]>'
    doctype, forbidden = "XmlDoctypeForbiddenError", "xml_doctype_forbidden"
    return [
        v(
            "eep_xxe_file_entity.xml",
            doctype,
            forbidden,
            lambda x: with_text(with_doctype(x, xxe), "封装包创建单位", "&xxe;"),
        ),
        v(
            "eep_external_dtd.xml",
            doctype,
            forbidden,
            lambda x: with_doctype(x, f'<!DOCTYPE {root} SYSTEM "{_NOWHERE}/e.dtd">'),
        ),
        v(
            "eep_billion_laughs.xml",
            doctype,
            forbidden,
            lambda x: with_text(with_doctype(x, _billion_laughs(root)), "封装包创建单位", "&lol9;"),
        ),
        v(
            "eep_doctype_utf7_external_subset.xml",
            doctype,
            forbidden,
            lambda x: utf7_doctype_document(x, f'<!DOCTYPE {root} SYSTEM "{_PASSWD}">'),
        ),
        v(
            "eep_deep_nesting.xml",
            "XmlSyntaxError",
            "xml_syntax_error",
            lambda x: with_text(x, "封装包创建单位", b"<x>" * 5000 + b"</x>" * 5000),
        ),
        v(
            "eep_file_name_parent_segment.xml",
            "EepUnsafeFileName",
            "eep_unsafe_file_name",
            lambda x: with_text(x, "计算机文件名", "../../../etc/cron.d/x"),
        ),
        v("eep_truncated_file.xml", "EepSizeMismatch", "eep_size_mismatch", _eep_truncated),
        v(  # regression: "²".isdigit() is True but int("²") raised ValueError
            "eep_file_size_superscript_digit.xml",
            "EepMissingElement",
            "eep_missing_element",
            lambda x: with_text(x, "计算机文件大小", "6¹³"),
        ),
        v(  # regression: 100 characters but 304 bytes in UTF-8: staging raised OSError (name too long)
            "eep_file_name_too_long_utf8.xml",
            "EepUnsafeFileName",
            "eep_unsafe_file_name",
            lambda x: with_text(x, "计算机文件名", "起" * 100 + ".pdf"),
        ),
    ]


def content_vectors() -> list[ContentVector]:
    """Every content-level vector, in ``expected.csv`` order."""
    return [*court_vectors(), *bagit_vectors(), *eep_vectors()]
