"""A grouped bar chart as plain geometry for an inline SVG (pure; no chart library, nothing from a CDN).

:func:`bar_chart` turns groups (one per month) of series values (结案数, 已归档, 逾期未归档 …) into
rectangles, axis ticks and labels in a fixed ``viewBox``; the template only prints them. Colours
are CSS classes (``series-0`` …), so the page's one stylesheet decides them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 12, 16, 40
TICKS = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: int
    title: str  # the tooltip: "2025-03 结案数 4"


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]
    series: tuple[str, ...]
    baseline: float
    left: float
    right: float


def nice_ceiling(value: int, ticks: int = TICKS) -> int:
    """The smallest multiple of ``ticks`` (at least ``ticks``) not below ``value``, so ticks are whole numbers.

    >>> nice_ceiling(0), nice_ceiling(5), nice_ceiling(8)
    (4, 8, 8)
    """
    if value < 0 or ticks < 1:
        raise ValueError(f"nice_ceiling: expected value >= 0 and ticks >= 1; found {value}, {ticks}")
    return max(ticks, -(-value // ticks) * ticks)


def bar_chart(
    groups: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[str],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Bars for each group (left to right) and each series within it, scaled to the largest value.

    Raises:
        ValueError: a group has not one value per series, or a value is negative (caller bugs).
    """
    for label, values in groups:
        if len(values) != len(series) or any(v < 0 for v in values):
            raise ValueError(f"bar_chart group {label!r}: expected {len(series)} values >= 0; found {values}")
    top = nice_ceiling(max((v for _, values in groups for v in values), default=0))
    left, right = float(MARGIN_LEFT), float(width - MARGIN_RIGHT)
    baseline, plot_height = float(height - MARGIN_BOTTOM), float(height - MARGIN_BOTTOM - MARGIN_TOP)
    slot = (right - left) / max(1, len(groups))
    bar_width = slot * 0.8 / max(1, len(series))
    bars, labels = [], []
    for g, (label, values) in enumerate(groups):
        start = left + g * slot + slot * 0.1
        labels.append(Label(round(left + g * slot + slot / 2, 2), label))
        for s, value in enumerate(values):
            h = plot_height * value / top
            bars.append(
                Bar(
                    x=round(start + s * bar_width, 2),
                    y=round(baseline - h, 2),
                    width=round(bar_width * 0.92, 2),
                    height=round(h, 2),
                    value=value,
                    series=s,
                    title=f"{label} {series[s]} {value}",
                )
            )
    ticks = tuple(
        Tick(round(baseline - plot_height * i / TICKS, 2), top * i // TICKS) for i in range(TICKS + 1)
    )
    return Chart(width, height, tuple(bars), ticks, tuple(labels), tuple(series), baseline, left, right)
