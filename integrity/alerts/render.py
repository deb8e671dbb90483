"""Text (Chinese) and JSON bodies of alerts and daily summaries, shared by every channel.

Pure formatting: no channel, clock or settings. Each alert's text ends with its evidence link;
a summary lists, per kind, the top subjects with theirs.
"""

from __future__ import annotations

from typing import Any

from integrity.alerts.dedupe import Summary
from integrity.alerts.model import KIND_TITLES, SEVERITY_TITLES, Alert

PRODUCT = "edossier"
PAYLOAD_VERSION = 1


def alert_subject_line(alert: Alert) -> str:
    """E-mail subject of one alert, e.g. ``[edossier][严重] 完整性事件：A-1``."""
    return f"[{PRODUCT}][{SEVERITY_TITLES[alert.severity]}] {alert.title}：{alert.subject}"


def alert_text(alert: Alert) -> str:
    """The body of one alert for people."""
    lines = [
        f"告警类型：{KIND_TITLES[alert.kind]}（{alert.kind.value}）",
        f"严重程度：{SEVERITY_TITLES[alert.severity]}",
        f"对象：{alert.subject}",
        f"时间：{alert.created_at.isoformat(timespec='seconds')}",
        f"说明：{alert.message}",
    ]
    lines.extend(f"{key}：{value}" for key, value in sorted(alert.details.items()))
    lines += [f"证据：{alert.evidence_link}", f"去重键：{alert.dedupe_key}"]
    return "\n".join(lines) + "\n"


def summary_subject_line(summary: Summary) -> str:
    """E-mail subject of a daily summary, e.g. ``[edossier] 告警日报 2025-01-02：共 3 条``."""
    worst = f"（最高：{SEVERITY_TITLES[summary.worst]}）" if summary.worst else ""
    return f"[{PRODUCT}] 告警日报 {summary.day.isoformat()}：共 {summary.total} 条{worst}"


def summary_text(summary: Summary) -> str:
    """The body of a daily summary for people: counts per kind and the top subjects with evidence."""
    lines = [f"{summary.day.isoformat()} 告警汇总：共 {summary.total} 条。"]
    if summary.folded:
        lines.append(f"其中 {summary.folded} 条超过当日单独发送上限，仅在本日报中汇总。")
    if summary.suppressed:
        lines.append(f"另有 {summary.suppressed} 条重复告警在去重时间窗内未再发送。")
    if summary.is_empty:
        lines.append("当日无告警。")
    for kind in summary.by_kind:
        lines.append("")
        lines.append(
            f"{kind.title}（{kind.kind.value}）：{kind.count} 条，最高 {SEVERITY_TITLES[kind.worst]}"
        )
        for s in kind.top_subjects:
            lines.append(f"  - {s.subject}：{s.count} 次；证据：{s.evidence_link}")
        shown = sum(s.count for s in kind.top_subjects)
        if shown < kind.count:
            lines.append(f"  - 其他对象：{kind.count - shown} 次")
    return "\n".join(lines) + "\n"


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The JSON document a webhook receives for one alert."""
    return {"source": PRODUCT, "version": PAYLOAD_VERSION, "type": "alert", "alert": alert.to_json()}


def summary_payload(summary: Summary) -> dict[str, Any]:
    """The JSON document a webhook receives for a daily summary."""
    return {
        "source": PRODUCT,
        "version": PAYLOAD_VERSION,
        "type": "daily_summary",
        "summary": summary.to_json(),
    }
