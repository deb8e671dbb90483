"""What the route × role matrix needs to call a route: ids for its path, a body, the status of success."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from integrity.alerts.catalog import record_alerts
from integrity.alerts.model import Alert
from integrity.audit.runner import run_audit
from integrity.reports.store import find_latest_report
from tests.api.http.conftest import Served

#: Request bodies by (method, path template).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/audits"): {"json": {"scope": "fixity"}},
    ("POST", "/api/v1/cases"): {
        "content": json.dumps(
            [
                {
                    "案号": "（2024）京0105民初1001号",
                    "承办部门": "民一庭",
                    "承办人": "张伟",
                    "结案日期": "2024-03-15",
                }
            ],
            ensure_ascii=False,
        ).encode(),
        "headers": {"Content-Type": "application/json"},
    },
}
#: Success statuses other than 200 for GET and 202 for POST.
SUCCESS: dict[tuple[str, str], int] = {
    ("POST", "/api/v1/cases"): 200,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): 200,
}


def path_ids(served: Served, path: str) -> dict[str, str]:
    """Values for the ``{run_id}``, ``{report_id}`` and ``{alert_id}`` of ``path`` (made only when named)."""
    ids: dict[str, str] = {}
    if "{run_id}" in path:
        ids["run_id"] = run_audit(served.inst, "fixity", alert=False).run_id
    if "{report_id}" in path:
        with served.inst.sessions() as session:
            stored = find_latest_report(session, served.archive_id)
        assert stored is not None
        ids["report_id"] = stored.id
    if "{alert_id}" in path:
        alert = Alert.create("overdue_audit", "blobs/x", "审计逾期", now=dt.datetime.now(dt.UTC))
        with served.inst.write_sessions() as session, session.begin():
            ids["alert_id"] = str(record_alerts(session, [alert])[0])
    return ids
