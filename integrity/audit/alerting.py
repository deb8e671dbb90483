"""Alerts of an audit run: one per incident, one per run with outages, one when signing failed.

:func:`alerts_for` decides (pure); :func:`raise_alerts` hands them to the configured channels
(:mod:`integrity.alerts`) and never raises: an audit's verdict is recorded whatever alerting does.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from integrity.alerts.factory import dispatcher_from_settings
from integrity.alerts.model import Alert, AlertKind
from integrity.audit.recorder import evidence_json
from integrity.audit.results import AuditSummary

if TYPE_CHECKING:
    from api.wiring import Installation

log = logging.getLogger(__name__)


def alerts_for(summary: AuditSummary, now: dt.datetime) -> list[Alert]:
    """One alert per incident, one per run with outages, one when the ledger refused to sign."""
    link = f"edossier audit show {summary.run_id}"
    alerts = [
        Alert.create(
            AlertKind.INCIDENT,
            r.key,
            f"审计 {summary.run_id}：{r.check} 检查发现问题 {r.key}",
            now=now,
            evidence_link=link,
            dedupe_key=f"incident:{r.check}:{r.key}",
            details={
                "run_id": summary.run_id,
                "check": r.check,
                "evidence": evidence_json(r.evidence)[:2000],
            },
        )
        for r in summary.incidents
    ]
    if summary.unreachable:
        first = summary.unreachable[0]
        alerts.append(
            Alert.create(
                AlertKind.UNREACHABLE,
                "audit-store",
                f"审计 {summary.run_id}：{len(summary.unreachable)} 项因存储不可达未能核验（不构成篡改，将重试）",
                now=now,
                evidence_link=link,
                details={
                    "run_id": summary.run_id,
                    "first": first.key,
                    "error": str(first.evidence.get("error", "")),
                },
            )
        )
    if summary.ledger_error:
        alerts.append(
            Alert.create(
                AlertKind.SIGNING_FAILURE,
                "audit-ledger",
                f"审计 {summary.run_id}：audit.completed 未能写入账本或签名：{summary.ledger_error}",
                now=now,
                evidence_link=link,
            )
        )
    return alerts


def raise_alerts(inst: Installation, summary: AuditSummary, now: dt.datetime) -> None:
    """Record the run's alerts in the catalog, queue and deliver them through the channels; never raises."""
    alerts = alerts_for(summary, now)
    if not alerts:
        return
    try:
        dispatcher = dispatcher_from_settings(
            inst.settings.alerts, inst.settings.data_dir, sessions=inst.write_sessions
        )
        dispatcher.raise_alerts(alerts)
        dispatcher.flush()
    except Exception:  # alerting is best effort: an audit's verdict is recorded regardless
        log.exception("audit: raising %d alert(s) failed", len(alerts))
