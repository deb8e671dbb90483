"""Parse the court 档号 (DA/T 13-2022 style): ``全宗号-类别·年度-保管期限代码-案卷号-件号``.

Example: ``J001-SS·2024-Y-0012-0001``. Levels are joined by ``-`` and same-level codes by ``·``
(a half-width ``.`` is tolerated there). The parse is deliberately loose: it checks the shape and
returns the parts; whether 全宗号 and 保管期限 agree with the package is left to
:mod:`standards.validation` (DA/T 70 GD-1-7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from standards.errors import BadInput

_PATTERN = re.compile(
    r"^(?P<fonds>[A-Z0-9]{1,8})-(?P<category>[A-Z]{1,4})[·.](?P<year>[0-9]{4})-(?P<retention>[A-Z][0-9]{0,2})"
    r"-(?P<volume>[0-9]{1,6})-(?P<item>[0-9]{1,6})$"
)


class ArchivalCodeMalformedError(BadInput):
    """The 档号 does not have the shape 全宗号-类别·年度-保管期限-案卷号-件号."""

    code = "archival_code_malformed"
    item = "GD-1-7"


@dataclass(frozen=True, slots=True)
class ArchivalCode:
    fonds: str  # 全宗号
    category: str  # 类别号 (门类/案件类别代码)
    year: int  # 年度
    retention: str  # 保管期限代码 (Y 永久, C 长期, D 短期 — retention.csv)
    volume: int  # 案卷号
    item: int  # 件号


def parse_archival_code(text: str) -> ArchivalCode:
    """Split a 档号 into its parts.

    >>> parse_archival_code("J001-SS·2024-Y-0012-0001").item
    1

    Raises:
        ArchivalCodeMalformedError: ``text`` does not match the pattern.
    """
    m = _PATTERN.match(text)
    if m is None:
        raise ArchivalCodeMalformedError(
            f"档号 {text!r}: expected 全宗号-类别·年度-保管期限-案卷号-件号, e.g. J001-SS·2024-Y-0012-0001"
        )
    return ArchivalCode(
        m["fonds"], m["category"], int(m["year"]), m["retention"], int(m["volume"]), int(m["item"])
    )
