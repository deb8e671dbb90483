"""The value every format parser returns: :class:`ParseResult`, and small date helpers they share.

Kept apart from the parsers so :mod:`integrity.formats.parse`, :mod:`integrity.formats.media` and
:mod:`integrity.formats.container` can all build it without importing each other.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# ZIP compression methods (APPNOTE.TXT §4.4.5); only 0 and 8 are allowed inside an OFD (DA/T 70 x-3-8).
ZIP_METHODS: dict[int, str] = {
    0: "stored",
    8: "deflate",
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstd",
    95: "xz",
    98: "ppmd",
    99: "aes",
}
PUBLIC_ZIP_METHODS = frozenset({0, 8})


@dataclass(frozen=True)
class ParseResult:
    """The outcome of really opening and parsing one file.

    ``ok`` means the file decoded completely; ``code`` is a stable English failure identifier and
    ``error`` a Chinese sentence when it did not. ``pages`` is the page count for paged formats
    (PDF, OFD, TIFF frames; 1 for a single image); ``encrypted`` flags PDF encryption or encrypted
    ZIP entries; ``created`` the creation time the format itself records (ISO 8601 when it could be
    read as a date, else the raw value); ``compression_methods`` the ZIP methods found in a container;
    ``details`` small extra facts for reports (version, size, duration…).
    """

    ok: bool
    format: str
    pages: int | None = None
    encrypted: bool = False
    created: str | None = None
    error: str | None = None
    code: str | None = None
    compression_methods: tuple[int, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.ok and not (self.error and self.code):
            raise ValueError(f"{self.format}: a failed parse must carry a code and an error")

    def as_facts(self) -> dict[str, Any]:
        """Plain JSON-able facts for :class:`integrity.checks.model.CheckContext`."""
        return {
            "ok": self.ok,
            "parsed_format": self.format,
            "pages": self.pages,
            "encrypted": self.encrypted,
            "created": self.created,
            "error": self.error,
            "code": self.code,
            "compression_methods": list(self.compression_methods),
            "details": dict(self.details),
        }


def failed(fmt: str, code: str, error: str, **kwargs: Any) -> ParseResult:
    """A failed :class:`ParseResult` (``kwargs`` as for the class)."""
    return ParseResult(ok=False, format=fmt, code=code, error=error, **kwargs)


_PDF_DATE = re.compile(
    r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+\-])(\d{2})?'?(\d{2})?'?)?"
)


def pdf_date_to_iso(value: str) -> str | None:
    """ISO 8601 for a PDF date string ``D:YYYYMMDDHHmmSSOHH'mm'`` (ISO 32000-1 §7.9.4), else None."""
    m = _PDF_DATE.match(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, sign, tz_h, tz_m = m.groups()
    try:
        naive = dt.datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    if sign is None:
        return naive.isoformat()
    if sign in "Zz":
        return naive.replace(tzinfo=dt.UTC).isoformat()
    offset = dt.timedelta(hours=int(tz_h or 0), minutes=int(tz_m or 0))
    if offset >= dt.timedelta(hours=24):
        return naive.isoformat()
    tz = dt.timezone(offset if sign == "+" else -offset)
    return naive.replace(tzinfo=tz).isoformat()


def exif_date_to_iso(value: str) -> str | None:
    """ISO 8601 for an EXIF/TIFF date ``YYYY:MM:DD HH:MM:SS`` (EXIF 2.32 §4.6.5), else None."""
    try:
        return dt.datetime.strptime(value.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def rfc1123_to_iso(value: str) -> str | None:
    """ISO 8601 for an RFC 1123 date (the PNG ``Creation Time`` convention, PNG 3rd ed. §11.3.4), else None."""
    try:
        return email.utils.parsedate_to_datetime(value.strip()).isoformat()
    except (TypeError, ValueError, IndexError):
        return None
