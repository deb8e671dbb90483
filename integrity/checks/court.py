"""DA/T 70 checks answered from the court-package validation report and the staged package.

The validator (:func:`standards.validation.validate_court_package`) already collects every package
problem with the DA/T 70 item it belongs to (``problem.item``, always written with the ``GD-``
prefix). Each check here takes the problems of its item number, re-keys them to the stage being
run (``YJ-2-6`` in a transfer report) and fails on any; with none it passes only when the
validation ran and the part it needs (说明文件, 目录文件, 元数据) could actually be read — the
evidence says what was looked at. Missing input answers ``not_run``, never ``pass``.

Facts read (gathered by the runner): ``package_digest_before`` / ``package_digest_after`` (1-14),
``catalog_readable`` and ``catalog_detail`` (3-2), ``duplicate_archives`` (1-8: archive ids that
already hold this 案号). Config read: ``archiving_scope`` (2-9). Format, virus, EEP and environment
items live in their own modules.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from integrity.checks.model import CheckContext, Evidence, ItemResult
from integrity.checks.pdf_signature_facts import apply_pdf_signatures
from integrity.checks.registry import get_item
from standards.court_package import CatalogEntry
from standards.problems import Problem
from standards.validation import ValidationReport, find_prefix

NO_VALIDATION = "未取得法院信息包校验结果（standards.validation），无法检测"
_DIGESTS = (("sha256", "SHA-256"), ("sm3", "SM3"))
_SHOWN = 3  # problem messages quoted in the evidence


# ------------------------------------------------------------------------------------------- helpers
def _report(ctx: CheckContext) -> ValidationReport | None:
    return ctx.validation if isinstance(ctx.validation, ValidationReport) else None


def _number(item: str | None) -> str | None:
    return item.split("-", 1)[1] if item and "-" in item else None


def problems_for(ctx: CheckContext, number: str, report: ValidationReport) -> tuple[Problem, ...]:
    """The validation problems of item ``number``, re-keyed to ``ctx``'s stage (``GD-2-6`` → ``YJ-2-6``)."""
    return tuple(
        dataclasses.replace(p, item=ctx.item_id(number)) for p in report.problems if _number(p.item) == number
    )


def _count_values(obj: object) -> int:
    """How many filled leaf values a parsed record holds (dataclasses and tuples recursively)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sum(_count_values(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    if isinstance(obj, tuple):
        return sum(_count_values(x) for x in obj)
    return 0 if obj is None or obj == "" else 1


def field_count(report: ValidationReport) -> int:
    """Filled fields read from 说明文件, 目录文件 and every 元数据 file."""
    return (
        _count_values(report.description)
        + sum(_count_values(e) for e in report.entries)
        + sum(_count_values(m) for m in report.metadata.values())
    )


def _scope_text(report: ValidationReport) -> str:
    return f"{len(report.metadata)} 份元数据、{len(report.entries)} 条目录记录，共 {field_count(report):,} 个字段"


def _found(problems: Sequence[Problem]) -> str:
    shown = "；".join(p.message for p in problems[:_SHOWN])
    more = f"；另有 {len(problems) - _SHOWN} 个" if len(problems) > _SHOWN else ""
    return f"发现 {len(problems)} 个问题：{shown}{more}"


def _missing_part(report: ValidationReport, needs: str) -> str | None:
    """Why the part of the package this item needs was not read, or None when it was."""
    if "description" in needs and report.description is None:
        return "说明文件未能读取，无法检测"
    if "entries" in needs and not report.entries:
        return "目录文件未能读取或没有文件记录，无法检测"
    if "metadata" in needs and not report.metadata:
        return "没有可读取的元数据文件，无法检测"
    return None


def _name(ctx: CheckContext, number: str) -> str:
    try:
        return get_item(ctx.item_id(number)).name
    except KeyError:
        return f"检测项 {number}"


def _answer(
    ctx: CheckContext,
    number: str,
    *,
    needs: str,
    read: Callable[[ValidationReport], str],
    expected: str,
    passed: Callable[[ValidationReport], str],
    extra: Callable[[CheckContext, ValidationReport], Iterable[Problem]] | None = None,
) -> ItemResult:
    """Fail on the item's problems; otherwise pass only when the needed part was read."""
    item, name = ctx.item_id(number), _name(ctx, number)
    report = _report(ctx)
    if report is None:
        return ItemResult(item, "not_run", f"{name}未执行：没有校验结果", reason=NO_VALIDATION)
    problems = problems_for(ctx, number, report) + tuple(extra(ctx, report) if extra else ())
    if problems:
        return ItemResult(
            item,
            "fail",
            f"{name}不通过：发现 {len(problems)} 个问题",
            evidence=(Evidence(read(report), expected, _found(problems)),),
            problems=problems,
        )
    missing = _missing_part(report, needs)
    if missing is not None:
        return ItemResult(item, "not_run", f"{name}未执行：{missing}", reason=missing)
    return ItemResult(
        item, "pass", f"{name}通过", evidence=(Evidence(read(report), expected, passed(report)),)
    )


def _content_count(report: ValidationReport) -> int:
    return len(report.entries)


# --------------------------------------------------------------------------------- 真实性 (1-x)
def _metadata_digest_problems(ctx: CheckContext, report: ValidationReport) -> list[Problem]:
    """DA/T 70 GD-1-1: each 元数据/固化信息 digest equals the digest of the staged content file."""
    package = ctx.package
    if package is None:
        return []
    prefix = find_prefix(package)
    by_sequence: dict[int, CatalogEntry] = {e.sequence: e for e in report.entries}
    out: list[Problem] = []
    for sequence, meta in sorted(report.metadata.items()):
        entry = by_sequence.get(sequence)
        staged = package.get(prefix + entry.file_path) if entry else None
        if staged is None:
            continue  # a missing file is GD-1-11
        for key, label in _DIGESTS:
            recorded = meta.sha256 if key == "sha256" else meta.sm3
            actual = staged.digests.get(key)
            if actual is not None and not hmac.compare_digest(recorded.lower(), actual.lower()):
                out.append(
                    Problem(
                        "metadata_digest_mismatch",
                        f"元数据“固化信息”记录的 {label} 摘要为 {recorded}，文件“{staged.path}”实际为 {actual}",
                        ctx.item_id("1-1"),
                        prefix + f"元数据/{sequence:04d}.xml",
                    )
                )
    return out


def _digest_scope(ctx: CheckContext) -> Callable[[ValidationReport], str]:
    def read(report: ValidationReport) -> str:
        where = "暂存副本" if ctx.package is not None else "（无暂存包，仅目录文件校验结果）"
        files = f"{_content_count(report)} 个内容文件的 SHA-256、SM3 摘要（{where}）"
        return f"{files}，目录文件与 {len(report.metadata)} 份元数据的固化信息"

    return read


def check_fixity(ctx: CheckContext) -> ItemResult:
    """1-1 固化信息有效性: digests vs 目录文件 and 元数据, and embedded PDF signatures (EEP signatures: 1-16)."""
    result = _answer(
        ctx,
        "1-1",
        needs="entries metadata" if ctx.package is not None else "entries",
        read=_digest_scope(ctx),
        expected="实际摘要与目录文件、元数据记录的摘要逐一相同，说明文件声明摘要算法",
        passed=lambda r: f"{_content_count(r)} 个文件 × 2 种算法的摘要全部一致",
        extra=_metadata_digest_problems,
    )
    # DA/T 70 x-1-1: electronic signatures are fixity information too — verify those embedded in PDFs
    return apply_pdf_signatures(ctx, result, _name(ctx, "1-1"))


def check_field_length(ctx: CheckContext) -> ItemResult:
    """1-2 元数据项数据长度 (XSD maxLength of the court schemas)."""
    return _answer(
        ctx,
        "1-2",
        needs="description entries",
        read=_scope_text,
        expected="每个字段不超过法院信息包 XSD 规定的最大长度",
        passed=lambda r: "没有超长字段",
    )


def check_field_format(ctx: CheckContext) -> ItemResult:
    """1-3 元数据项数据类型、格式 (XSD types: dates, integers, hex digests …)."""
    return _answer(
        ctx,
        "1-3",
        needs="description entries",
        read=_scope_text,
        expected="字段类型与格式符合 XSD（日期、整数、十六进制摘要等）",
        passed=lambda r: "全部符合",
    )


def check_value_domain(ctx: CheckContext) -> ItemResult:
    """1-4 设定值域的元数据项值域符合度 (code tables)."""
    return _answer(
        ctx,
        "1-4",
        needs="description entries",
        read=_scope_text,
        expected="保管期限、密级、卷别、原件形态、案件类型、格式信息取自代码表",
        passed=lambda r: "全部在值域内",
    )


def check_value_plausibility(ctx: CheckContext) -> ItemResult:
    """1-5 元数据项数据值合理性 (dates not in the future, consistent with the 结案日期 …)."""
    return _answer(
        ctx,
        "1-5",
        needs="description entries",
        read=_scope_text,
        expected="日期、页数、年度等取值合理且前后一致",
        passed=lambda r: "未发现不合理取值",
    )


def check_special_characters(ctx: CheckContext) -> ItemResult:
    """1-6 元数据项数据包含特殊字符 (control characters, GB 18030 double-byte non-Hanzi symbols)."""
    return _answer(
        ctx,
        "1-6",
        needs="description entries",
        read=_scope_text,
        expected="不含控制字符及 GB 18030 双字节非汉字符号",
        passed=lambda r: "未发现特殊字符",
    )


def check_archival_code(ctx: CheckContext) -> ItemResult:
    """1-7 档号规范性 (DA/T 13 档号 and the 案号 rules of 法〔2015〕137号)."""
    return _answer(
        ctx,
        "1-7",
        needs="description entries",
        read=lambda r: f"{len(r.entries)} 个档号、说明文件/目录文件/元数据中的案号",
        expected="档号为 全宗号-类别·年度-保管期限-案卷号-件号 且与全宗号、保管期限一致；案号格式规范且前后一致",
        passed=lambda r: "全部规范",
    )


def _duplicate_archive_problems(ctx: CheckContext, report: ValidationReport) -> list[Problem]:
    existing = ctx.facts.get("duplicate_archives")
    if not existing or report.description is None:
        return []
    ids = "、".join(str(x) for x in existing)
    return [
        Problem(
            "case_already_archived",
            f"案号“{report.description.case_number}”已在目标数据库中归档（{ids}），不得重复归档",
            ctx.item_id("1-8"),
        )
    ]


def check_duplicates(ctx: CheckContext) -> ItemResult:
    """1-8 元数据项数据重复性: duplicates in the package, and the 案号 already in the catalog.

    Reads the fact ``duplicate_archives`` (archive ids already holding this 案号; empty = none).
    Without it only the package was checked, so the answer is ``warn``, not ``pass``.
    """
    result = _answer(
        ctx,
        "1-8",
        needs="entries",
        read=lambda r: f"{len(r.entries)} 条目录记录的顺序号、档号；目标数据库中的案号",
        expected="信息包内档号不重复，案号未曾归档",
        passed=lambda r: "信息包内无重复，目标数据库中无同案号档案",
        extra=_duplicate_archive_problems,
    )
    if result.status == "pass" and "duplicate_archives" not in ctx.facts:
        return dataclasses.replace(
            result,
            status="warn",
            summary="元数据项数据重复性检测仅检查了信息包内部：未查询目标数据库中的同案号档案",
            evidence=(
                Evidence(
                    result.evidence[0].read, result.evidence[0].expected, "信息包内无重复；目标数据库未查询"
                ),
            ),
        )
    return result


def check_electronic_attributes(ctx: CheckContext) -> ItemResult:
    """1-10 内容数据的电子属性一致性 (real size and extension vs 计算机文件大小 / 格式信息)."""
    return _answer(
        ctx,
        "1-10",
        needs="entries",
        read=lambda r: f"{_content_count(r)} 个内容文件的实际大小与扩展名",
        expected="与目录文件、元数据记录的计算机文件大小、格式信息一致",
        passed=lambda r: "全部一致",
    )


def check_metadata_content_link(ctx: CheckContext) -> ItemResult:
    """1-11 元数据是否关联内容数据 (every record's 文件路径 exists; metadata matches its entry)."""
    return _answer(
        ctx,
        "1-11",
        needs="entries metadata",
        read=lambda r: f"{len(r.entries)} 条目录记录的文件路径与 {len(r.metadata)} 份元数据",
        expected="每条记录的文件存在于所记路径，元数据文件齐全且与目录记录对应",
        passed=lambda r: "全部关联",
    )


def check_description_and_catalog(ctx: CheckContext) -> ItemResult:
    """1-12 说明文件和目录文件规范性."""
    return _answer(
        ctx,
        "1-12",
        needs="description entries",
        read=lambda r: "说明文件.xml、目录文件.xml",
        expected="两个文件存在且符合法院信息包 XSD（参照 DA/T 93-2022 附录B）",
        passed=lambda r: "存在且规范",
    )


def _file_count(ctx: CheckContext) -> Callable[[ValidationReport], str]:
    n = len(ctx.package.files) if ctx.package is not None else None
    return lambda r: f"信息包中 {n} 个文件的路径" if n is not None else "校验结果中的目录结构问题"


def check_package_structure(ctx: CheckContext) -> ItemResult:
    """1-13 信息包目录结构规范性 (only 说明文件, 目录文件, 正卷/, 副卷/, 元数据/; file names by 顺序号)."""
    return _answer(
        ctx,
        "1-13",
        needs="",
        read=_file_count(ctx),
        expected="只有说明文件、目录文件、正卷/、副卷/、元数据/，内容文件名以四位顺序号开头",
        passed=lambda r: "结构规范",
    )


def check_package_consistency(ctx: CheckContext) -> ItemResult:
    """1-14 信息包一致性: package digest before vs after (facts ``package_digest_before``/``_after``)."""
    item, name = ctx.item_id("1-14"), "信息包一致性检测"
    before, after = ctx.facts.get("package_digest_before"), ctx.facts.get("package_digest_after")
    if not isinstance(before, str) or not isinstance(after, str) or not before or not after:
        reason = "缺少信息包前后摘要（package_digest_before / package_digest_after）"
        return ItemResult(item, "not_run", f"{name}未执行：{reason}", reason=reason)
    evidence = Evidence("发送方计算的信息包摘要与接收后重新计算的摘要", f"sha256:{before}", f"sha256:{after}")
    if hmac.compare_digest(before.lower(), after.lower()):
        return ItemResult(item, "pass", f"{name}通过：前后摘要一致", evidence=(evidence,))
    problem = Problem(
        "package_digest_mismatch",
        f"信息包摘要应为 {before}，实际为 {after}",
        item,
        ctx.package.source_name if ctx.package else None,
    )
    return ItemResult(
        item, "fail", f"{name}不通过：信息包在传递中发生变化", evidence=(evidence,), problems=(problem,)
    )


# --------------------------------------------------------------------------------- 完整性 (2-x)
def check_document_count(ctx: CheckContext) -> ItemResult:
    """2-1 总件数相符性: 说明文件 文件总数 vs 目录文件 entries."""
    return _answer(
        ctx,
        "2-1",
        needs="description entries",
        read=lambda r: "说明文件“文件总数”与目录文件登记件数",
        expected="两者相等",
        passed=lambda r: (
            f"文件总数 {r.description.document_count if r.description else '?'} = 目录登记 {len(r.entries)} 件"
        ),
    )


def check_total_bytes(ctx: CheckContext) -> ItemResult:
    """2-2 总字节数相符性: 说明文件 总字节数 vs the catalogue and the real content files."""
    return _answer(
        ctx,
        "2-2",
        needs="description entries",
        read=lambda r: "说明文件“总字节数”、目录文件登记大小合计、正卷/副卷文件实际大小合计",
        expected="三者相等",
        passed=lambda r: f"总字节数 {r.description.total_bytes if r.description else 0:,} 字节，三者一致",
    )


def _missing_element_problems(ctx: CheckContext, report: ValidationReport) -> list[Problem]:
    """An XSD "missing child element" is also an incomplete metadata record (DA/T 70 GD-2-3)."""
    return [
        dataclasses.replace(p, item=ctx.item_id("2-3"))
        for p in report.problems
        if p.code == "xsd_invalid" and "Missing child element" in p.message
    ]


def check_metadata_elements(ctx: CheckContext) -> ItemResult:
    """2-3 元数据项完整性: no element of the metadata scheme missing."""
    return _answer(
        ctx,
        "2-3",
        needs="metadata",
        read=_scope_text,
        expected="元数据方案（法院信息包 XSD，DA/T 46 子集）要求的元素齐全",
        passed=lambda r: "元素齐全",
        extra=_missing_element_problems,
    )


def check_mandatory_fields(ctx: CheckContext) -> ItemResult:
    """2-4 元数据必填著录项目."""
    return _answer(
        ctx,
        "2-4",
        needs="description entries metadata",
        read=_scope_text,
        expected="必填著录项目不为空（含数字化件的扫描属性、纸质原件存放位置）",
        passed=lambda r: "必填项均已著录",
    )


def check_process_metadata(ctx: CheckContext) -> ItemResult:
    """2-5 过程信息完整性 (业务行为/行为时间/机构人员名称 of every record)."""
    return _answer(
        ctx,
        "2-5",
        needs="metadata",
        read=lambda r: (
            f"{len(r.metadata)} 份元数据的过程信息，共 {sum(len(m.history) for m in r.metadata.values())} 个业务行为"
        ),
        expected="每份文件都有过程信息，每个业务行为的行为、时间、人员齐全",
        passed=lambda r: "过程信息完整",
    )


def check_sequence(ctx: CheckContext) -> ItemResult:
    """2-6 连续性元数据项: 顺序号 1…n, ascending, no gap, no duplicate (DA/T 22)."""
    return _answer(
        ctx,
        "2-6",
        needs="entries",
        read=lambda r: f"目录文件 {len(r.entries)} 条记录的顺序号",
        expected="从 1 开始连续递增，无缺号、无重号",
        passed=lambda r: f"顺序号 1–{len(r.entries)} 连续",
    )


def _scope_problems(ctx: CheckContext, report: ValidationReport, required: Sequence[str]) -> list[Problem]:
    titles = {e.title for e in report.entries}
    return [
        Problem("scope_document_missing", f"按归档范围应归档“{t}”，目录文件中没有该文件", ctx.item_id("2-9"))
        for t in required
        if t not in titles
    ]


def check_archiving_scope(ctx: CheckContext) -> ItemResult:
    """2-9 归档范围: config ``archiving_scope`` maps 案件类型 → 题名 that must be archived."""
    item, name = ctx.item_id("2-9"), "归档范围检测"
    scope = ctx.config.get("archiving_scope")
    if not isinstance(scope, Mapping) or not scope:
        reason = "未配置本单位的归档范围和保管期限表（config archiving_scope）"
        return ItemResult(item, "not_run", f"{name}未执行：{reason}", reason=reason)
    report = _report(ctx)
    if report is None or report.description is None or not report.entries:
        return ItemResult(
            item, "not_run", f"{name}未执行：没有可读的说明文件或目录文件", reason=NO_VALIDATION
        )
    case_type = report.description.case_type
    required: Any = scope.get(case_type)
    if required is None:
        reason = f"归档范围表中没有案件类型“{case_type}”"
        return ItemResult(item, "not_run", f"{name}未执行：{reason}", reason=reason)
    wanted = [str(t) for t in required]
    evidence = Evidence(
        f"案件类型“{case_type}”的归档范围（{len(wanted)} 种文件）与目录文件 {len(report.entries)} 条记录",
        "归档范围内的文件均已归档",
        "",
    )
    problems = _scope_problems(ctx, report, wanted)
    if problems:
        ev = dataclasses.replace(evidence, found=_found(problems))
        return ItemResult(
            item, "fail", f"{name}不通过：缺少 {len(problems)} 种应归档文件", (ev,), tuple(problems)
        )
    ev = dataclasses.replace(evidence, found="均已归档")
    return ItemResult(item, "pass", f"{name}通过", (ev,))


def check_package_content_count(ctx: CheckContext) -> ItemResult:
    """2-11 信息包内容数据完整性: 文件总数 vs the files really in 正卷/副卷."""
    return _answer(
        ctx,
        "2-11",
        needs="description",
        read=lambda r: "说明文件“文件总数”与正卷/副卷中实际文件数",
        expected="两者相等",
        passed=lambda r: (
            f"实际 {r.description.document_count if r.description else '?'} 个文件，与文件总数相符"
        ),
    )


# --------------------------------------------------------------------------------- 可用性 (3-x)
def _xml_read(report: ValidationReport) -> int:
    return (report.description is not None) + bool(report.entries) + len(report.metadata)


def check_metadata_readable(ctx: CheckContext) -> ItemResult:
    """3-1 信息包中元数据的可读性: every XML file parses (hardened parser, no DTD)."""
    result = _answer(
        ctx,
        "3-1",
        needs="",
        read=lambda r: f"说明文件、目录文件与元数据 XML，已读取 {_xml_read(r)} 个",
        expected="均为格式良好的 XML，可被解析",
        passed=lambda r: f"{_xml_read(r)} 个 XML 文件均可读取",
    )
    report = _report(ctx)
    if result.status == "pass" and report is not None and _xml_read(report) == 0:
        reason = "没有读取到任何元数据 XML 文件"
        return ItemResult(
            result.item, "not_run", f"信息包中元数据的可读性检测未执行：{reason}", reason=reason
        )
    return result


def check_catalog_accessible(ctx: CheckContext) -> ItemResult:
    """3-2 目标数据库中的元数据可访问性 (fact ``catalog_readable``, optional ``catalog_detail``)."""
    item, name = ctx.item_id("3-2"), "目标数据库中的元数据可访问性检测"
    readable = ctx.facts.get("catalog_readable")
    if not isinstance(readable, bool):
        reason = "未连接目标数据库（缺少 catalog_readable）"
        return ItemResult(item, "not_run", f"{name}未执行：{reason}", reason=reason)
    detail = str(ctx.facts.get("catalog_detail", ""))
    evidence = Evidence(
        "连接目标数据库并读取元数据表", "可连接、记录可读", detail or ("可读" if readable else "不可读")
    )
    if readable:
        return ItemResult(item, "pass", f"{name}通过", (evidence,))
    problem = Problem("catalog_unreadable", f"目标数据库不可访问：{detail or '读取失败'}", item)
    return ItemResult(item, "fail", f"{name}不通过", (evidence,), (problem,))


# --------------------------------------------------------------------------------- 安全性 (4-x)
def check_extra_files(ctx: CheckContext) -> ItemResult:
    """4-3 载体中多余文件: every file of the package is accounted for by the 目录文件."""
    return _answer(
        ctx,
        "4-3",
        needs="entries",
        read=_file_count(ctx),
        expected="只有说明文件、目录文件及目录文件登记的内容文件和元数据文件",
        passed=lambda r: "没有多余文件",
    )
