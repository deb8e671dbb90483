"""``edossier audit overdue [--json] [--max-age-days N] [--alert]``: objects past their fixity deadline.

Register with ``audit_app.command("overdue")(audit_overdue)``. Lists, most overdue first, every
catalogued blob and AIP manifest whose last fixity verification — or, never verified, its storage —
is more than N days old (default ``Settings.audit.fixity_every_days``, 365;
:func:`integrity.audit.coverage.overdue_objects`). With ``--json`` stdout holds one object
``{"overdue": [{key, last_verified, deadline, days_overdue}], "max_age_days": N, "now": "..."}``.
``--alert`` also sends overdue-audit alerts (one per object up to ``alerts.daily_threshold``, one
roll-up for the rest; :mod:`integrity.alerts.overdue`) and adds ``"alerts_sent"`` and the other
delivery counts to the JSON. Overdue objects are a finding and alerting is best effort: exit code 0;
3 when the database cannot be reached.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from api import cli_output as ui
from api.cli_common import DataDirOption, JsonOption, exit_unavailable, open_or_exit, settings_for
from integrity.alerts.overdue import overdue_audit_alerts
from integrity.audit.coverage import OverdueObject
from integrity.audit.overdue_check import AlertDelivery, deliver, read_overdue_audits
from standards.errors import StorageError


def print_delivery(delivery: AlertDelivery, what: str) -> None:
    """Tell people what became of the alerts (``what`` names them, e.g. 归档逾期预警)."""
    if delivery.error:
        ui.err.print(f"{what}发送失败（已记录日志）：{delivery.error}", markup=False)
        return
    ui.out.print(
        f"已发送{what} {len(delivery.sent)} 条（并入日报 {len(delivery.folded)} 条，"
        f"重复未发 {len(delivery.suppressed)} 条，待重试 {len(delivery.pending)} 条）",
        markup=False,
    )


def _print_overdue(found: list[OverdueObject], max_age_days: int) -> None:
    if not found:
        ui.out.print(f"[green]没有逾期未核验的对象[/]（每 {max_age_days} 日至少核验一次固定性）")
        return
    table = Table(title=f"逾期未核验对象（每 {max_age_days} 日至少核验一次固定性）：{len(found)} 个")
    for column in ("对象 object", "最近核验 last verified", "期限 deadline", "超期天数 days"):
        table.add_column(column, overflow="fold")
    for obj in found:
        table.add_row(
            obj.key,
            obj.last_verified.isoformat() if obj.last_verified else "从未 never",
            obj.deadline.isoformat(),
            str(obj.days_overdue),
        )
    ui.out.print(table)


def audit_overdue(
    max_age_days: Annotated[
        int | None,
        typer.Option(
            "--max-age-days",
            min=1,
            max=36500,
            help="Overdue when not verified this many days after the last check or storage "
            "(default: EDOSSIER_AUDIT__FIXITY_EVERY_DAYS, 365).",
        ),
    ] = None,
    alert: Annotated[
        bool, typer.Option("--alert", help="Also send overdue-audit alerts (审计逾期预警).")
    ] = False,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List objects past their fixity deadline (审计逾期), most overdue first; optionally alert."""
    settings = settings_for(data_dir)
    days = settings.audit.fixity_every_days if max_age_days is None else max_age_days
    now = dt.datetime.now(dt.UTC)
    inst = open_or_exit(settings, as_json)
    try:
        found = read_overdue_audits(inst, now, days)
    except StorageError as error:
        exit_unavailable(error, as_json)
    finally:
        inst.close()
    delivery: AlertDelivery | None = None
    if alert:
        alerts = overdue_audit_alerts(
            found, days, now, limit=settings.alerts.daily_threshold, tz=settings.alerts.tz
        )
        delivery = deliver(settings, alerts, now)
    if as_json:
        ui.emit_json(
            {
                "overdue": [o.as_dict() for o in found],
                "max_age_days": days,
                "now": now.isoformat(),
                **(delivery.as_dict() if delivery is not None else {}),
            }
        )
        return
    _print_overdue(found, days)
    if delivery is not None:
        print_delivery(delivery, "审计逾期预警")
