"""The pure parts of the dashboard: formatting, grouping by 卷别, redaction, safe redirects, proofs, the chart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from api.http.ui.auth import safe_next, same_origin
from api.http.ui.chart import bar_chart, nice_ceiling
from api.http.ui.views import (
    DocumentRow,
    counts_line,
    format_bytes,
    group_documents,
    page_window,
    parse_year,
    proof_view,
    redact_secondary,
)
from integrity.merkle.hashes import leaf_hash, node_hash

VECTORS = Path(__file__).parents[3] / "vectors" / "ui"
NEXT = json.loads((VECTORS / "next_targets.json").read_text(encoding="utf-8"))
REDACTION = json.loads((VECTORS / "redaction.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", NEXT["kept"], ids=[c["name"] for c in NEXT["kept"]])
def test_safe_next_keeps_dashboard_paths(case: dict[str, str]) -> None:
    assert safe_next(case["target"]) == case["target"]


@pytest.mark.parametrize("case", NEXT["replaced"], ids=[c["name"] for c in NEXT["replaced"]])
def test_safe_next_replaces_everything_else_with_the_home_page(case: dict[str, str]) -> None:
    assert safe_next(case["target"]) == "/ui"


@pytest.mark.parametrize("case", REDACTION["cases"], ids=[c["name"] for c in REDACTION["cases"]])
def test_redact_secondary_replaces_every_text_naming_the_secondary_volume(case: dict[str, Any]) -> None:
    assert redact_secondary(case["input"]) == case["expected"]


def test_same_origin_allows_no_origin_and_this_host_only() -> None:
    assert same_origin(None, "a:1") and same_origin("http://a:1", "a:1")
    assert not same_origin("http://a:2", "a:1") and not same_origin("http://a:1", None)


def _doc(sequence: int, volume: str, size: int = 10) -> DocumentRow:
    return DocumentRow(
        sequence, f"A-{sequence}", f"t{sequence}", dt.date(2024, 1, 1), volume, 1, "PDF", size, "0" * 64
    )


def test_group_documents_puts_main_volume_first_and_hides_secondary_on_request() -> None:
    docs = [_doc(3, "副卷"), _doc(2, "正卷"), _doc(1, "正卷", 5), _doc(4, "其他")]

    shown = group_documents(docs, show_secondary=True)
    hidden = group_documents(docs, show_secondary=False)

    assert [(g.volume, [d.sequence for d in g.documents]) for g in shown] == [
        ("正卷", [1, 2]),
        ("副卷", [3]),
        ("其他", [4]),
    ]
    assert shown[0].total_bytes == 15
    assert [g.volume for g in hidden] == ["正卷", "其他"]


def test_format_bytes_uses_binary_units() -> None:
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536 * 1024)] == ["0 B", "1023 B", "1.0 KB", "1.5 MB"]
    with pytest.raises(ValueError, match="size"):
        format_bytes(-1)


def test_parse_year_accepts_blank_and_four_digits_only() -> None:
    assert parse_year(None) is None and parse_year(" ") is None and parse_year("2024") == 2024
    for bad in ("24", "20x4", "1800", "１２３４"):
        with pytest.raises(ValueError, match="year"):
            parse_year(bad)


def test_page_window_has_no_previous_on_the_first_page_and_no_next_on_the_last() -> None:
    assert page_window(0, 0, 50) == (None, None)
    assert page_window(120, 0, 50) == (None, 50)
    assert page_window(120, 100, 50) == (50, None)


def test_counts_line_names_every_outcome() -> None:
    assert counts_line({"checked": 3, "ok": 2, "incident": 1}) == "检查 3 · 正常 2 · 完整性事件 1 · 不可达 0"


def _tree() -> tuple[bytes, bytes, bytes]:
    a, b = leaf_hash(b"dossier.archived A"), leaf_hash(b"dossier.archived B")
    return a, b, node_hash(a, b)


def test_proof_view_says_verified_for_a_good_inclusion_proof() -> None:
    a, b, root = _tree()

    view = proof_view(0, 2, a, [b], root, checkpoint_size=2)

    assert view.verified and view.label == "已验证" and view.signed and view.root_hex == root.hex()


def test_proof_view_says_failed_for_a_proof_against_another_root() -> None:
    a, b, _ = _tree()

    view = proof_view(0, 2, a, [b], bytes(32), checkpoint_size=None)

    assert not view.verified and view.label == "验证失败" and not view.signed
    assert view.detail is not None and view.detail.startswith("merkle_root_mismatch")


def test_bar_chart_scales_bars_to_whole_number_ticks() -> None:
    chart = bar_chart([("2025-01", (4, 2, 0)), ("2025-02", (8, 8, 1))], ("结案数", "已归档", "逾期未归档"))

    assert [t.value for t in chart.ticks] == [0, 2, 4, 6, 8]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.value == 8 and tallest.y == chart.ticks[-1].y
    assert [b.height for b in chart.bars if b.value == 0] == [0.0]
    assert all(chart.left <= b.x and b.x + b.width <= chart.right for b in chart.bars)
    assert [label.text for label in chart.labels] == ["2025-01", "2025-02"]


def test_bar_chart_of_nothing_still_has_an_axis() -> None:
    chart = bar_chart([], ("结案数",))
    assert chart.bars == () and [t.value for t in chart.ticks] == [0, 1, 2, 3, 4]


def test_bar_chart_refuses_a_group_with_the_wrong_number_of_values() -> None:
    with pytest.raises(ValueError, match="2025-01"):
        bar_chart([("2025-01", (1,))], ("a", "b"))
    with pytest.raises(ValueError, match="nice_ceiling"):
        nice_ceiling(-1)
