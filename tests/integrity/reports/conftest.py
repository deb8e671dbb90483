"""Detection reports built from the model directly (the engine is tested elsewhere)."""

from __future__ import annotations

import datetime as dt

import pytest

from integrity.checks.model import DetectionReport, Evidence, ItemResult, StageItem
from standards.problems import Problem

HOSTILE = '<script>alert("x")</script> & <b>粗</b> <font name="x">'
WHEN = dt.datetime(2024, 12, 9, 2, 30, tzinfo=dt.UTC)

# (id, name, property, mode) from standards-reference.md §1.2 (DA/T 70-2018 Annex A), GD stage
GD_ITEMS = [
    StageItem("GD-1-1", "1-1", "固化信息有效性检测", "真实性", "GD", "automated", "x:y"),
    StageItem("GD-1-7", "1-7", "档号规范性检测", "真实性", "GD", "automated", "x:y"),
    StageItem("GD-2-1", "2-1", "总件数相符性检测", "完整性", "GD", "automated", "x:y"),
    StageItem("GD-2-7", "2-7", "内容数据完整性检测", "完整性", "GD", "manual", "x:y"),
    StageItem("GD-3-3", "3-3", "内容数据格式检测", "可用性", "GD", "automated", "x:y"),
    StageItem("GD-3-4", "3-4", "内容数据的可读性检测", "可用性", "GD", "manual", "x:y"),
    StageItem("GD-4-2", "4-2", "病毒感染检测", "安全性", "GD", "automated", "x:y"),
    StageItem("GD-4-6", "4-6", "光盘合格性检测", "安全性", "GD", "not_applicable", "x:y"),
]
ITEMS = {i.id: i for i in GD_ITEMS}


def make_results(summary_1_7: str = "档号均符合 DA/T 13 编制规则。") -> tuple[ItemResult, ...]:
    return (
        ItemResult(
            "GD-1-1",
            "pass",
            "12 份文件的 SM3 与 SHA-256 摘要均与目录文件一致。",
            evidence=(Evidence("正卷/001-起诉状.pdf 的 SM3", "3f2a…", "3f2a…"),),
        ),
        ItemResult("GD-1-7", "pass", summary_1_7),
        ItemResult(
            "GD-2-1",
            "fail",
            "说明文件声明 12 件，实际 11 件。",
            evidence=(Evidence("说明文件.xml 总件数", "12", "11"),),
            problems=(
                Problem(
                    "count_mismatch", "总件数：应为 12，实为 11", item="GD-2-1", path="说明文件.xml", line=7
                ),
            ),
        ),
        ItemResult(
            "GD-2-7",
            "manual",
            "需人工核对内容数据是否完整。",
            checklist="逐件打开正卷与副卷文件，核对页数与目录文件所载页数一致，记录于检测登记表。",
        ),
        ItemResult(
            "GD-3-3",
            "warn",
            "1 份文件为 JPEG 格式，非长期保存格式。",
            evidence=(Evidence("副卷/003-送达回证.jpg 格式", "PDF/OFD", "JPEG"),),
        ),
        ItemResult(
            "GD-3-4",
            "manual",
            "需人工确认内容可读。",
            checklist="抽查每卷首尾两件，确认文字清晰可读。",
        ),
        ItemResult("GD-4-2", "not_run", "未检测病毒。", reason="未配置 ClamAV（clamd_address 为空）。"),
        ItemResult("GD-4-6", "not_applicable", "不适用。", reason="在线归档，未使用光盘载体。"),
    )


@pytest.fixture
def report() -> DetectionReport:
    return DetectionReport(
        stage="GD",
        subject="(2024)京0105民初12345号",
        created_at=WHEN,
        results=make_results(),
        tool_version="0.1.0",
        ledger_position=41,
    )


@pytest.fixture
def hostile_report() -> DetectionReport:
    return DetectionReport(
        stage="GD",
        subject=HOSTILE,
        created_at=WHEN,
        results=make_results(summary_1_7=HOSTILE),
        tool_version="0.1.0",
    )
