"""The closed-cases feed and the overdue list over HTTP, with the case-ledger vectors of tests/vectors/cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import archive.cases
from archive.catalog.models import ClosedCase
from tests.api.http.conftest import Served

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "cases"
#: Vectors whose verdict depends on the date they are judged on (the feed is judged on today).
DATE_DEPENDENT = {"closing-date-in-future.csv"}
MEDIA = {".csv": "text/csv", ".json": "application/json"}


def _expected(kind: str) -> dict[str, dict[str, Any]]:
    value: dict[str, dict[str, Any]] = json.loads((VECTORS / kind / "expected.json").read_text("utf-8"))
    return value


def feed(served: Served, body: bytes, media: str | None, role: str = "submitter") -> Any:
    headers = served.headers(role) | ({"Content-Type": media} if media else {})
    return served.client.post("/api/v1/cases", content=body, headers=headers)


def _vector(kind: str, name: str) -> tuple[bytes, str]:
    path = VECTORS / kind / name
    return path.read_bytes(), MEDIA[path.suffix]


def _stored(served: Served) -> list[str]:
    with served.inst.sessions() as session:
        return sorted(c.case_number for c in session.query(ClosedCase))


@pytest.mark.parametrize("name", sorted(_expected("valid")))
def test_valid_feed_is_imported_whole(served: Served, name: str) -> None:
    want = _expected("valid")[name]
    response = feed(served, *_vector("valid", name))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "imported" and body["encoding"] == want["encoding"]
    assert sorted(body["added"]) == sorted(want["case_numbers"]) == _stored(served)
    again = feed(served, *_vector("valid", name)).json()
    assert again["added"] == [] and sorted(again["unchanged"]) == sorted(want["case_numbers"])


@pytest.mark.parametrize("name", sorted(set(_expected("invalid")) - DATE_DEPENDENT))
def test_invalid_feed_imports_nothing_and_names_each_problem(served: Served, name: str) -> None:
    want = _expected("invalid")[name]
    response = feed(served, *_vector("invalid", name))
    error = response.json()["error"]
    assert response.status_code == error["status"] == 400, response.text
    if "error" in want:  # the body as a whole cannot be read
        assert error["code"] == getattr(archive.cases, want["error"]).code
    else:
        assert error["code"] == "cases_rejected"
        for _row, _field, code in want["problems"]:
            assert f"[{code}]" in error["message"]
        assert f"第 {want['problems'][0][0]} " in error["message"]
    assert _stored(served) == []


def test_without_a_media_type_the_feed_is_read_by_its_content(served: Served) -> None:
    body, _ = _vector("valid", "object-with-cases.json")
    assert feed(served, body, None).json()["status"] == "imported"


def test_the_archived_dossier_is_linked_and_an_old_unarchived_case_is_overdue(served: Served) -> None:
    closing = served.client.get(
        f"/api/v1/dossiers/{served.archive_id}", headers=served.headers("auditor")
    ).json()["closing_date"]
    cases = [
        {"案号": served.case_number, "承办部门": "民事审判第一庭", "承办人": "张伟", "结案日期": closing},
        {
            "案号": "（2023）京0105民初77号",
            "承办部门": "民事审判第一庭",
            "承办人": "李娜",
            "结案日期": "2023-05-04",
        },
    ]
    imported = feed(served, json.dumps(cases, ensure_ascii=False).encode(), "application/json", "archivist")
    assert imported.json()["linked"] == [served.case_number]

    overdue = served.client.get("/api/v1/cases/overdue", headers=served.headers("auditor")).json()
    assert overdue["deadline_days"] == served.inst.settings.archiving_deadline_days
    assert [c["case_number"] for c in overdue["overdue"]] == ["（2023）京0105民初77号"] and overdue[
        "total"
    ] == 1
    assert overdue["overdue"][0]["days_overdue"] > 0
    early = served.client.get(
        "/api/v1/cases/overdue?today=2023-08-02&days=90", headers=served.headers("archivist")
    ).json()
    assert early == {"today": "2023-08-02", "deadline_days": 90, "total": 0, "overdue": []}


def test_a_feed_over_the_limit_is_413(served: Served) -> None:
    small = served.inst.settings.limits.model_copy(update={"xml_bytes": 100})
    served.inst.settings = served.inst.settings.model_copy(update={"limits": small})
    body, media = _vector("valid", "chinese-headers-utf8-bom.csv")
    declared = feed(served, body, media)
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "cases_file_too_large"
    streamed = feed(served, iter([body[:80], body[80:]]), media)  # type: ignore[arg-type]
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "cases_file_too_large"
    assert _stored(served) == []
