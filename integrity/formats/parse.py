"""Open and really parse a file of an identified format (DA/T 70 x-3-4 内容数据的可读性检测).

:func:`parse_file` dispatches on the format :mod:`integrity.formats.identify` found:

* PDF — pikepdf (qpdf) opens it, ``check_pdf_syntax()`` lists damage, every page's content stream is
  decoded and parsed; a PDF that needs a password is ``encrypted`` and not readable, one with only an
  owner password opens but is still ``encrypted`` (x-3-8 refuses it). Creation time: ``/CreationDate``.
* JPEG/TIFF/PNG — Pillow decodes every frame with ``load()`` (``verify()`` misses truncated files);
  images above ``max_image_pixels`` are refused before decoding (decompression bombs). Creation
  time: EXIF DateTimeOriginal, else TIFF/EXIF DateTime, else PNG ``Creation Time`` text.
* OFD and ZIP — :mod:`integrity.formats.container`; WAV, MP3, MP4 — :mod:`integrity.formats.media`.
* XML — the hardened parser of :mod:`standards.xml_parser`.

Whether a result is acceptable for a stage is decided by :mod:`integrity.checks.formats`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pikepdf
from PIL import Image, UnidentifiedImageError

from integrity.formats.container import parse_container
from integrity.formats.media import parse_mp3, parse_mp4, parse_wav
from integrity.formats.result import (
    ParseResult,
    exif_date_to_iso,
    failed,
    pdf_date_to_iso,
    rfc1123_to_iso,
)
from standards.errors import BadInput
from standards.limits import Limits
from standards.xml_parser import parse_xml

# Refuse images with more pixels than this before decoding (≈ an A0 scan at 600 dpi is 700 M;
# court scans are A4/A3 at ≤ 600 dpi, i.e. < 70 M). Callers may pass their own limit.
DEFAULT_MAX_IMAGE_PIXELS = 300_000_000
MAX_IMAGE_FRAMES = 10_000
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132


def parse_pdf(path: Path) -> ParseResult:
    """Open the PDF with pikepdf, check its syntax and decode every page's content.

    Raises:
        OSError: the file cannot be opened.
    """
    try:
        with pikepdf.open(path) as pdf:
            encrypted = bool(pdf.is_encrypted)
            pages = len(pdf.pages)
            version = str(pdf.pdf_version)
            raw_date = pdf.docinfo.get("/CreationDate") if pdf.trailer.get("/Info") is not None else None
            created_raw = str(raw_date) if raw_date is not None else None
            damage = [str(p) for p in pdf.check_pdf_syntax()]
            for page in pdf.pages:
                pikepdf.parse_content_stream(page)
    except pikepdf.PasswordError:
        return failed("PDF", "pdf_password", "PDF 已加密，需要口令才能打开", encrypted=True)
    except (pikepdf.PdfError, ValueError, RuntimeError) as exc:
        message = str(exc).replace(str(path), path.name)  # no staging paths in reports
        return failed("PDF", "pdf_damaged", f"PDF 无法解析：{message}")
    created = (pdf_date_to_iso(created_raw) or created_raw) if created_raw else None
    details = {"pdf_version": version}
    if damage:
        details["damage"] = "；".join(damage[:3])
        return failed(
            "PDF",
            "pdf_damaged",
            f"PDF 结构有 {len(damage)} 处错误：{damage[0]}",
            pages=pages,
            encrypted=encrypted,
            created=created,
            details=details,
        )
    return ParseResult(
        ok=True, format="PDF", pages=pages, encrypted=encrypted, created=created, details=details
    )


def _image_created(img: Image.Image) -> str | None:
    exif = img.getexif()
    raw: Any = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if raw is None:
        text = getattr(img, "text", None)
        raw = text.get("Creation Time") if isinstance(text, dict) else None
    if raw is None:
        return None
    value = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    return exif_date_to_iso(value) or rfc1123_to_iso(value) or value


def parse_image(path: Path, fmt: str, *, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> ParseResult:
    """Decode every frame of a JPEG, TIFF or PNG with Pillow ``load()``.

    Raises:
        OSError: the file cannot be opened (decoding errors become a failed result).
    """
    try:
        with Image.open(path, formats=[fmt]) as img:
            width, height = img.size
            details = {"size": f"{width}x{height}", "mode": str(img.mode)}
            if width * height > max_pixels:
                return failed(
                    fmt,
                    "image_too_large",
                    f"图像 {width}×{height} 像素超过上限 {max_pixels}",
                    details=details,
                )
            created = _image_created(img)
            frames = int(getattr(img, "n_frames", 1))
            if frames > MAX_IMAGE_FRAMES:
                return failed(
                    fmt, "image_too_many_frames", f"图像有 {frames} 帧，超过上限 {MAX_IMAGE_FRAMES}"
                )
            for index in range(frames):
                img.seek(index)
                w, h = img.size
                if w * h > max_pixels:
                    return failed(
                        fmt, "image_too_large", f"第 {index + 1} 帧 {w}×{h} 像素超过上限 {max_pixels}"
                    )
                img.load()
    except Image.DecompressionBombError as exc:
        return failed(fmt, "image_too_large", f"图像像素数超过 Pillow 上限：{exc}")
    except UnidentifiedImageError as exc:
        return failed(fmt, "image_unreadable", f"Pillow 不能识别为 {fmt}：{exc}")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated or corrupt data as OSError ("image file is truncated") or SyntaxError
        return failed(fmt, "image_damaged", f"图像解码失败：{exc}")
    return ParseResult(ok=True, format=fmt, pages=frames, created=created, details=details)


def parse_xml_file(path: Path, *, limits: Limits) -> ParseResult:
    """Parse an XML file with the hardened parser (no DTD, size limit).

    Raises:
        OSError: the file cannot be read.
    """
    size = path.stat().st_size
    if size > limits.xml_bytes:
        return failed("XML", "xml_too_large", f"XML 文件 {size} 字节，超过上限 {limits.xml_bytes}")
    try:
        root = parse_xml(path.read_bytes(), limits=limits, path=path.name)
    except BadInput as exc:
        return failed("XML", exc.code, f"XML 无法解析：{exc.message}")
    return ParseResult(ok=True, format="XML", details={"root": str(root.tag)})


def parse_file(
    path: Path, fmt: str, *, limits: Limits, max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> ParseResult:
    """Parse the file at ``path`` as ``fmt`` (a code from :func:`integrity.formats.identify.identify_file`).

    Raises:
        OSError: the file cannot be opened or read (a storage fault, not a property of the file).
    """
    if fmt == "PDF":
        return parse_pdf(path)
    if fmt in ("JPEG", "TIFF", "PNG"):
        return parse_image(path, fmt, max_pixels=max_image_pixels)
    if fmt in ("OFD", "ZIP"):
        return parse_container(path, limits=limits, ofd=fmt == "OFD")
    if fmt == "WAV":
        return parse_wav(path)
    if fmt == "MP3":
        return parse_mp3(path)
    if fmt in ("MP4", "MOV"):
        result = parse_mp4(path)
        return result if fmt == "MP4" else dataclasses.replace(result, format=fmt)
    if fmt == "XML":
        return parse_xml_file(path, limits=limits)
    return failed(fmt, "format_unknown", "未能识别文件格式，无法解析")
