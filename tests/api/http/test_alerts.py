"""Alerts over HTTP: what audits and the overdue check raise is recorded, listed and acknowledged."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from archive.tokens import parse_token
from integrity.audit.overdue_check import raise_overdue_alerts
from tests.api.http.audit_helpers import flip_a_blob, start_audit, wait_run
from tests.api.http.conftest import Served


def _alerts(served: Served, query: str = "", role: str = "auditor") -> dict[str, Any]:
    response = served.client.get(f"/api/v1/alerts{query}", headers=served.headers(role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _acknowledge(served: Served, alert_id: int, role: str = "archivist") -> Any:
    return served.client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=served.headers(role))


def test_an_audit_incident_is_recorded_and_acknowledged_once_by_someone_named(served: Served) -> None:
    assert _alerts(served) == {"total": 0, "limit": 50, "offset": 0, "items": []}
    key = flip_a_blob(served)
    run_id = start_audit(served).json()["run_id"]
    assert wait_run(served, run_id)["status"] == "failed"

    open_ = _alerts(served, "?acknowledged=false&kind=incident")
    [alert] = [a for a in open_["items"] if a["subject"] == key]
    assert alert["severity"] == "critical" and alert["evidence_link"] == f"edossier audit show {run_id}"
    assert alert["details"]["run_id"] == run_id and alert["acknowledged"] is False

    done = _acknowledge(served, alert["id"])
    assert done.status_code == 200, done.text
    archivist = parse_token(served.tokens["archivist"])[0]
    assert done.json()["acknowledged_by"] == archivist and done.json()["acknowledged_at"]
    assert alert["id"] not in {a["id"] for a in _alerts(served, "?acknowledged=false")["items"]}
    assert alert["id"] in {a["id"] for a in _alerts(served, "?acknowledged=true")["items"]}

    again = _acknowledge(served, alert["id"], role="admin")
    assert again.status_code == 409 and again.json()["error"]["code"] == "alert_already_acknowledged"
    assert archivist in again.json()["error"]["message"]


def test_the_overdue_check_records_an_open_alert_once(served: Served) -> None:
    late = [
        {"案号": "（2023）京0105民初77号", "承办部门": "民一庭", "承办人": "李娜", "结案日期": "2023-05-04"}
    ]
    headers = served.headers("submitter") | {"Content-Type": "application/json"}
    served.client.post(
        "/api/v1/cases", content=json.dumps(late, ensure_ascii=False).encode(), headers=headers
    )
    now = dt.datetime.now(dt.UTC)
    raise_overdue_alerts(served.inst, now)
    raise_overdue_alerts(served.inst, now + dt.timedelta(days=2))  # a repeat while the first is open

    recorded = _alerts(served, "?kind=overdue_archiving")
    assert recorded["total"] == 1
    assert "（2023）京0105民初77号" in recorded["items"][0]["subject"]


def test_unknown_alerts_and_bad_filters_answer_in_the_one_error_shape(served: Served) -> None:
    missing = _acknowledge(served, 999)
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "alert_not_found",
        "message": "alert 999: no such alert",
        "status": 404,
    }
    for query in ("?kind=rumour", "?limit=0"):
        bad = served.client.get(f"/api/v1/alerts{query}", headers=served.headers("auditor"))
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "request_invalid"
    assert _acknowledge(served, 0).status_code == 422
