"""HTML form of a detection report: every item row, totals, checklist, and escaping of hostile text."""

from __future__ import annotations

import re

from integrity.checks.model import DetectionReport
from integrity.reports.header import header_for
from integrity.reports.render_html import render_html

from .conftest import HOSTILE, ITEMS


def test_html_has_one_row_per_item_with_name_property_and_status(report: DetectionReport) -> None:
    page = render_html(report, header_for(report, case_number=report.subject), ITEMS)
    for result in report.results:
        row = re.search(rf'<tr id="item-{result.item}">(.*?)</tr>', page, re.S)
        assert row is not None, result.item
        assert ITEMS[result.item].name in row.group(1)
        assert ITEMS[result.item].property in row.group(1)
    assert '<td class="status-fail">不通过</td>' in page
    assert "检测结论</th><td><strong>不通过</strong>" in page


def test_html_lists_manual_items_and_signature_lines(report: DetectionReport) -> None:
    page = render_html(report, items=ITEMS)
    assert "逐件打开正卷与副卷文件" in page
    assert "抽查每卷首尾两件" in page
    for word in ("检测人", "审核人", "日期"):
        assert word in page


def test_html_totals_count_each_property(report: DetectionReport) -> None:
    page = render_html(report, items=ITEMS)
    # 真实性: 2 pass, nothing else → total 2; 安全性: 1 not_run + 1 not_applicable → total 2
    assert (
        "<tr><td>真实性</td><td>2</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>2</td></tr>"
        in page
    )
    assert (
        "<tr><td>安全性</td><td>0</td><td>0</td><td>0</td><td>1</td><td>0</td><td>1</td><td>2</td></tr>"
        in page
    )


def test_html_escapes_hostile_text_from_the_package(hostile_report: DetectionReport) -> None:
    page = render_html(hostile_report, items=ITEMS)
    assert "<script>" not in page
    assert "<b>粗</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;粗&lt;/b&gt;" in page
    assert HOSTILE not in page


def test_html_without_registry_entries_still_shows_every_item_and_its_property(
    report: DetectionReport,
) -> None:
    page = render_html(report, items={})
    for result in report.results:
        assert f'<tr id="item-{result.item}">' in page
    assert "<td>GD-4-2</td><td></td><td>安全性</td>" in page


def test_html_takes_item_names_from_the_dat70_registry_by_default(report: DetectionReport) -> None:
    page = render_html(report)
    assert "<td>GD-4-2</td><td>病毒感染检测</td><td>安全性</td>" in page
    assert "<td>GD-1-1</td><td>固化信息有效性检测</td><td>真实性</td>" in page
