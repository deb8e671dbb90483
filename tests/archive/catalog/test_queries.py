"""Catalog queries on SQLite and PostgreSQL, against the rows in data/catalog_rows.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from archive.catalog.models import Blob, Document, Dossier, LedgerHead, Submission
from archive.catalog.queries import (
    IN_CHUNK,
    catalog_stats,
    find_dossier,
    find_submission_by_digest,
    is_case_archived,
    known_blobs,
)

ROWS: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "catalog_rows.json").read_text("utf-8"))
NOW = dt.datetime(2024, 6, 5, 12, 0, tzinfo=dt.UTC)
DIGEST_AB = "ab" * 32
UNKNOWN = "ef" * 32


def _dossier(archive_id: str, case_number: str) -> Dossier:
    return Dossier(
        archive_id=archive_id,
        case_number=case_number,
        court_name="北京市朝阳区人民法院",
        case_type="民初",
        year=2024,
        closing_date=dt.date(2024, 5, 31),
        department="民一庭",
        judge="张三",
        fonds_code="J001",
        retention="永久",
        document_count=0,
        total_bytes=0,
        manifest_key=f"aips/{archive_id}/1/manifest.json",
        manifest_sha256="0" * 64,
        package_digest="0" * 64,
        archived_at=NOW,
        leaf_index=0,
    )


def _document(archive_id: str, row: dict[str, Any]) -> Document:
    return Document(
        archive_id=archive_id,
        sequence=row["sequence"],
        archival_code=f"J001-2024-Y-{row['sequence']:04d}",
        title=row["title"],
        author="原告",
        date=dt.date(2024, 1, 2),
        retention="永久",
        classification="公开",
        pages=3,
        volume="正卷",
        origin="电子原件",
        paper_location=None,
        file_path=f"正卷/{row['sequence']}-{row['title']}.pdf",
        file_size=100,
        format="pdf",
        sha256=row["sha256"],
        sm3="f" * 64,
        metadata_sha256=row["metadata_sha256"],
    )


def load_rows(session: Session) -> None:
    session.add_all(Blob(created_at=NOW, **row) for row in ROWS["blobs"])
    session.flush()  # blobs first: documents reference them (FK)
    for entry in ROWS["dossiers"]:
        dossier = _dossier(entry["archive_id"], entry["case_number"])
        dossier.documents = [_document(entry["archive_id"], row) for row in entry["documents"]]
        dossier.document_count = len(dossier.documents)
        session.add(dossier)
    session.add(LedgerHead(id=1, size=ROWS["ledger_head"]["size"], root_hash=b"\x00" * 32, updated_at=NOW))
    for row in ROWS["submissions"]:
        session.add(
            Submission(
                id=row["id"],
                received_at=dt.datetime.fromisoformat(row["received_at"]),
                source_name="case.zip",
                source_kind="zip",
                source_digest=row["source_digest"],
                status=row["status"],
                case_number=None,
                archive_id=None,
                problems_json="[]",
            )
        )
    session.flush()


@pytest.fixture
def loaded(db_session: Session) -> Session:
    load_rows(db_session)
    return db_session


# ------------------------------------------------------------ find_dossier
def test_find_dossier_finds_by_case_number(loaded: Session) -> None:
    dossier = find_dossier(loaded, "（2024）京0105民初12345号")
    assert dossier is not None
    assert dossier.archive_id == "A-2024-0001"
    assert [d.sequence for d in dossier.documents] == [1, 2]


def test_find_dossier_prefers_archive_id_over_equal_case_number(loaded: Session) -> None:
    # A-2024-0002's case number equals A-2024-0001's archive id: the archive id wins.
    dossier = find_dossier(loaded, "A-2024-0001")
    assert dossier is not None
    assert dossier.case_number == "（2024）京0105民初12345号"


def test_find_dossier_returns_none_for_unknown_or_blank_key(loaded: Session) -> None:
    assert find_dossier(loaded, "（2099）京0105民初1号") is None
    assert find_dossier(loaded, "   ") is None


# -------------------------------------------------------- is_case_archived
def test_is_case_archived_returns_archive_id(loaded: Session) -> None:
    assert is_case_archived(loaded, "（2024）京0105民初12345号") == "A-2024-0001"


def test_is_case_archived_returns_none_for_unarchived_case(loaded: Session) -> None:
    assert is_case_archived(loaded, "（2024）京0105民初99999号") is None


# ------------------------------------------------ find_submission_by_digest
def test_find_submission_by_digest_returns_latest(loaded: Session) -> None:
    found = find_submission_by_digest(loaded, DIGEST_AB)
    assert found is not None
    assert found.status == "already_archived"


def test_find_submission_by_digest_filters_by_status(loaded: Session) -> None:
    found = find_submission_by_digest(loaded, DIGEST_AB, status="archived")
    assert found is not None
    assert found.id == "00000000-0000-4000-8000-000000000002"
    assert find_submission_by_digest(loaded, "cd" * 32, status="archived") is None


def test_find_submission_by_digest_accepts_upper_case_hex(loaded: Session) -> None:
    found = find_submission_by_digest(loaded, DIGEST_AB.upper())
    assert found is not None


def test_find_submission_by_digest_returns_none_for_unknown_digest(loaded: Session) -> None:
    assert find_submission_by_digest(loaded, UNKNOWN) is None


def test_find_submission_by_digest_rejects_malformed_digest(db_session: Session) -> None:
    with pytest.raises(ValueError, match="source_digest"):
        find_submission_by_digest(db_session, "abc")


# ----------------------------------------------------------- catalog_stats
def test_catalog_stats_of_empty_catalog_is_all_zero(db_session: Session) -> None:
    assert catalog_stats(db_session) == {
        "dossiers": 0,
        "documents": 0,
        "blobs": 0,
        "blob_bytes": 0,
        "ledger_size": 0,
    }


def test_catalog_stats_counts_rows_bytes_and_ledger_size(loaded: Session) -> None:
    assert catalog_stats(loaded) == {
        "dossiers": 2,
        "documents": 3,
        "blobs": 3,
        "blob_bytes": 1000 + 250 + 5_000_000_000,  # beyond 32 bits: BIGINT sum
        "ledger_size": 7,
    }


# ------------------------------------------------------------- known_blobs
def test_known_blobs_returns_only_catalogued_digests(loaded: Session) -> None:
    asked = ["1" * 64, "3" * 64, UNKNOWN]
    assert known_blobs(loaded, asked) == {"1" * 64, "3" * 64}


def test_known_blobs_normalises_case_and_handles_empty_input(loaded: Session) -> None:
    assert known_blobs(loaded, ["2" * 64, "AB" * 32]) == {"2" * 64}
    assert known_blobs(loaded, []) == set()


def test_known_blobs_spans_more_digests_than_one_in_clause(loaded: Session) -> None:
    asked = [f"{i:064x}" for i in range(3 * IN_CHUNK)] + ["3" * 64]
    assert known_blobs(loaded, asked) == {"3" * 64}


def test_known_blobs_rejects_malformed_digest(db_session: Session) -> None:
    with pytest.raises(ValueError, match="sha256"):
        known_blobs(db_session, ["1" * 63])


# ---------------------------------------------------------- transactions
def test_queries_leave_the_transaction_to_the_caller(db_session: Session) -> None:
    db_session.add(Blob(sha256="9" * 64, sm3="9" * 64, size=1, store_key="k9", created_at=NOW))
    assert known_blobs(db_session, ["9" * 64]) == {"9" * 64}  # autoflushed, visible inside
    catalog_stats(db_session)
    find_dossier(db_session, "A-2024-0001")
    is_case_archived(db_session, "x")
    find_submission_by_digest(db_session, UNKNOWN)
    db_session.rollback()  # had any query committed, the blob would survive this
    assert known_blobs(db_session, ["9" * 64]) == set()
