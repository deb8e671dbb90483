"""DA/T 70 usability items about content formats: x-3-3, x-3-4, BC-3-5, x-3-8.

:func:`gather_format_facts` is the I/O shell: it identifies every file of the package by content
(:mod:`integrity.formats.identify`) and parses it completely (:mod:`integrity.formats.parse`),
returning plain facts under the key ``"formats"``. The four checks are pure over those facts, the
court-package validation report (``ctx.validation.entries`` carry the recorded 格式信息 and 页数)
and the policy in ``ctx.config`` (``allowed_formats``, ``long_term_formats``):

* x-3-3 内容数据格式检测 — detected format equals the recorded 格式信息 and is an allowed format
  (GB/T 18894-2016 §8.3, GB/T 33190).
* x-3-4 内容数据的可读性检测 — every content file opens and decodes; a PDF/OFD/TIFF has the 页数
  recorded in 目录文件. (The standard's method is a person opening the file; this is the automated
  part and says so.)
* BC-3-5 内容数据格式长期可用性检测 — detected formats are in the long-term format policy.
* x-3-8 信息包中包含的内容数据格式合规性检测 — no encryption, no non-public compression (ZIP methods
  other than stored/deflate), no non-compliant formats, anywhere in the package.

Each check answers ``not_run`` with a reason when its facts or its policy are missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from archive.settings import Settings
from integrity.checks.model import CheckContext, Evidence, ItemResult, Status
from integrity.formats.identify import identify_file
from integrity.formats.parse import DEFAULT_MAX_IMAGE_PIXELS, parse_file
from integrity.formats.result import PUBLIC_ZIP_METHODS, ZIP_METHODS
from standards.court_package import CATALOG_FILE, DESCRIPTION_FILE, METADATA_FOLDER
from standards.package import StagedFile, StagedPackage
from standards.problems import Problem
from standards.validation import find_prefix

FACTS_KEY = "formats"
MAX_EVIDENCE = 200  # per-file evidence lines in one result; problems are never capped
PAGED_FORMATS = frozenset({"PDF", "OFD", "TIFF"})
# Spellings of 格式信息 seen in catalogues → the format codes of standards/codes/formats.csv
FORMAT_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "MPEG4": "MP4", "MPEG-4": "MP4", "WAVE": "WAV"}
_NO_FACTS = "未收集格式事实（gather_format_facts 未运行或失败），无法检测"


def gather_format_facts(package: StagedPackage, settings: Settings, stage: str) -> dict[str, Any]:
    """Identify and parse every file of ``package``; facts keyed by package path under ``"formats"``.

    Each value holds ``format``, ``mime``, ``detail`` (identification by content) and the parse
    outcome (``ok``, ``pages``, ``encrypted``, ``created``, ``code``, ``error``,
    ``compression_methods``, ``details``). A file that cannot be read from storage is recorded as
    not ``ok`` with code ``io_error`` — an unreadable file is exactly what x-3-4 must report.
    ``stage`` is accepted for the common gatherer signature; every stage gathers the same facts.
    """
    del stage

    def facts_for(f: StagedFile) -> dict[str, Any]:
        local = package.local_path(f.path)
        try:
            found = identify_file(local, limits=settings.limits)
            parsed = parse_file(
                local, found.format, limits=settings.limits, max_image_pixels=DEFAULT_MAX_IMAGE_PIXELS
            )
        except OSError as exc:
            return {
                "format": "UNKNOWN", "mime": "application/octet-stream", "detail": "",
                "ok": False, "pages": None, "encrypted": False, "created": None,
                "code": "io_error", "error": f"文件无法读取：{exc.strerror or exc}",
                "compression_methods": [], "details": {},
            }  # fmt: skip
        return {"format": found.format, "mime": found.mime, "detail": found.detail, **parsed.as_facts()}

    # Decoding images and parsing PDFs happens in C (Pillow, qpdf) and mostly releases the GIL:
    # spread the files over the configured workers, biggest first, each file on its own objects.
    files = sorted(package.files, key=lambda f: -f.size)
    with ThreadPoolExecutor(
        max_workers=max(1, settings.ingest_workers), thread_name_prefix="formats"
    ) as pool:
        found = dict(zip((f.path for f in files), pool.map(facts_for, files), strict=True))
    out = {f.path: found[f.path] for f in package.files}  # package order, whatever finished first
    return {FACTS_KEY: out}


# ------------------------------------------------------------------ helpers (pure)
@dataclass(frozen=True)
class _Target:
    """One content file to judge: its package path and, for a court package, the catalogue entry."""

    path: str
    recorded_format: str | None = None
    recorded_pages: int | None = None


def normalise_format(value: str) -> str:
    """Upper-case code for a recorded 格式信息 (``pdf`` → ``PDF``, ``JPG`` → ``JPEG``)."""
    code = value.strip().upper().lstrip(".")
    return FORMAT_ALIASES.get(code, code)


def _prefix(ctx: CheckContext) -> str:
    return find_prefix(ctx.package) if ctx.package is not None else ""


def _targets(ctx: CheckContext, formats: Mapping[str, Any]) -> list[_Target]:
    """Content files: the 目录文件 entries when validated, else every file but the package XMLs/元数据."""
    prefix = _prefix(ctx)
    entries: Sequence[Any] = getattr(ctx.validation, "entries", None) or ()
    if entries:
        return [_Target(prefix + e.file_path, e.format, e.pages) for e in entries]
    skip = {prefix + DESCRIPTION_FILE, prefix + CATALOG_FILE}
    meta = prefix + METADATA_FOLDER + "/"
    return [_Target(p) for p in sorted(formats) if p not in skip and not p.startswith(meta)]


def _formats(ctx: CheckContext) -> Mapping[str, Any] | None:
    value = ctx.facts.get(FACTS_KEY)
    return value if isinstance(value, Mapping) else None


def _policy(ctx: CheckContext, key: str) -> frozenset[str] | None:
    value = ctx.config.get(key)
    if value is None:
        return None
    return frozenset(normalise_format(v) for v in value)


def _found(fact: Mapping[str, Any]) -> str:
    return f"{fact.get('format')}（{fact.get('detail') or fact.get('mime')}）"


def _result(
    ctx: CheckContext,
    number: str,
    *,
    checked: int,
    ok_summary: str,
    bad_summary: str,
    evidence: list[Evidence],
    problems: list[Problem],
    missing: list[str],
) -> ItemResult:
    """Fail on problems, warn when some content files had no facts, else pass — never pass on nothing."""
    item = ctx.item_id(number)
    if len(evidence) > MAX_EVIDENCE:
        rest = len(evidence) - MAX_EVIDENCE
        evidence = [*evidence[:MAX_EVIDENCE], Evidence("其余文件", "—", f"另有 {rest} 条未列出")]
    missing_problems = [
        Problem("format_not_checked", f"{p} 没有格式检测事实（文件缺失，见 {ctx.item_id('1-11')}）", item, p)
        for p in missing
    ]
    status: Status
    if problems:
        status = "fail"
        summary = bad_summary
    elif missing:
        status = "warn"
        summary = f"已检测 {checked} 个内容文件，另有 {len(missing)} 个文件缺失未检测"
    else:
        status = "pass"
        summary = ok_summary
    return ItemResult(
        item=item,
        status=status,
        summary=summary,
        evidence=tuple(evidence),
        problems=tuple(problems + missing_problems),
    )


def _not_run(ctx: CheckContext, number: str, reason: str) -> ItemResult:
    return ItemResult(item=ctx.item_id(number), status="not_run", summary=f"未检测：{reason}", reason=reason)


def _prepare(
    ctx: CheckContext, number: str, policy_key: str | None
) -> ItemResult | tuple[Mapping[str, Any], list[_Target], frozenset[str] | None]:
    formats = _formats(ctx)
    if formats is None:
        return _not_run(ctx, number, _NO_FACTS)
    policy = None
    if policy_key is not None:
        policy = _policy(ctx, policy_key)
        if policy is None:
            return _not_run(ctx, number, f"未配置 {policy_key}，无法判断格式是否符合要求")
    targets = _targets(ctx, formats)
    if not targets:
        return _not_run(ctx, number, "信息包中没有内容文件")
    return formats, targets, policy


def _names(codes: Iterable[str]) -> str:
    return "、".join(sorted(codes))


# ------------------------------------------------------------------ checks
def check_format_identification(ctx: CheckContext) -> ItemResult:
    """x-3-3 内容数据格式检测: format by content == recorded 格式信息, and in ``allowed_formats``.

    Reads ``ctx.facts["formats"]``, ``ctx.validation.entries`` (when present) and
    ``ctx.config["allowed_formats"]``.
    """
    prepared = _prepare(ctx, "3-3", "allowed_formats")
    if isinstance(prepared, ItemResult):
        return prepared
    formats, targets, allowed = prepared
    assert allowed is not None
    item = ctx.item_id("3-3")
    evidence: list[Evidence] = []
    problems: list[Problem] = []
    missing: list[str] = []
    for t in targets:
        fact = formats.get(t.path)
        if fact is None:
            missing.append(t.path)
            continue
        detected = str(fact.get("format"))
        recorded = normalise_format(t.recorded_format) if t.recorded_format else None
        expected = f"{recorded or '（无记录）'}，且属于允许格式 {_names(allowed)}"
        evidence.append(Evidence(t.path, expected, _found(fact)))
        if recorded is not None and detected != recorded:  # GD-3-3 / GD-1-10: format read from the content
            problems.append(
                Problem(
                    "format_mismatch",
                    f"{t.path} 目录文件记录格式信息为 {recorded}，按内容识别为 {detected}",
                    item,
                    t.path,
                )
            )
        if detected not in allowed:
            problems.append(
                Problem(
                    "format_not_allowed",
                    f"{t.path} 的格式 {detected} 不在允许的归档格式（{_names(allowed)}）内",
                    item,
                    t.path,
                )
            )
    checked = len(targets) - len(missing)
    return _result(
        ctx,
        "3-3",
        checked=checked,
        ok_summary=f"{checked} 个内容文件按内容识别的格式与记录一致，且均为允许的归档格式",
        bad_summary=f"{len({p.path for p in problems})} 个内容文件的格式与记录不符或不在允许的归档格式内",
        evidence=evidence,
        problems=problems,
        missing=missing,
    )


def check_readability(ctx: CheckContext) -> ItemResult:
    """x-3-4 内容数据的可读性检测: every content file opens and decodes; 页数 matches for paged formats.

    Reads ``ctx.facts["formats"]`` and ``ctx.validation.entries`` (for 页数) when present.
    """
    prepared = _prepare(ctx, "3-4", None)
    if isinstance(prepared, ItemResult):
        return prepared
    formats, targets, _ = prepared
    item = ctx.item_id("3-4")
    evidence: list[Evidence] = []
    problems: list[Problem] = []
    missing: list[str] = []
    for t in targets:
        fact = formats.get(t.path)
        if fact is None:
            missing.append(t.path)
            continue
        fmt, pages = str(fact.get("format")), fact.get("pages")
        check_pages = t.recorded_pages is not None and fmt in PAGED_FORMATS
        expected = "可完整解析" + (f"，页数 {t.recorded_pages}" if check_pages else "")
        if not fact.get("ok"):
            evidence.append(Evidence(t.path, expected, f"{fmt} 无法解析：{fact.get('error')}"))
            problems.append(
                Problem(
                    "content_unreadable",
                    f"{t.path}（{fmt}）无法完整解析：{fact.get('error')}（{fact.get('code')}）",
                    item,
                    t.path,
                )
            )
            continue
        found = f"{fmt} 解析成功" + (f"，{pages} 页" if pages is not None else "")
        evidence.append(Evidence(t.path, expected, found))
        if check_pages and pages is not None and pages != t.recorded_pages:
            problems.append(
                Problem(
                    "page_count_mismatch",
                    f"{t.path} 目录文件记录页数为 {t.recorded_pages}，实际 {pages} 页",
                    item,
                    t.path,
                )
            )
    checked = len(targets) - len(missing)
    return _result(
        ctx,
        "3-4",
        checked=checked,
        ok_summary=f"{checked} 个内容文件均可自动完整解析，页数与目录文件一致（标准要求的人工打开核验另行进行）",
        bad_summary=f"{len({p.path for p in problems})} 个内容文件无法完整解析或页数与记录不符",
        evidence=evidence,
        problems=problems,
        missing=missing,
    )


def check_long_term_format(ctx: CheckContext) -> ItemResult:
    """BC-3-5 内容数据格式长期可用性检测: detected formats are in ``ctx.config["long_term_formats"]``.

    Per GB/T 18894-2016, GB/T 33190 and DA/T 47 as the installation's long-term format policy.
    """
    prepared = _prepare(ctx, "3-5", "long_term_formats")
    if isinstance(prepared, ItemResult):
        return prepared
    formats, targets, long_term = prepared
    assert long_term is not None
    item = ctx.item_id("3-5")
    evidence: list[Evidence] = []
    problems: list[Problem] = []
    missing: list[str] = []
    for t in targets:
        fact = formats.get(t.path)
        if fact is None:
            missing.append(t.path)
            continue
        detected = str(fact.get("format"))
        evidence.append(Evidence(t.path, f"长期保存格式 {_names(long_term)}", _found(fact)))
        if detected not in long_term:
            problems.append(
                Problem(
                    "format_not_long_term",
                    f"{t.path} 的格式 {detected} 不在长期保存格式（{_names(long_term)}）内，应转换格式",
                    item,
                    t.path,
                )
            )
    checked = len(targets) - len(missing)
    return _result(
        ctx,
        "3-5",
        checked=checked,
        ok_summary=f"{checked} 个内容文件的格式均属于长期保存格式",
        bad_summary=f"{len(problems)} 个内容文件的格式不属于长期保存格式",
        evidence=evidence,
        problems=problems,
        missing=missing,
    )


def _compliance_problems(
    path: str, fact: Mapping[str, Any], allowed: frozenset[str], item: str
) -> list[Problem]:
    out: list[Problem] = []
    detected = str(fact.get("format"))
    if fact.get("encrypted"):
        out.append(
            Problem("encrypted_content", f"{path}（{detected}）已加密，信息包中不得含加密内容", item, path)
        )
    methods = [int(m) for m in fact.get("compression_methods") or ()]
    odd = [m for m in methods if m not in PUBLIC_ZIP_METHODS]
    if odd:
        names = "、".join(ZIP_METHODS.get(m, f"方法 {m}") for m in odd)
        out.append(
            Problem(
                "non_public_compression",
                f"{path} 内部使用了 {names} 压缩，只允许 stored/deflate（GB/T 33190 OFD 容器）",
                item,
                path,
            )
        )
    if detected not in allowed:
        out.append(
            Problem(
                "format_not_compliant",
                f"{path} 的格式 {detected} 不属于合规格式（{_names(allowed)}）",
                item,
                path,
            )
        )
    return out


def check_package_format_compliance(ctx: CheckContext) -> ItemResult:
    """x-3-8 信息包中包含的内容数据格式合规性检测: no encryption, no non-public compression, no odd formats.

    Judges every file of the package that has facts (content, metadata XML and package XML alike),
    against ``ctx.config["allowed_formats"]``.
    """
    formats = _formats(ctx)
    if formats is None:
        return _not_run(ctx, "3-8", _NO_FACTS)
    allowed = _policy(ctx, "allowed_formats")
    if allowed is None:
        return _not_run(ctx, "3-8", "未配置 allowed_formats，无法判断格式是否合规")
    if not formats:
        return _not_run(ctx, "3-8", "信息包中没有文件")
    item = ctx.item_id("3-8")
    evidence: list[Evidence] = []
    problems: list[Problem] = []
    for path in sorted(formats):
        fact = formats[path]
        found = _compliance_problems(path, fact, allowed, item)
        problems.extend(found)
        if found:
            codes = "；".join(p.code for p in found)
            evidence.append(Evidence(path, "未加密、仅 stored/deflate 压缩、合规格式", codes))
    total = f"{len(formats)} 个文件，{len(problems)} 个问题"
    evidence.insert(0, Evidence("信息包全部文件", "未加密、无非公开压缩、格式合规", total))
    return _result(
        ctx,
        "3-8",
        checked=len(formats),
        ok_summary=f"信息包 {len(formats)} 个文件均未加密、无非公开压缩、格式合规",
        bad_summary=f"信息包中 {len({p.path for p in problems})} 个文件存在加密、非公开压缩或不合规格式",
        evidence=evidence,
        problems=problems,
        missing=[],
    )
