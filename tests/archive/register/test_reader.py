"""Reading the register inputs from the catalog, on SQLite and PostgreSQL (rolled-back sessions).

The catalog is filled with the rows of the vector ``month-boundaries-in-china-standard-time``; what
the reader returns must give the same register as the vector's own records.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from archive.catalog.models import AuditResult, AuditRun, Blob, ClosedCase, Document, Dossier, Submission
from archive.register.compute import compute_register
from archive.register.model import Month, RegisterInputs
from archive.register.reader import read_register_inputs

from . import vectors

VECTOR = vectors.load("valid", "month-boundaries-in-china-standard-time")
NOW = vectors.instant(VECTOR["now"])
YEAR = dt.timedelta(days=365)
JANUARY, FEBRUARY = Month(2025, 1), Month(2025, 2)


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _blob(session: Session, key: str) -> str:
    sha = _sha(key)
    if session.get(Blob, sha) is None:
        session.add(Blob(sha256=sha, sm3=sha, size=1, store_key=key, created_at=NOW))
        session.flush()
    return sha


def _dossier(session: Session, record: dict[str, object]) -> None:
    keys = [str(k) for k in record["object_keys"]]  # type: ignore[attr-defined]
    manifest, blobs = keys[0], keys[1:]
    archive_id = str(record["archive_id"])
    session.add(
        Dossier(
            archive_id=archive_id,
            case_number=str(record["case_number"]),
            court_name="北京市朝阳区人民法院",
            case_type="民初",
            year=2024,
            closing_date=dt.date.fromisoformat(str(record["closing_date"])),
            department=str(record["department"]),
            judge="张伟",
            fonds_code="J001",
            retention="永久",
            document_count=1,
            total_bytes=1,
            manifest_key=manifest,
            manifest_sha256=_sha(manifest),
            package_digest="0" * 64,
            archived_at=vectors.instant(str(record["archived_at"])),
            leaf_index=0,
        )
    )
    session.flush()
    # one document: content = the first blob, metadata = the last (the same when there is one)
    content, metadata = _blob(session, blobs[0]), _blob(session, blobs[-1])
    session.add(
        Document(
            archive_id=archive_id,
            sequence=1,
            archival_code=f"{archive_id}-1",
            title="判决书",
            author="北京市朝阳区人民法院",
            date=dt.date(2024, 12, 1),
            retention="永久",
            classification="公开",
            pages=1,
            volume="正卷",
            origin="电子原件",
            paper_location=None,
            file_path="正卷/1-判决书.pdf",
            file_size=1,
            format="PDF",
            sha256=content,
            sm3=content,
            metadata_sha256=metadata,
        )
    )


def _fill(session: Session) -> None:
    raw = VECTOR["inputs"]
    for number, case in enumerate(raw["cases"]):
        session.add(
            ClosedCase(
                case_number=case["case_number"],
                department=case["department"],
                judge="张伟",
                closing_date=dt.date.fromisoformat(case["closing_date"]),
                source="cases.csv",
                reported_at=NOW - dt.timedelta(days=number),
                updated_at=NOW,
            )
        )
    for record in raw["dossiers"]:
        _dossier(session, record)
    submissions = [
        *raw["submissions"],
        {
            "received_at": "2024-12-31T15:59:59+00:00",
            "case_number": None,
            "status": "rejected",
        },  # 31 Dec (CST)
        {
            "received_at": "2025-02-28T16:00:00+00:00",
            "case_number": None,
            "status": "rejected",
        },  # 1 Mar (CST)
    ]
    for number, item in enumerate(submissions):
        session.add(
            Submission(
                id=f"00000000-0000-0000-0000-{number:012d}",
                received_at=vectors.instant(item["received_at"]),
                source_name="package.zip",
                source_kind="zip",
                source_digest="0" * 64,
                status=item["status"],
                case_number=item["case_number"],
                archive_id=None,
            )
        )
    results = [(v["key"], "fixity", "ok", v["checked_at"]) for v in raw["verifications"]]
    results += [
        ("blobs/a1", "fixity", "incident", "2025-02-20T00:00:00+00:00"),  # tampering is not coverage
        ("aips/ED-A/1/manifest.json", "ledger", "ok", "2025-02-20T00:00:00+00:00"),  # not a fixity check
        ("blobs/a1", "fixity", "ok", "2023-06-01T00:00:00+00:00"),  # before the audit window of January
    ]
    for number, (key, check, outcome, when) in enumerate(
        results
    ):  # one run each: (run, key, check) is unique
        run_id = f"run-{number}"
        session.add(AuditRun(id=run_id, started_at=NOW, scope="fixity", status="passed", tool_version="test"))
        session.flush()
        session.add(
            AuditResult(
                run_id=run_id,
                object_key=key,
                archive_id=None,
                check=check,
                outcome=outcome,
                checked_at=vectors.instant(when),
            )
        )
    session.flush()


def _compute(inputs: RegisterInputs) -> object:
    return compute_register(inputs, JANUARY, FEBRUARY, deadline_days=90, audit_period=YEAR, now=NOW)


def test_reader_gives_the_same_register_as_the_vector_records(db_session: Session) -> None:
    _fill(db_session)

    read = read_register_inputs(db_session, JANUARY, FEBRUARY, audit_period=YEAR)

    assert _compute(read) == _compute(vectors.inputs(VECTOR))


def test_reader_reads_only_the_range_and_the_audit_window(db_session: Session) -> None:
    _fill(db_session)

    read = read_register_inputs(db_session, JANUARY, FEBRUARY, audit_period=YEAR)

    assert len(read.submissions) == len(VECTOR["inputs"]["submissions"])  # 31 Dec and 1 Mar (CST) left out
    assert all(s.received_at.tzinfo is not None for s in read.submissions)
    window_opens = JANUARY.start - YEAR  # 2 Jan 2024 in Beijing (2024 has 366 days)
    assert sorted((v.key, v.checked_at) for v in read.verifications) == [
        ("aips/ED-B/1/manifest.json", dt.datetime(2025, 1, 25, tzinfo=dt.UTC)),
        ("blobs/b1", dt.datetime(2025, 1, 25, tzinfo=dt.UTC)),
        ("blobs/shared", dt.datetime(2025, 2, 15, tzinfo=dt.UTC)),
    ]  # not: the incident, the ledger check, the checks of 2023 and of 1 Jan 2024 (before the window)
    assert all(v.checked_at > window_opens for v in read.verifications)
    by_id = {d.archive_id: d for d in read.dossiers}
    assert by_id["ED-B"].object_keys == ("aips/ED-B/1/manifest.json", "blobs/b1", "blobs/shared")
    assert {c.case_number for c in read.cases} == {c["case_number"] for c in VECTOR["inputs"]["cases"]}


def test_dossiers_archived_after_the_range_keep_their_department_but_no_objects(db_session: Session) -> None:
    _fill(db_session)

    read = read_register_inputs(db_session, JANUARY, JANUARY, audit_period=YEAR)

    by_id = {d.archive_id: d for d in read.dossiers}
    assert by_id["ED-D"].department == "执行局"  # archived in February: still known, for departments
    assert by_id["ED-D"].object_keys == ()
    assert by_id["ED-A"].object_keys == ()  # 1 Feb in Beijing, though 31 Jan in UTC
    assert by_id["ED-B"].object_keys != ()
