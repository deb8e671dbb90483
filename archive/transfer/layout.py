"""The layout of a transfer package (DA/T 93-2022 Annex B) and the record 档号 that names its folders (pure).

One record (档案, here one court dossier — 案卷级整理) per 目录文件 entry, stored as::

    <DIR>/说明文件.xml                       TransferDescription
    <DIR>/目录文件.xml                       TransferEntry per record
    <DIR>/<全宗号>/<分类号>/<档号>/           the record's court package (说明文件, 目录文件, 正卷/, 副卷/, 元数据/)
    <DIR>/<全宗号>/<分类号>/<档号>/<档号>.eep.xml   the record as a signed DA/T 48 EEP (原始型)
    <DIR>/其他/移交清单.xml                  ListEntry per record
    <DIR>/其他/固化信息.json                 SHA-256 and SM3 of every other file (not the 登记表 files)
    <DIR>/其他/签名证书.pem                  the sender's EEP certificate
    <DIR>/其他/登记表.xml (+ .sig)           the signed 电子档案移交接收登记表 (Annex C)

The record 档号 is the dossier level of the court 档号 (DA/T 13-2022): ``全宗号-类别·年度-保管期限-案卷号``,
taken from its documents' 档号 (``…-件号``) and the dossier's 保管期限. Its grammar allows only
ASCII capitals, digits, ``-`` and ``·``, so a 档号 can never name a path outside its folder.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archive.transfer.errors import RecordCodeMalformed, RecordCodeUnusable
from standards.archival_code import ArchivalCodeMalformedError, parse_archival_code
from standards.codes import classifications, retention_periods

DESCRIPTION = "说明文件.xml"
CATALOG = "目录文件.xml"
OTHER = "其他"
TRANSFER_LIST = f"{OTHER}/移交清单.xml"
FIXITY = f"{OTHER}/固化信息.json"
CERTIFICATE = f"{OTHER}/签名证书.pem"
REGISTER = f"{OTHER}/登记表.xml"
REGISTER_SIGNATURE = f"{OTHER}/登记表.xml.sig"
EEP_SUFFIX = ".eep.xml"
ENCODING = "UTF-8"
ARRANGEMENT = "案卷级"  # one record = one court dossier
CARRIER_CODE = "DK"  # DA/T 93 Annex D: hard disk (a folder that goes online or onto a disk)

#: Files at fixed places; every other file must belong to a record folder (DA/T 70 YJ-4-3).
FIXED_FILES = (DESCRIPTION, CATALOG, TRANSFER_LIST, FIXITY, CERTIFICATE, REGISTER, REGISTER_SIGNATURE)
#: Files 固化信息.json does not cover: itself, and the 登记表 written after it (its signature covers it).
NOT_IN_FIXITY = frozenset({FIXITY, REGISTER, REGISTER_SIGNATURE})

_RECORD_CODE = re.compile(
    r"^(?P<fonds>[A-Z0-9]{1,8})-(?P<category>[A-Z]{1,4})·(?P<year>[0-9]{4})"
    r"-(?P<retention>[A-Z][0-9]{0,2})-(?P<volume>[0-9]{1,6})$"
)


@dataclass(frozen=True, slots=True)
class RecordCode:
    """A record (案卷) 档号 and its parts; ``text`` is the 档号 exactly as written."""

    text: str
    fonds: str  # 全宗号
    category: str  # 分类号 (类别号)
    year: int
    retention: str  # 保管期限代码
    volume: str  # 案卷号, as written

    @property
    def folder(self) -> str:
        """``<全宗号>/<分类号>/<档号>`` (DA/T 93 Annex B: fonds → class → record)."""
        return f"{self.fonds}/{self.category}/{self.text}"

    @property
    def eep_name(self) -> str:
        return f"{self.text}{EEP_SUFFIX}"

    @property
    def eep_path(self) -> str:
        return f"{self.folder}/{self.eep_name}"


def looks_like_traversal(text: str) -> bool:
    """Whether ``text`` would name another place if used as a path segment (``..``, ``/``, ``\\``, NUL)."""
    return ".." in text or any(c in text for c in "/\\\x00") or text.startswith("~")


def parse_record_code(text: str) -> RecordCode:
    """Read a record 档号.

    >>> parse_record_code("J123-SS·2024-Y-0012").folder
    'J123/SS/J123-SS·2024-Y-0012'

    Raises:
        RecordCodeMalformed: not ``全宗号-类别·年度-保管期限-案卷号`` (a path separator or ``..`` included).
    """
    m = _RECORD_CODE.fullmatch(text)
    if m is None:
        hint = "; it contains a path separator or '..' (path traversal)" if looks_like_traversal(text) else ""
        raise RecordCodeMalformed(
            f"档号 {text[:80]!r}: expected 全宗号-类别·年度-保管期限-案卷号, e.g. J123-SS·2024-Y-0012{hint}"
        )
    return RecordCode(text, m["fonds"], m["category"], int(m["year"]), m["retention"], m["volume"])


def record_code_for(codes: Iterable[str], retention: str) -> RecordCode:
    """The record 档号 of a dossier from its documents' 档号 and the dossier's 保管期限.

    The documents' common 全宗号-类别·年度 and 案卷号 (as written), with the 保管期限 code of the dossier
    (the longest of its documents; they may carry shorter ones in their own 档号, DA/T 70 GD-1-7).

    >>> record_code_for(["J123-SS·2024-Y-0012-0001", "J123-SS·2024-D-0012-0002"], "永久").text
    'J123-SS·2024-Y-0012'

    Raises:
        RecordCodeUnusable: no documents, a 档号 that does not parse, or documents that disagree.
        ValueError: ``retention`` is not a 保管期限 of the court scheme (a caller bug).
    """
    periods = retention_periods()
    if retention not in periods:
        raise ValueError(f"retention: expected one of {sorted(periods)}, found {retention!r}")
    keys: set[tuple[str, str, int, str]] = set()
    for text in codes:
        try:
            code = parse_archival_code(text)
        except ArchivalCodeMalformedError:
            raise RecordCodeUnusable(
                f"document 档号 {text[:80]!r}: expected 全宗号-类别·年度-保管期限-案卷号-件号"
            ) from None
        volume = text.split("-")[3]  # the 案卷号 as written (zero padding kept)
        keys.add((code.fonds, code.category, code.year, volume))
    if not keys:
        raise RecordCodeUnusable("documents: expected at least one 档号, found none")
    if len(keys) != 1:
        found = ", ".join(f"{f}-{c}·{y}-…-{v}" for f, c, y, v in sorted(keys))
        raise RecordCodeUnusable(f"documents: expected one 全宗号-类别·年度 and 案卷号, found {found}")
    fonds, category, year, volume = keys.pop()
    return parse_record_code(f"{fonds}-{category}·{year}-{periods[retention].archival_code}-{volume}")


def most_restricted(values: Iterable[str]) -> str:
    """The most restricted 密级 among ``values`` (code table order); unknown codes rank last."""
    order = {code: rank for rank, code in enumerate(classifications())}
    found = list(values)
    if not found:
        raise ValueError("most_restricted: expected at least one 密级")
    return max(found, key=lambda v: order.get(v, len(order)))


def carrier_label(codes: Sequence[RecordCode], sequence: int = 1) -> str:
    """The carrier label of DA/T 93 Annex D: ``全宗号-门类代码-起止年度-载体顺序号``.

    >>> carrier_label([parse_record_code("J123-SS·2023-Y-0001"), parse_record_code("J123-SS·2024-C-0002")])
    'J123-SS-2023/2024-DK1'
    """
    if not codes:
        raise ValueError("carrier_label: expected at least one record")
    fonds = "·".join(sorted({c.fonds for c in codes}))
    categories = "·".join(sorted({c.category for c in codes}))
    years = [c.year for c in codes]
    return f"{fonds}-{categories}-{min(years)}/{max(years)}-{CARRIER_CODE}{sequence}"


def gigabytes(total_bytes: int) -> str:
    """Data volume in GB (10^9 bytes) with 3 decimals, as DA/T 93 Annex C asks.

    >>> gigabytes(1_234_567_890), gigabytes(1)
    ('1.235', '0.000')
    """
    thousandths = (total_bytes * 1000 + 500_000_000) // 1_000_000_000
    return f"{thousandths // 1000}.{thousandths % 1000:03d}"


def local_date(moment: dt.datetime) -> dt.date:
    """The date of ``moment`` in China Standard Time (UTC+8), as written on forms."""
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
