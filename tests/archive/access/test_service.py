"""open_document end to end: clean downloads logged before streaming, and refusals that write nothing.

Real ingest of the sample (see conftest.py), fs and S3 (moto) stores, SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from archive.access.errors import AccessDenied, DocumentNotFound, PurposeRequired
from archive.access.service import PURPOSE_NOT_GIVEN, open_document
from archive.catalog.models import Checkpoint, Event
from integrity.ledger.rotation import load_known_verifiers
from integrity.ledger.verify import check_ledger
from tests.archive.access.access_helpers import BIG, CHUNK, INTERNAL, NOW, SMALL, Archived


# ---------------------------------------------------------------- clean downloads
def test_clean_download_yields_the_file_and_one_accessed_leaf_committed_before_streaming(
    anywhere: Archived,
) -> None:
    opened = open_document(
        anywhere.inst,
        anywhere.archive_id,
        BIG,
        actor="token:0a1b2c3d4e5f6a7b",
        role="submitter",
        purpose=None,
        now=NOW,
        request_id="req-1",
    )

    [event] = anywhere.leaves()  # on record before the first byte is read
    assert event == {
        "type": "dossier.accessed",
        "v": 1,
        "archive_id": anywhere.archive_id,
        "actor": "token:0a1b2c3d4e5f6a7b",
        "at": "2025-06-02T08:00:00Z",
        "access": "download",
        "purpose": PURPOSE_NOT_GIVEN,
        "documents": [BIG],
        "request_id": "req-1",
        "role": "submitter",
        "volume": "正卷",
    }
    data = b"".join(opened.chunks)
    assert data == anywhere.original(BIG) and len(data) > 1024 * 1024
    assert opened.document.volume == "正卷" and opened.document.size == len(data)
    with anywhere.inst.sessions() as session:
        signed = session.scalar(select(func.max(Checkpoint.size)))
        row = session.scalars(select(Event).where(Event.kind == "dossier.accessed")).one()
        report = check_ledger(session, load_known_verifiers(anywhere.inst.settings.keys_dir))
    assert signed == opened.leaf_index + 1 and row.leaf_index == opened.leaf_index
    assert opened.checkpoint.startswith(anywhere.inst.settings.ledger_origin + "\n") and report.ok
    assert anywhere.hook.alerts() == []


def test_internal_volume_with_a_purpose_is_served_to_an_archivist_and_the_purpose_logged(
    archived: Archived,
) -> None:
    opened = open_document(
        archived.inst,
        archived.archive_id,
        INTERNAL,
        actor="档案员王芳",
        role="archivist",
        purpose="  再审审查调卷 ",
        access="view",
        now=NOW,
        chunk_size=CHUNK,
    )

    assert b"".join(opened.chunks) == archived.original(INTERNAL)
    [event] = archived.leaves()
    assert (event["purpose"], event["access"], event["documents"]) == ("再审审查调卷", "view", [INTERNAL])
    assert opened.document.volume == "副卷" and opened.purpose == "再审审查调卷"


def test_each_access_is_its_own_leaf_and_checkpoint(archived: Archived) -> None:
    for sequence in (SMALL, SMALL, BIG):
        opened = open_document(
            archived.inst, archived.archive_id, sequence, actor="a", role="admin", purpose="核对", now=NOW
        )
        opened.chunks.close()  # never read: the access is on record anyway

    assert [e["documents"] for e in archived.leaves()] == [[SMALL], [SMALL], [BIG]]
    with archived.inst.sessions() as session:
        assert session.scalar(select(func.max(Checkpoint.size))) == archived.ledger_size() == 4


# ---------------------------------------------------------------- refusals write nothing
def test_internal_volume_without_a_purpose_is_refused(archived: Archived) -> None:
    before = archived.ledger_size()

    with pytest.raises(PurposeRequired) as caught:
        open_document(
            archived.inst, archived.archive_id, INTERNAL, actor="a", role="archivist", purpose=" ", now=NOW
        )

    case_number = archived.doc(INTERNAL).case_number
    assert (
        caught.value.reason.startswith(f"{case_number} 第{INTERNAL}件：")
        and "利用目的" in caught.value.reason
    )
    assert archived.ledger_size() == before and archived.leaves() == []


@pytest.mark.parametrize("role", ["submitter", "auditor"])
def test_internal_volume_is_refused_to_submitters_and_auditors_even_with_a_purpose(
    archived: Archived, role: str
) -> None:
    with pytest.raises(AccessDenied) as caught:
        open_document(
            archived.inst, archived.archive_id, INTERNAL, actor="a", role=role, purpose="阅卷", now=NOW
        )

    assert caught.value.code == "access_denied" and archived.leaves() == []


@pytest.mark.parametrize("access", ["view", "download", "print", "export"])
def test_auditor_is_refused_document_content(archived: Archived, access: str) -> None:
    with pytest.raises(AccessDenied) as caught:
        open_document(
            archived.inst,
            archived.archive_id,
            BIG,
            actor="审计员",
            role="auditor",
            purpose="抽查",
            access=access,
            now=NOW,
        )

    assert "不能获取文件内容" in caught.value.reason and archived.leaves() == []


@pytest.mark.parametrize(("archive_id", "sequence"), [(None, 99), ("ED-0000-0000000000000000", 1)])
def test_unknown_document_is_document_not_found(
    archived: Archived, archive_id: str | None, sequence: int
) -> None:
    with pytest.raises(DocumentNotFound, match="found none"):
        open_document(
            archived.inst,
            archive_id or archived.archive_id,
            sequence,
            actor="a",
            role="admin",
            purpose=None,
            now=NOW,
        )

    assert archived.leaves() == []


def test_metadata_is_not_content_access(archived: Archived) -> None:
    with pytest.raises(ValueError, match="serves content"):
        open_document(
            archived.inst, archived.archive_id, BIG, actor="a", role="admin", purpose=None, access="metadata"
        )
