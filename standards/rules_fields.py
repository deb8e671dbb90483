"""Field rules of the court profile for 说明文件 and 目录文件 values.

Mandatory fields (GD-2-4), value domains from the CSV code tables (GD-1-4), plausible dates
(GD-1-5), 案号 (GD-1-7), 档号 shape and agreement (GD-1-7), duplicates (GD-1-8), 顺序号 continuity
(GD-2-6), dossier retention = longest document retention. Pure functions over dataclasses returning
:class:`Problem` lists; file-level rules are in :mod:`standards.rules_package`, per-document
metadata in :mod:`standards.rules_metadata`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence

from standards.archival_code import ArchivalCodeMalformedError, parse_archival_code
from standards.case_number import CaseNumberError, parse_case_number
from standards.codes import case_categories, classifications, file_formats, retention_periods
from standards.court_package import (
    CATALOG_FILE,
    DESCRIPTION_FILE,
    ORIGIN_DIGITISED,
    CatalogEntry,
    DossierDescription,
)
from standards.problems import Problem

FIRST_YEAR = 1949
DIGEST_ALGORITHMS = ("SHA-256", "SM3")


def empty(code_path: str, label: str, path: str, line: int | None) -> Problem:
    return Problem("mandatory_field_empty", f"{label}的必填项“{code_path}”为空", "GD-2-4", path, line)


def domain(field: str, value: str, allowed: Sequence[str], path: str, line: int | None) -> Problem:
    return Problem(
        "value_not_in_domain",
        f"“{field}”的值“{value}”不在值域内（允许：{'、'.join(allowed)}）",
        "GD-1-4",
        path,
        line,
    )


_LAST_ZONE = dt.timezone(dt.timedelta(hours=-12))  # where a calendar day ends last


def after_day(moment: dt.datetime, today: dt.date) -> bool:
    """Whether ``moment`` lies after the end of ``today`` in every time zone (DA/T 70 GD-1-5).

    A time written in +08:00 may already be "tomorrow" by its own calendar while it is still today
    in UTC; only a moment after the last place on Earth has left ``today`` is really in the future.

    >>> after_day(dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), dt.date(2026, 11, 23))
    False
    """
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0), tzinfo=_LAST_ZONE)
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware > end


def implausible(message: str, path: str, line: int | None) -> Problem:
    return Problem("value_implausible", message, "GD-1-5", path, line)


def one_year_after(day: dt.date) -> dt.date:
    """The same calendar day a year later (29 February → 28 February; dt.date.max for year 9999)."""
    if day.year >= dt.MAXYEAR:  # a 结案日期 of 9999-12-31 is implausible, but must not crash the rules
        return dt.date.max
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def check_date(field: str, value: dt.date, *, today: dt.date, path: str, line: int | None) -> list[Problem]:
    """DA/T 70 GD-1-5: not before 1949 and not in the future."""
    if value.year < FIRST_YEAR:
        return [implausible(f"“{field}”为 {value}，早于 {FIRST_YEAR} 年", path, line)]
    if value > today:
        return [implausible(f"“{field}”为 {value}，晚于检测日期 {today}", path, line)]
    return []


def check_description(
    d: DossierDescription, *, today: dt.date, prefix: str, lines: Mapping[str, int]
) -> list[Problem]:
    """Rules on 说明文件 alone."""
    path = prefix + DESCRIPTION_FILE
    out: list[Problem] = []
    for tag, value in (
        ("案号", d.case_number),
        ("法院名称", d.court_name),
        ("案件类型", d.case_type),
        ("承办部门", d.department),
        ("承办人", d.judge),
        ("全宗号", d.fonds_code),
        ("提交人", d.submitter),
        ("保管期限", d.retention),
        ("生成系统", d.environment.software),
        ("操作系统", d.environment.operating_system),
        ("硬件环境", d.environment.hardware),
    ):
        if not value:  # DA/T 70 GD-2-4
            out.append(empty(tag, "说明文件", path, lines.get(tag, lines.get("软硬件环境"))))
    if d.case_type and d.case_type not in case_categories():  # GD-1-4
        out.append(domain("案件类型", d.case_type, sorted(case_categories()), path, lines.get("案件类型")))
    if d.retention and d.retention not in retention_periods():
        out.append(domain("保管期限", d.retention, list(retention_periods()), path, lines.get("保管期限")))
    missing = [a for a in DIGEST_ALGORITHMS if a not in d.digest_algorithms]
    if missing:  # GD-1-1: both digests are the fixity information of every file
        out.append(
            Problem(
                "digest_algorithm_missing",
                f"说明文件的摘要算法缺少 {'、'.join(missing)}",
                "GD-1-1",
                path,
                lines.get("摘要算法"),
            )
        )
    # GD-1-5 plausible values
    if not FIRST_YEAR <= d.year <= today.year:
        out.append(
            implausible(
                f"收案年度为 {d.year}，应在 {FIRST_YEAR}–{today.year} 之间", path, lines.get("收案年度")
            )
        )
    out += check_date("结案日期", d.closing_date, today=today, path=path, line=lines.get("结案日期"))
    if d.closing_date.year < d.year:
        out.append(
            implausible(f"结案日期 {d.closing_date} 早于收案年度 {d.year}", path, lines.get("结案日期"))
        )
    submitted = d.submitted_at.date()
    if after_day(d.submitted_at, today):
        out.append(
            implausible(
                f"提交时间 {d.submitted_at.isoformat()} 晚于检测日期 {today}", path, lines.get("提交时间")
            )
        )
    if submitted < d.closing_date:
        out.append(
            implausible(
                f"提交时间 {d.submitted_at.isoformat()} 早于结案日期 {d.closing_date}",
                path,
                lines.get("提交时间"),
            )
        )
    if d.case_number:  # GD-1-7
        try:
            cn = parse_case_number(d.case_number, today=today)
        except CaseNumberError as exc:
            out.append(
                Problem(
                    exc.code, f"案号“{d.case_number}”不规范：{exc.message}", "GD-1-7", path, lines.get("案号")
                )
            )
        else:
            if cn.year != d.year:
                out.append(
                    implausible(f"收案年度 {d.year} 与案号年度 {cn.year} 不一致", path, lines.get("收案年度"))
                )
            if d.case_type and cn.category != d.case_type:
                out.append(
                    Problem(
                        "case_type_mismatch",
                        f"案件类型“{d.case_type}”与案号类型代字“{cn.type_code}”（{cn.category}）不一致",
                        "GD-1-4",
                        path,
                        lines.get("案件类型"),
                    )
                )
    return out


def check_entries(
    entries: Sequence[CatalogEntry],
    d: DossierDescription | None,
    *,
    catalog_case_number: str,
    today: dt.date,
    prefix: str,
    lines: Mapping[int, int],
) -> list[Problem]:
    """Rules on 目录文件 entries (and their agreement with 说明文件 when it is available)."""
    path = prefix + CATALOG_FILE
    out: list[Problem] = []
    periods, formats = retention_periods(), file_formats()
    for e in entries:
        line = lines.get(e.sequence)
        for tag, value in (
            ("档号", e.archival_code),
            ("题名", e.title),
            ("责任者", e.author),
            ("保管期限", e.retention),
            ("密级", e.classification),
            ("文件路径", e.file_path),
            ("格式信息", e.format),
        ):
            if not value:
                out.append(empty(tag, f"目录文件顺序号 {e.sequence} ", path, line))
        if e.retention and e.retention not in periods:
            out.append(domain("保管期限", e.retention, list(periods), path, line))
        if e.classification and e.classification not in classifications():
            out.append(domain("密级", e.classification, classifications(), path, line))
        fmt = formats.get(e.format)
        if e.format and fmt is None:
            out.append(domain("格式信息", e.format, sorted(formats), path, line))
        ext = e.file_path.rsplit(".", 1)[-1].lower() if "." in e.file_path.rsplit("/", 1)[-1] else ""
        if fmt is not None and ext not in fmt.extensions:  # GD-1-10 electronic attributes agree
            out.append(
                Problem(
                    "format_extension_mismatch",
                    f"顺序号 {e.sequence} 格式信息为 {e.format}，但文件扩展名为"
                    f"“{ext}”（应为 {'、'.join(sorted(fmt.extensions))}）",
                    "GD-1-10",
                    path,
                    line,
                )
            )
        out += check_date("日期", e.date, today=today, path=path, line=line)
        if d is not None and e.date > one_year_after(d.closing_date):
            out.append(
                implausible(
                    f"顺序号 {e.sequence} 的日期 {e.date} 晚于结案日期 {d.closing_date} 一年以上", path, line
                )
            )
        if e.origin == ORIGIN_DIGITISED and not e.paper_location:  # GD-2-4 conditional field
            out.append(
                Problem(
                    "paper_location_missing",
                    f"顺序号 {e.sequence} 为纸质原件数字化，缺少纸质原件存放位置",
                    "GD-2-4",
                    path,
                    line,
                )
            )
        if e.origin != ORIGIN_DIGITISED and e.paper_location is not None:
            out.append(
                Problem(
                    "paper_location_unexpected",
                    f"顺序号 {e.sequence} 为{e.origin}，不应填写纸质原件存放位置",
                    "GD-2-4",
                    path,
                    line,
                )
            )
        if e.archival_code:
            out += _check_archival_code(e, d, path, line)
    out += _check_sequences(entries, path, lines)
    for code, n in Counter(e.archival_code for e in entries if e.archival_code).items():
        if n > 1:  # GD-1-8
            out.append(
                Problem(
                    "archival_code_duplicate",
                    f"档号“{code}”在目录文件中出现 {n} 次",
                    "GD-1-8",
                    path,
                    next(lines.get(e.sequence) for e in entries if e.archival_code == code),
                )
            )
    if d is not None:
        if catalog_case_number != d.case_number:  # GD-1-7
            out.append(
                Problem(
                    "case_number_mismatch",
                    f"目录文件的案号“{catalog_case_number}”与说明文件的案号“{d.case_number}”不一致",
                    "GD-1-7",
                    path,
                    1,
                )
            )
        ranks = [periods[e.retention].rank for e in entries if e.retention in periods]
        if ranks and d.retention in periods and periods[d.retention].rank != max(ranks):
            longest = next(p.code for p in periods.values() if p.rank == max(ranks))
            out.append(
                implausible(
                    f"案卷保管期限应为文件中最长的“{longest}”，说明文件为“{d.retention}”",
                    prefix + DESCRIPTION_FILE,
                    None,
                )
            )
    return out


def _check_archival_code(
    e: CatalogEntry, d: DossierDescription | None, path: str, line: int | None
) -> list[Problem]:
    """DA/T 70 GD-1-7 (DA/T 13-2022): shape, 全宗号 and 保管期限 component agree with the package."""
    try:
        code = parse_archival_code(e.archival_code)
    except ArchivalCodeMalformedError as exc:
        return [
            Problem(exc.code, f"顺序号 {e.sequence} 的档号“{e.archival_code}”不规范", "GD-1-7", path, line)
        ]
    out: list[Problem] = []
    if d is not None and d.fonds_code and code.fonds != d.fonds_code:
        out.append(
            Problem(
                "archival_code_fonds_mismatch",
                f"顺序号 {e.sequence} 档号中的全宗号“{code.fonds}”与说明文件的全宗号“{d.fonds_code}”不一致",
                "GD-1-7",
                path,
                line,
            )
        )
    period = retention_periods().get(e.retention)
    if period is not None and code.retention != period.archival_code:
        out.append(
            Problem(
                "archival_code_retention_mismatch",
                f"顺序号 {e.sequence} 档号中的保管期限代码“{code.retention}”"
                f"与保管期限“{e.retention}”（{period.archival_code}）不一致",
                "GD-1-7",
                path,
                line,
            )
        )
    return out


def _check_sequences(entries: Sequence[CatalogEntry], path: str, lines: Mapping[int, int]) -> list[Problem]:
    """DA/T 70 GD-2-6: 顺序号 start at 1, continuous, no duplicates, in ascending order."""
    seqs = [e.sequence for e in entries]
    out: list[Problem] = []
    for seq, n in sorted(Counter(seqs).items()):
        if n > 1:
            out.append(
                Problem("sequence_duplicate", f"顺序号 {seq} 重复 {n} 次", "GD-2-6", path, lines.get(seq))
            )
    # one problem per run of missing numbers, not per number: a single 顺序号 of 100000000 (refused by
    # the XSD, but these rules also run on schema-invalid catalogues) once made 10^8 problems
    present = sorted(set(seqs))
    expected = 1
    for seq in present:
        if seq > expected:
            missing = f"{expected}" if seq - 1 == expected else f"{expected}–{seq - 1}（共 {seq - expected} 个）"
            out.append(Problem("sequence_gap", f"顺序号不连续：缺少 {missing}", "GD-2-6", path, None))
        expected = max(expected, seq + 1)
    if seqs != sorted(seqs):
        out.append(Problem("sequence_out_of_order", "目录文件中的顺序号未按升序排列", "GD-2-6", path, None))
    return out
