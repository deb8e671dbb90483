"""Errors in one shape, tokens that fail, health and metrics, ledger proofs that verify."""

from __future__ import annotations

import base64
import datetime as dt

from archive.tokens import create_token, revoke_token
from integrity.evidence import parse_bundle, verify_bundle
from integrity.merkle.proofs import verify_inclusion
from tests.api.http.conftest import Served


def _error(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "status"}
    assert body["error"]["status"] == response.status_code
    return body["error"]  # type: ignore[no-any-return]


def test_unknown_route_and_wrong_method_get_the_error_shape(served: Served) -> None:
    assert _error(served.client.get("/api/v1/nothing-here"))["code"] == "not_found"
    assert _error(served.client.post("/api/v1/health"))["code"] == "method_not_allowed"


def test_unknown_dossier_is_404_in_the_error_shape(served: Served) -> None:
    response = served.client.get("/api/v1/dossiers/ED-0000-nothing", headers=served.headers("archivist"))
    assert response.status_code == 404 and _error(response)["code"] == "not_found"


def test_bad_query_is_422_in_the_error_shape(served: Served) -> None:
    response = served.client.get("/api/v1/dossiers?limit=100000", headers=served.headers("archivist"))
    assert response.status_code == 422 and _error(response)["code"] == "request_invalid"


def test_malformed_unknown_revoked_and_expired_tokens_are_401(served: Served) -> None:
    now = dt.datetime.now(dt.UTC)
    with served.inst.write_sessions() as session, session.begin():
        revoked = create_token(session, "gone", "archivist", now)
        revoke_token(session, revoked.principal.token_id, now)
        expired = create_token(
            session, "old", "archivist", now - dt.timedelta(days=2), expires_in=dt.timedelta(days=1)
        )
    real = served.tokens["archivist"]
    wrong_secret = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for text in ("nonsense", "edt_0123456789abcdef_" + "A" * 43, wrong_secret, revoked.text, expired.text):
        response = served.client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {text}"})
        assert response.status_code == 401, text
        assert _error(response)["code"] == "token_invalid"
        assert response.headers["www-authenticate"] == "Bearer"
    basic = served.client.get("/api/v1/dossiers", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401 and _error(basic)["code"] == "authentication_required"


def test_health_ready_and_metrics(served: Served) -> None:
    assert served.client.get("/api/v1/health").json()["status"] == "ok"
    assert served.client.get("/api/v1/ready").json()["status"] == "ready"
    served.client.get("/api/v1/dossiers", headers=served.headers("archivist"))
    text = served.client.get("/metrics").text
    assert 'edossier_catalog{what="dossiers"} 1.0' in text
    assert 'edossier_http_requests_total{method="GET",route="/api/v1/dossiers",status="200"}' in text


def test_store_outage_makes_ready_503(served: Served) -> None:
    root = served.inst.settings.store_dir
    root.rename(root.with_name("moved"))
    try:
        response = served.client.get("/api/v1/ready")
    finally:
        root.with_name("moved").rename(root)
    assert response.status_code == 503 and _error(response)["code"] == "store_unavailable"


def test_inclusion_proof_verifies_against_the_signed_checkpoint(served: Served) -> None:
    proof = served.client.get(
        f"/api/v1/ledger/proofs/inclusion/{served.archive_id}", headers=served.headers("auditor")
    ).json()
    note = served.client.get("/api/v1/ledger/checkpoint").text
    decode = base64.b64decode
    verify_inclusion(
        proof["index"],
        proof["size"],
        decode(proof["leaf_hash"]),
        [decode(p) for p in proof["proof"]],
        decode(proof["root"]),
    )
    assert base64.b64encode(decode(proof["root"])).decode() in note


def test_search_by_case_number(served: Served) -> None:
    found = served.client.get(
        "/api/v1/dossiers", params={"case_number": served.case_number}, headers=served.headers("auditor")
    ).json()
    assert found["total"] == 1 and found["items"][0]["archive_id"] == served.archive_id
    none = served.client.get(
        "/api/v1/dossiers", params={"year": 1990}, headers=served.headers("auditor")
    ).json()
    assert none["total"] == 0 and none["items"] == []


def test_evidence_bundle_from_http_verifies_offline(served: Served) -> None:
    response = served.client.get(
        f"/api/v1/dossiers/{served.archive_id}/evidence", headers=served.headers("auditor")
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith(f'{served.archive_id}.tlog-proof"')
    verify_bundle(parse_bundle(response.content), [served.inst.signer.verifier()])
