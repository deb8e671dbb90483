"""The whole route × role matrix, and what each role sees of a dossier (副卷 stays hidden)."""

from __future__ import annotations

import pytest

from tests.api.http.conftest import Served
from tests.api.http.route_fixtures import BODIES, SUCCESS, path_ids

PUBLIC = ("anonymous", "submitter", "archivist", "auditor", "admin")
READERS = ("archivist", "auditor", "admin")
SUBMITTERS = ("submitter", "archivist", "admin")
OPERATORS = ("archivist", "admin")
CALLERS = (None, "submitter", "archivist", "auditor", "admin")

#: (method, path template, roles allowed; "anonymous" = no token needed)
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("GET", "/api/v1/health", PUBLIC),
    ("GET", "/api/v1/ready", PUBLIC),
    ("GET", "/metrics", PUBLIC),
    ("GET", "/api/v1/ledger/checkpoint", PUBLIC),
    ("GET", "/api/v1/ledger/proofs/inclusion/{archive_id}", READERS),
    ("GET", "/api/v1/ledger/proofs/consistency?from=1", READERS),
    ("GET", "/api/v1/dossiers", READERS),
    ("GET", "/api/v1/dossiers/{archive_id}", READERS),
    ("GET", "/api/v1/dossiers/{archive_id}/evidence", READERS),
    ("GET", "/api/v1/dossiers/{archive_id}/documents/1/content", OPERATORS),
    ("POST", "/api/v1/submissions", SUBMITTERS),
    ("GET", "/api/v1/submissions", SUBMITTERS),
    ("GET", "/api/v1/submissions/{submission_id}", SUBMITTERS),
    ("GET", "/api/v1/audits", READERS),
    ("POST", "/api/v1/audits", OPERATORS),
    ("GET", "/api/v1/audits/coverage", READERS),
    ("GET", "/api/v1/audits/{run_id}", READERS),
    ("POST", "/api/v1/cases", SUBMITTERS),
    ("GET", "/api/v1/cases/overdue", READERS),
    ("GET", "/api/v1/reports/{report_id}", READERS),
    ("GET", "/api/v1/dossiers/{archive_id}/report", READERS),
    ("GET", "/api/v1/alerts", READERS),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge", OPERATORS),
)


def test_every_route_of_the_app_is_in_the_matrix(served: Served) -> None:
    schema = served.client.get("/openapi.json").json()
    published = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    listed = {(m, p.split("?")[0].replace("/documents/1/", "/documents/{sequence}/")) for m, p, _ in ROUTES}
    assert published == listed


@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("role", CALLERS, ids=[str(r) for r in CALLERS])
def test_route_answers_each_role_as_the_matrix_says(
    served: Served, method: str, path: str, allowed: tuple[str, ...], role: str | None
) -> None:
    submission_id = ""
    if "{submission_id}" in path:  # one of the submitter's own
        posted = served.client.post("/api/v1/submissions", content=b"", headers=served.headers("submitter"))
        submission_id = posted.json()["submission_id"]
    url = path.format(archive_id=served.archive_id, submission_id=submission_id, **path_ids(served, path))
    body = BODIES.get((method, path), {})
    headers = served.headers(role) | body.get("headers", {})
    response = served.client.request(
        method, url, headers=headers, json=body.get("json"), content=body.get("content")
    )
    if "anonymous" in allowed or role in allowed:
        success = SUCCESS.get((method, path), 202 if method == "POST" else 200)
        assert response.status_code == success, response.text
    else:
        expected = 401 if role is None else 403
        assert response.status_code == expected, response.text
        error = response.json()["error"]
        assert error["code"] == ("authentication_required" if role is None else "forbidden")
        assert error["status"] == expected


def _volumes(served: Served, role: str) -> set[str]:
    body = served.client.get(f"/api/v1/dossiers/{served.archive_id}", headers=served.headers(role)).json()
    assert body["documents"], body
    return {d["volume"] for d in body["documents"]}


def test_secondary_volume_is_listed_to_archivists_and_admins_only(served: Served) -> None:
    assert _volumes(served, "archivist") == {"正卷", "副卷"}
    assert _volumes(served, "admin") == {"正卷", "副卷"}
    assert _volumes(served, "auditor") == {"正卷"}
