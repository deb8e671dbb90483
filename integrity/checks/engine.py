"""The stage engine: gather facts once, then run every stage-item's check in registry order.

Two steps, kept apart so checks stay pure (DA/T 70 clause 5: every item of the stage is answered):

* :func:`gather_facts` is the I/O shell. It calls each gatherer of :data:`GATHERERS`
  (``gather_x_facts(package, settings, stage) -> dict``) by dotted path and merges their facts. A
  gatherer that is not installed yet or raises is skipped with a logged warning and recorded under
  the fact ``gatherer_errors`` (``{path: "ExceptionName: message"}``); the checks that needed its
  facts then answer ``not_run`` themselves.
* :func:`run_stage` runs the checks over a :class:`CheckContext`. A check that cannot be imported,
  raises, or returns something other than an :class:`ItemResult` for its own item becomes
  ``not_run`` with the reason named — never ``pass``.

Building the context (staging, validation, catalog lookups, package digests) is the runner's job;
:func:`config_from_settings` gives the policy part of it from :class:`archive.settings.Settings`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from archive.settings import Settings
from integrity.checks.model import STAGES, CheckContext, DetectionReport, ItemResult, Stage, StageItem
from integrity.checks.registry import items_for, load_callable, load_check
from integrity.reports.header import installed_version
from standards.package import StagedPackage

log = logging.getLogger(__name__)

GATHERERS: tuple[str, ...] = (
    "integrity.checks.formats:gather_format_facts",
    "integrity.checks.antivirus:gather_antivirus_facts",
    "integrity.checks.eep:gather_eep_facts",
    "integrity.checks.environment:gather_environment_facts",
    "integrity.checks.pdf_signature_facts:gather_pdf_signature_facts",
)
DEFAULT_MIN_READ_MB_PER_S = 20.0  # DA/T 70 GD-4-4: the "normal" read speed we compare with


def config_from_settings(settings: Settings) -> dict[str, Any]:
    """The detection policy of ``settings`` as the ``config`` mapping checks read."""
    return {
        "allowed_formats": tuple(settings.allowed_formats),
        "long_term_formats": tuple(settings.long_term_formats),
        "archive_fonds_codes": tuple(settings.archive_fonds_codes),
        "archive_class_codes": tuple(settings.archive_class_codes),
        "antivirus_max_signature_age_days": settings.antivirus_max_signature_age_days,
        "min_read_mb_per_s": DEFAULT_MIN_READ_MB_PER_S,
    }


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def gather_facts(
    package: StagedPackage, settings: Settings, stage: str, *, gatherers: Sequence[str] = GATHERERS
) -> dict[str, Any]:
    """Call every gatherer and merge the facts; failures go to the fact ``gatherer_errors``.

    Later gatherers do not overwrite a key an earlier one set (the clash is logged).

    Raises:
        ValueError: ``stage`` is not one of GD, YJ, BC.
    """
    if stage not in STAGES:
        raise ValueError(f"stage: expected one of {STAGES}, found {stage!r}")
    facts: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for path in gatherers:
        try:
            gatherer = load_callable(path)
            produced = gatherer(package, settings, stage)
            if not isinstance(produced, Mapping):
                raise TypeError(f"expected a dict of facts, found {type(produced).__name__}")
        except Exception as exc:  # one broken gatherer must not stop the others
            log.warning("fact gatherer %s skipped: %s", path, _error_text(exc))
            errors[path] = _error_text(exc)
            continue
        for key, value in produced.items():
            if key in facts:
                log.warning("fact %r from %s ignored: already set by an earlier gatherer", key, path)
                continue
            facts[str(key)] = value
    facts["gatherer_errors"] = errors
    return facts


def _not_run(item: StageItem, reason: str) -> ItemResult:
    return ItemResult(item=item.id, status="not_run", summary=f"{item.name}未执行", reason=reason)


def run_item(item: StageItem, ctx: CheckContext) -> ItemResult:
    """Answer one stage-item; any failure of the check itself becomes ``not_run`` with the reason."""
    try:
        check = load_check(item.check)
    except Exception as exc:  # missing module/function, or a module that fails while importing
        return _not_run(item, f"检测功能尚未提供（{item.check}）：{_error_text(exc)}")
    try:
        result: object = check(ctx)
    except Exception as exc:  # a crashing check is reported, never passed
        log.exception("check %s for %s raised", item.check, item.id)
        return _not_run(item, f"检测功能执行出错（{item.check}）：{_error_text(exc)}")
    if not isinstance(result, ItemResult):
        return _not_run(item, f"检测功能返回了 {type(result).__name__}，不是 ItemResult（{item.check}）")
    if result.item != item.id:
        return _not_run(item, f"检测功能返回的检测项为 {result.item}，应为 {item.id}（{item.check}）")
    return result


def _subject(ctx: CheckContext) -> str:
    description = getattr(ctx.validation, "description", None)
    case_number = getattr(description, "case_number", None)
    if isinstance(case_number, str) and case_number:
        return case_number
    return ctx.package.source_name if ctx.package is not None else ""


def run_stage(
    stage: str,
    ctx: CheckContext | Mapping[str, Any],
    items: Sequence[StageItem] | None = None,
    *,
    subject: str | None = None,
    tool_version: str = "",
) -> DetectionReport:
    """Run every stage-item of ``stage`` (or ``items``) in order and return the report.

    ``ctx`` is a :class:`CheckContext` (its stage is replaced by ``stage``) or the keyword
    arguments of one without ``stage``. ``subject`` defaults to the 案号 of the validation report,
    else the package's source name.

    Raises:
        ValueError: ``stage`` is not GD, YJ or BC, or an item of ``items`` belongs to another stage.
        TypeError: ``ctx`` as a mapping has arguments :class:`CheckContext` does not take.
    """
    if stage not in STAGES:
        raise ValueError(f"stage: expected one of {STAGES}, found {stage!r}")
    the_stage: Stage = stage
    if isinstance(ctx, CheckContext):
        context = dataclasses.replace(ctx, stage=the_stage)
    else:
        context = CheckContext(stage=the_stage, **dict(ctx))
    chosen = tuple(items) if items is not None else items_for(the_stage)
    for item in chosen:
        if item.stage != the_stage:
            raise ValueError(f"items: expected stage-items of {the_stage}, found {item.id}")
    results = tuple(run_item(item, context) for item in chosen)
    return DetectionReport(
        stage=the_stage,
        subject=subject if subject is not None else _subject(context),
        created_at=context.now,
        results=results,
        tool_version=tool_version,
    )


def detect(
    stage: Stage,
    package: StagedPackage,
    validation: Any,
    settings: Settings,
    *,
    now: dt.datetime,
    known: Mapping[str, Any],
) -> DetectionReport:
    """Gather the facts for ``package`` (``known`` — what only the caller knows — wins), then run every
    stage-item of ``stage``: what ingest (GD), transfer (YJ) and the audit (BC) each do on a package."""
    facts = dict(gather_facts(package, settings, stage))
    facts.update(known)
    ctx = CheckContext(
        stage=stage,
        now=now,
        package=package,
        validation=validation,
        facts=facts,
        config=config_from_settings(settings),
        files_root=package.root,
    )
    return run_stage(stage, ctx, tool_version=installed_version())
