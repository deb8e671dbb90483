"""Human-readable rendering for the CLI (Chinese for archivists, English diagnostics for operators)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from archive.ingest.outcome import IngestOutcome
from standards.problems import Problem

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def emit_json(obj: dict[str, Any]) -> None:
    """Exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def problems_table(problems: Sequence[Problem], title: str) -> Table:
    table = Table(title=title, show_lines=False, expand=False)
    for column in ("检测项", "代码", "位置", "说明"):
        table.add_column(column, overflow="fold")
    for p in problems:
        where = p.path or ""
        if p.line:
            where += f":{p.line}"
        table.add_row(p.item or "—", p.code, where, p.message)
    return table


STATUS_WORDS = {
    "pass": "通过",
    "fail": "不通过",
    "warn": "警告",
    "not_run": "未检测",
    "manual": "人工检测",
    "not_applicable": "不适用",
}


def print_detection_summary(outcome: IngestOutcome) -> None:
    """One line of DA/T 70 GD-stage totals, and the report id to render it from."""
    if outcome.detection is None:
        return
    counts = outcome.detection.counts()
    parts = "，".join(f"{STATUS_WORDS[k]} {v}" for k, v in counts.items() if v)
    out.print(f"  四性检测（归档环节 {len(outcome.detection.results)} 项）：{parts}")
    if outcome.report_id:
        out.print(f"  检测报告 report      : edossier report {outcome.report_id} --format pdf -o 报告.pdf")


def print_outcome(outcome: IngestOutcome) -> None:
    if outcome.status == "rejected":
        out.print(
            f"[bold red]拒收[/]：案号 {outcome.case_number or '（未能识别）'}，共 {len(outcome.errors)} 个问题"
        )
        out.print(problems_table(outcome.errors, "检测问题（DA/T 70-2018）"))
        print_detection_summary(outcome)
        return
    word = "已归档" if outcome.status == "archived" else "此前已归档（内容相同，未重复归档）"
    out.print(f"[bold green]{word}[/]")
    out.print(f"  档案标识 archive id : {outcome.archive_id}")
    out.print(f"  案号 case number     : {outcome.case_number}")
    out.print(f"  清单摘要 manifest    : sha256:{outcome.manifest_sha256}")
    out.print(f"  账本叶子 leaf index  : {outcome.leaf_index}")
    print_detection_summary(outcome)
    if outcome.receipt:
        out.print(f"  树大小 tree size     : {outcome.receipt.tree_size}")
        out.print("  签名检查点 signed checkpoint:")
        out.print(outcome.receipt.checkpoint, markup=False)
