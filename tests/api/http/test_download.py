"""Document downloads (利用) over HTTP: verified while streaming, in the ledger, 副卷 needs a purpose."""

from __future__ import annotations

import hashlib
import json
import stat
from typing import Any

from sqlalchemy import select

from archive.catalog.models import Blob, Document, LedgerLeaf
from tests.api.http.conftest import Served


def _document(served: Served, volume: str) -> Document:
    with served.inst.sessions() as session:
        query = select(Document).where(Document.archive_id == served.archive_id, Document.volume == volume)
        return session.scalars(query.order_by(Document.sequence)).first()  # type: ignore[return-value]


def _accessed(served: Served) -> list[dict[str, Any]]:
    with served.inst.sessions() as session:
        rows = session.scalars(select(LedgerLeaf.data).where(LedgerLeaf.kind == "dossier.accessed"))
        return [json.loads(r) for r in rows]


def _url(served: Served, doc: Document) -> str:
    return f"/api/v1/dossiers/{served.archive_id}/documents/{doc.sequence}/content"


def test_download_streams_the_verified_bytes_and_logs_the_access(served: Served) -> None:
    doc = _document(served, "正卷")
    response = served.client.get(_url(served, doc), headers=served.headers("archivist"))
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == doc.sha256
    assert response.headers["content-length"] == str(doc.file_size)
    assert response.headers["content-type"] == "application/pdf"
    [event] = _accessed(served)
    assert event["archive_id"] == served.archive_id and event["documents"] == [doc.sequence]
    assert (event["role"], event["volume"]) == ("archivist", "正卷")
    assert int(response.headers["x-ledger-leaf"]) >= 0


def test_secondary_volume_needs_a_purpose_and_an_archivist(served: Served) -> None:
    doc = _document(served, "副卷")
    refused = served.client.get(_url(served, doc), headers=served.headers("archivist"))
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "purpose_required"
    ok = served.client.get(_url(served, doc), params={"purpose": "再审审查调阅"}, headers=served.headers("archivist"))
    assert ok.status_code == 200 and hashlib.sha256(ok.content).hexdigest() == doc.sha256
    assert [e["purpose"] for e in _accessed(served)] == ["再审审查调阅"]
    for role in ("auditor", "submitter"):
        denied = served.client.get(_url(served, doc), params={"purpose": "x"}, headers=served.headers(role))
        assert denied.status_code == 403


def test_tampered_object_never_reaches_the_client_complete(served: Served) -> None:
    doc = _document(served, "正卷")
    with served.inst.sessions() as session:
        key = session.get(Blob, doc.sha256).store_key  # type: ignore[union-attr]
    path = served.inst.settings.store_dir.joinpath(*key.split("/"))
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    try:
        response = served.client.get(_url(served, doc), headers=served.headers("archivist"))
        received = response.content
    except Exception:  # the server stopped the response mid-stream
        received = b""
    assert len(received) < doc.file_size
    assert hashlib.sha256(received).hexdigest() != doc.sha256


def test_unknown_document_is_404(served: Served) -> None:
    response = served.client.get(
        f"/api/v1/dossiers/{served.archive_id}/documents/9999/content", headers=served.headers("archivist")
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "document_not_found"
