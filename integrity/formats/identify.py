"""Identify a file's format by its content (magic bytes and structure), never by its extension.

DA/T 70 x-3-3 (内容数据格式检测) and x-1-10 need the format a file *is*, not the one its name claims.
:func:`identify_head` is pure over the first bytes of a file; :func:`identify_file` reads those bytes
and, for a ZIP, looks inside for the OFD entry file (GB/T 33190-2016 §7: ``OFD.xml`` at the root with
the ``http://www.ofdspec.org/2016`` namespace) — libmagic and PRONOM see an OFD as a plain ZIP.
Opening and really parsing a file is left to :mod:`integrity.formats.parse`.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from standards.errors import BadInput
from standards.limits import Limits
from standards.xml_parser import parse_xml

HEAD_BYTES = 4096  # enough for every signature below (PDF may start anywhere in the first 1024 bytes)
OFD_NAMESPACE = "http://www.ofdspec.org/2016"
OFD_ENTRY = "OFD.xml"

# Format codes are those of standards/codes/formats.csv, plus ZIP and UNKNOWN.
MIMES: dict[str, str] = {
    "PDF": "application/pdf",
    "OFD": "application/ofd",
    "JPEG": "image/jpeg",
    "TIFF": "image/tiff",
    "PNG": "image/png",
    "WAV": "audio/wav",
    "MP3": "audio/mpeg",
    "MP4": "video/mp4",
    "MOV": "video/quicktime",
    "XML": "application/xml",
    "ZIP": "application/zip",
    "UNKNOWN": "application/octet-stream",
}

# MPEG audio frame header tables (ISO/IEC 11172-3 §2.4.2.3, ISO/IEC 13818-3): Layer III only.
_MP3_BITRATES = {
    "1": (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0),
    "2": (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0),
}
_MP3_RATES = {"1": (44100, 48000, 32000), "2": (22050, 24000, 16000), "2.5": (11025, 12000, 8000)}
_MP3_VERSIONS = {0b11: "1", 0b10: "2", 0b00: "2.5"}


@dataclass(frozen=True)
class Identified:
    """What a file is: a format code (``PDF``, ``OFD``, … ``ZIP``, ``UNKNOWN``), its MIME type and a detail."""

    format: str
    mime: str
    detail: str


@dataclass(frozen=True)
class Mp3Frame:
    """One MPEG audio Layer III frame header."""

    version: str  # "1" | "2" | "2.5"
    bitrate_kbps: int
    sample_rate: int
    padding: bool
    length: int  # bytes of the whole frame, header included

    @property
    def samples(self) -> int:
        return 1152 if self.version == "1" else 576


def _make(fmt: str, detail: str) -> Identified:
    return Identified(fmt, MIMES[fmt], detail)


def parse_mp3_header(header: bytes) -> Mp3Frame | None:
    """Decode a 4-byte MPEG audio Layer III frame header; None when it is not a valid one."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = _MP3_VERSIONS.get((header[1] >> 3) & 0b11)
    layer = (header[1] >> 1) & 0b11
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0b11
    if version is None or layer != 0b01 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved version, not Layer III, free/bad bitrate or reserved sample rate
    bitrate = _MP3_BITRATES["1" if version == "1" else "2"][bitrate_index]
    rate = _MP3_RATES[version][rate_index]
    padding = bool(header[2] & 0b10)
    coefficient = 144 if version == "1" else 72
    length = coefficient * bitrate * 1000 // rate + (1 if padding else 0)
    return Mp3Frame(version, bitrate, rate, padding, length)


def id3v2_size(head: bytes) -> int | None:
    """Total bytes of a leading ID3v2 tag (header + body + footer), or None when there is none."""
    if len(head) < 10 or head[:3] != b"ID3" or any(b & 0x80 for b in head[6:10]):
        return None
    body = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]  # syncsafe integer
    footer = 10 if head[5] & 0x10 else 0
    return 10 + body + footer


def _strip_bom(head: bytes) -> tuple[bytes, str]:
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :], enc
    return head, "utf-8"


def _looks_like_xml(head: bytes) -> str | None:
    """The detail for an XML document start (declaration, or a root element), else None."""
    body, enc = _strip_bom(head)
    try:
        text = body[:512].decode(enc, errors="strict").lstrip()
    except UnicodeDecodeError:
        text = body[:511].decode(enc, errors="ignore").lstrip()
    if text.startswith("<?xml"):
        return f"XML 声明（{enc}）"
    if text.startswith("<") and len(text) > 1 and (text[1].isalpha() or text[1] in "_:"):
        if text[1:5].lower() == "html":
            return None
        return f"无 XML 声明的根元素（{enc}）"
    return None


def identify_head(head: bytes) -> Identified:
    """Identify by signature from the first bytes of a file (pure; a ZIP is reported as ``ZIP``).

    Signatures: PDF ``%PDF-`` in the first 1024 bytes (ISO 32000-1 §7.5.2, as readers accept it),
    PNG 8-byte signature, JPEG SOI+marker, TIFF ``II*\\0``/``MM\\0*`` (and BigTIFF), RIFF/WAVE, ISO BMFF
    ``ftyp`` box, MP3 ID3v2 tag or a valid Layer III frame header, ZIP local/empty header, XML.
    """
    pdf_at = head.find(b"%PDF-", 0, 1024 + 5)
    if pdf_at >= 0:
        version = head[pdf_at + 5 : pdf_at + 8].decode("ascii", errors="replace")
        return _make("PDF", f"%PDF-{version}" + (f"（前有 {pdf_at} 字节）" if pdf_at else ""))
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _make("PNG", "PNG 签名")
    if head.startswith(b"\xff\xd8\xff"):
        return _make("JPEG", "JPEG SOI 标记")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _make("TIFF", "TIFF " + ("小端" if head[:2] == b"II" else "大端"))
    if head[:4] in (b"II+\x00", b"MM\x00+"):
        return _make("TIFF", "BigTIFF")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _make("WAV", "RIFF/WAVE")
    if head[4:8] == b"ftyp" and len(head) >= 12:
        brand = head[8:12].decode("latin-1")
        if brand == "qt  ":
            return _make("MOV", "QuickTime（ftyp qt）")
        return _make("MP4", f"ISO BMFF，主品牌 {brand.strip()}")
    if id3v2_size(head) is not None:
        return _make("MP3", "ID3v2 标签")
    frame = parse_mp3_header(head[:4])
    if frame is not None:
        return _make(
            "MP3", f"MPEG-{frame.version} Layer III 帧，{frame.bitrate_kbps} kbit/s，{frame.sample_rate} Hz"
        )
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _make("ZIP", "ZIP 本地文件头")
    xml_detail = _looks_like_xml(head)
    if xml_detail is not None:
        return _make("XML", xml_detail)
    return _make("UNKNOWN", f"未识别的内容，开头字节 {head[:8].hex() or '（空文件）'}")


def ofd_root_name(names: list[str]) -> str | None:
    """The OFD entry file among ZIP member names (``OFD.xml`` at the root, GB/T 33190 §7.2), or None."""
    return OFD_ENTRY if OFD_ENTRY in names else None


def is_ofd_main(root: etree._Element) -> bool:
    """True when ``root`` is the ``ofd:OFD`` element of the OFD namespace (GB/T 33190 §7.4)."""
    return bool(root.tag == f"{{{OFD_NAMESPACE}}}OFD")


def _zip_is_ofd(path: Path, limits: Limits) -> tuple[bool, str]:
    """Look inside a ZIP for a well-formed ``OFD.xml`` in the OFD namespace; read at most xml_bytes."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.file_count:
                return False, f"ZIP 含 {len(infos)} 个条目，超过上限 {limits.file_count}"
            entry = ofd_root_name([i.filename for i in infos])
            if entry is None:
                return False, "ZIP 根目录没有 OFD.xml"
            info = zf.getinfo(entry)
            if info.flag_bits & 0x1:
                return True, "ZIP 根目录有 OFD.xml，但该条目已加密，无法确认命名空间"
            if info.file_size > limits.xml_bytes:
                return False, f"OFD.xml 声明 {info.file_size} 字节，超过 XML 上限 {limits.xml_bytes}"
            with zf.open(info) as fh:
                data = fh.read(limits.xml_bytes + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        return False, f"ZIP 结构无法读取：{exc}"
    try:
        root = parse_xml(data, limits=limits, path=OFD_ENTRY)
    except BadInput as exc:
        return False, f"OFD.xml 无法解析：{exc}"
    if not is_ofd_main(root):
        return False, f"OFD.xml 根元素为 {root.tag}，应为 {{{OFD_NAMESPACE}}}OFD"
    return True, "ZIP 容器，根目录 OFD.xml 属 OFD 命名空间"


def identify_file(path: Path, *, limits: Limits) -> Identified:
    """Identify the file at ``path`` by content; a ZIP is opened read-only to tell OFD from plain ZIP.

    Raises:
        OSError: the file cannot be opened or read.
    """
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    found = identify_head(head)
    if found.format != "ZIP":
        return found
    is_ofd, detail = _zip_is_ofd(path, limits)
    return _make("OFD" if is_ofd else "ZIP", detail)
