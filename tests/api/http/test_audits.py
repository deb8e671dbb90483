"""Audits over HTTP on SQLite: start a run (202, a background thread checks it), its results, coverage."""

from __future__ import annotations

from tests.api.http.audit_helpers import flip_a_blob, start_audit, wait_run
from tests.api.http.conftest import Served


def test_a_fixity_run_started_over_http_passes_and_lists_its_results(served: Served) -> None:
    response = start_audit(served)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "running" and accepted["queued"] is False and accepted["batches"] >= 1
    assert response.headers["location"] == accepted["status_url"] == f"/api/v1/audits/{accepted['run_id']}"

    done = wait_run(served, accepted["run_id"])
    assert done["status"] == "passed" and done["scope"] == "fixity"
    assert done["leaf_index"] is not None and len(done["results_sha256"]) == 64
    assert done["batches"]["total"] == accepted["batches"] and done["batches"].get("pending", 0) == 0
    assert done["results"]["total"] == done["counts"]["checked"] > 0
    assert {r["outcome"] for r in done["results"]["items"]} == {"ok"}
    incidents = wait_run(served, accepted["run_id"], "?outcome=incident")
    assert incidents["results"] == {"total": 0, "limit": 200, "offset": 0, "items": []}


def test_a_flipped_byte_fails_the_run_and_the_incident_names_the_object(served: Served) -> None:
    key = flip_a_blob(served)
    run_id = start_audit(served, "admin", scope="full").json()["run_id"]

    done = wait_run(served, run_id, "?outcome=incident&check=fixity")
    assert done["status"] == "failed" and done["scope"] == "full"
    [incident] = done["results"]["items"]
    assert incident["key"] == key and incident["outcome"] == "incident"
    assert incident["evidence"]["expected_sha256"] != incident["evidence"]["found_sha256"]


def test_runs_are_listed_newest_first_and_paged(served: Served) -> None:
    first = start_audit(served).json()["run_id"]
    wait_run(served, first)
    second = start_audit(served).json()["run_id"]
    wait_run(served, second)

    listed = served.client.get("/api/v1/audits?limit=1", headers=served.headers("auditor")).json()
    assert listed["total"] == 2 and [r["run_id"] for r in listed["items"]] == [second]
    older = served.client.get("/api/v1/audits?limit=1&offset=1", headers=served.headers("auditor")).json()
    assert [r["run_id"] for r in older["items"]] == [first]
    assert older["items"][0]["counts"]["checked"] > 0
    failed = served.client.get("/api/v1/audits?status=failed", headers=served.headers("auditor")).json()
    assert failed["total"] == 0


def test_coverage_shows_every_object_overdue_until_a_run_verifies_it(served: Served) -> None:
    url = "/api/v1/audits/coverage"
    before = served.client.get(url, headers=served.headers("auditor")).json()
    assert before["objects"] == before["overdue"] == before["total"] > 0
    assert before["max_age_days"] == served.inst.settings.audit.fixity_every_days
    assert all(item["last_verified"] is None for item in before["items"])

    wait_run(served, start_audit(served).json()["run_id"])
    after = served.client.get(f"{url}?overdue=false&limit=2", headers=served.headers("auditor")).json()
    assert after["overdue"] == 0 and after["total"] == after["objects"] == before["objects"]
    assert len(after["items"]) == 2 and all(item["last_verified"] for item in after["items"])


def test_a_scheduled_run_starts_what_is_due_or_says_nothing_is(served: Served) -> None:
    response = start_audit(served, scope="scheduled")
    if response.status_code == 200:  # the policy's quarterly sample may not have reached this dossier yet
        assert response.json() == {"status": "nothing_due", "run_id": None, "scope": "scheduled"}
    else:
        assert response.status_code == 202, response.text
        assert wait_run(served, response.json()["run_id"])["scope"] == "scheduled"


def test_bad_audit_requests_answer_in_the_one_error_shape(served: Served) -> None:
    def error(response: object, status: int) -> str:
        assert response.status_code == status, response.text  # type: ignore[attr-defined]
        body = response.json()  # type: ignore[attr-defined]
        assert set(body["error"]) == {"code", "message", "status"} and body["error"]["status"] == status
        return str(body["error"]["code"])

    assert error(start_audit(served, scope="weekly"), 422) == "request_invalid"
    assert error(start_audit(served, dossiers=[served.archive_id]), 422) == "request_invalid"
    assert error(start_audit(served, scope="full", dossiers=["ED-nothing"]), 404) == "audit_dossier_not_found"
    unknown = served.client.get("/api/v1/audits/no-such-run", headers=served.headers("auditor"))
    assert error(unknown, 404) == "audit_run_not_found"
    assert served.client.get("/api/v1/audits", headers=served.headers("auditor")).json()["total"] == 0
