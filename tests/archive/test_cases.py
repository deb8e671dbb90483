"""The case ledger (案件台账): parsing vectors, the overdue rule, upsert and overdue on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.wiring import initialise, open_installation
from archive.cases import (
    CasesFileError,
    CasesFileTooLarge,
    CasesTooManyRows,
    ParsedCases,
    ReportedCase,
    days_overdue,
    import_cases,
    is_overdue,
    overdue_cases,
    parse_cases,
    parse_cases_csv,
    refresh_archived,
)
from archive.catalog.models import ClosedCase, Dossier
from archive.sample import generate_sample
from archive.settings import Settings
from standards.limits import Limits
from tests.support.db import Backend, FreshDatabaseUrl

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "cases"
TODAY = dt.date(2025, 3, 1)
NOW = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
LIMITS = Limits()
HEADER = "案号,法院,承办部门,承办人,结案日期\n"


def _expected(kind: str) -> dict[str, dict[str, Any]]:
    value: dict[str, dict[str, Any]] = json.loads((VECTORS / kind / "expected.json").read_text("utf-8"))
    return value


def _parse_vector(kind: str, name: str) -> ParsedCases:
    return parse_cases((VECTORS / kind / name).read_bytes(), name=name, today=TODAY, limits=LIMITS)


def _csv(*rows: str) -> ParsedCases:
    return parse_cases_csv((HEADER + "".join(rows)).encode("utf-8"), today=TODAY, limits=LIMITS)


# ------------------------------------------------------------------ parsing vectors
@pytest.mark.parametrize("name", sorted(_expected("valid")))
def test_valid_vector_parses_every_row_with_its_encoding(name: str) -> None:
    want = _expected("valid")[name]

    parsed = _parse_vector("valid", name)

    assert parsed.problems == ()
    assert parsed.ok
    assert parsed.encoding == want["encoding"]
    assert parsed.rows == want["rows"]
    assert [c.case_number for c in parsed.cases] == want["case_numbers"]


@pytest.mark.parametrize("name", sorted(_expected("invalid")))
def test_invalid_vector_reports_its_expected_problem(name: str) -> None:
    want = _expected("invalid")[name]
    if "error" in want:
        with pytest.raises(CasesFileError) as caught:
            _parse_vector("invalid", name)
        assert type(caught.value).__name__ == want["error"]
        return

    parsed = _parse_vector("invalid", name)

    assert not parsed.ok
    assert [[p.row, p.field, p.code] for p in parsed.problems] == want["problems"]
    assert all(p.message.startswith(f"第 {p.row} ") for p in parsed.problems)


def test_gb18030_vector_keeps_chinese_text_and_optional_court() -> None:
    parsed = _parse_vector("valid", "gb18030-from-excel.csv")

    first, second = parsed.cases
    assert first == ReportedCase(
        "（2024）粤0306民初1234号", "深圳市宝安区人民法院", "民事审判第二庭", "赵敏", dt.date(2024, 6, 30), 2
    )
    assert second.court_name is None


def test_quoted_field_with_comma_and_blank_rows_keep_spreadsheet_row_numbers() -> None:
    parsed = _parse_vector("valid", "chinese-headers-utf8-bom.csv")

    assert parsed.cases[2].judge == "王,芳"
    assert parsed.cases[2].row == 5  # row 4 is blank (",,,,") and skipped


def test_problem_message_is_chinese_and_shows_found_value() -> None:
    parsed = _csv("(2024)京0105民初1号,,民一庭,张伟,2024-03-15\n")

    (problem,) = parsed.problems
    assert (
        problem.message
        == "第 2 行「案号」：案号应使用全角括号（），不得使用半角括号 ()，实为 '(2024)京0105民初1号'"
    )


def test_every_problem_of_a_row_is_reported_not_just_the_first() -> None:
    parsed = _csv("(2024)京0105民初1号,,,张伟,2024/3/5\n")

    assert {p.field for p in parsed.problems} == {"案号", "承办部门", "结案日期"}


def test_closing_date_today_is_accepted_tomorrow_is_not() -> None:
    ok = _csv(f"（2025）京0105民初1号,,民一庭,张伟,{TODAY.isoformat()}\n")
    late = _csv(f"（2025）京0105民初1号,,民一庭,张伟,{(TODAY + dt.timedelta(days=1)).isoformat()}\n")

    assert ok.ok
    assert [p.code for p in late.problems] == ["closing_date_in_future"]


def test_file_over_the_byte_limit_is_refused_before_decoding() -> None:
    data = (HEADER + "x" * 200).encode()

    with pytest.raises(CasesFileTooLarge, match="at most 100 bytes"):
        parse_cases_csv(data, today=TODAY, limits=Limits(xml_bytes=100))


def test_more_rows_than_the_limit_is_refused() -> None:
    rows = "".join(f"（2024）京0105民初{n}号,,民一庭,张伟,2024-03-15\n" for n in range(1, 4))

    with pytest.raises(CasesTooManyRows, match="at most 2 rows"):
        parse_cases_csv((HEADER + rows).encode(), today=TODAY, limits=Limits(file_count=2))


def test_content_without_json_suffix_is_sniffed_as_json() -> None:
    data = b"\xef\xbb\xbf" + '  [{"case_number": "（2024）京0105民初1号", "department": "民一庭", '.encode()
    data += '"judge": "张伟", "closing_date": "2024-03-15"}]'.encode()

    parsed = parse_cases(data, name="export", today=TODAY, limits=LIMITS)

    assert [c.case_number for c in parsed.cases] == ["（2024）京0105民初1号"]


# ------------------------------------------------------------------ the overdue rule
@pytest.mark.parametrize(
    ("closing", "archived", "today", "days", "overdue"),
    [
        (dt.date(2024, 1, 1), False, dt.date(2024, 3, 31), 90, False),  # deadline day itself: on time
        (dt.date(2024, 1, 1), False, dt.date(2024, 4, 1), 90, True),  # the day after
        (dt.date(2024, 1, 1), True, dt.date(2025, 1, 1), 90, False),  # archived late is not overdue any more
        (dt.date(2024, 1, 1), False, dt.date(2024, 1, 2), 0, True),  # deadline 0: due on the closing day
        (dt.date(2024, 1, 1), False, dt.date(2024, 1, 1), 0, False),
    ],
)
def test_is_overdue_only_when_unarchived_after_the_deadline(
    closing: dt.date, archived: bool, today: dt.date, days: int, overdue: bool
) -> None:
    assert is_overdue(closing, archived, today, days) is overdue


def test_days_overdue_counts_from_the_day_after_the_deadline() -> None:
    assert days_overdue(dt.date(2024, 1, 1), dt.date(2024, 4, 1), 90) == 1
    assert days_overdue(dt.date(2024, 1, 1), dt.date(2024, 3, 31), 90) == 0


def test_negative_deadline_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="deadline_days"):
        is_overdue(dt.date(2024, 1, 1), False, TODAY, -1)


# ------------------------------------------------------------------ import (SQLite and PostgreSQL)
def _rows(session: Session) -> dict[str, ClosedCase]:
    return {c.case_number: c for c in session.scalars(select(ClosedCase))}


def test_import_adds_then_updates_changed_rows_and_leaves_the_rest(db_session: Session) -> None:
    first = _csv(
        "（2024）京0105民初1号,朝阳法院,民一庭,张伟,2024-03-15\n",
        "（2024）京0105民初2号,朝阳法院,民一庭,李娜,2024-04-15\n",
    )
    result = import_cases(db_session, first, source="jan.csv", now=NOW)
    assert result.added == ("（2024）京0105民初1号", "（2024）京0105民初2号")

    later = NOW + dt.timedelta(days=1)
    second = _csv(
        "（2024）京0105民初1号,,民一庭,张伟,2024-03-15\n",  # no court given: the stored one is kept
        "（2024）京0105民初2号,朝阳法院,民二庭,李娜,2024-04-15\n",
        "（2024）京0105民初3号,,民二庭,王芳,2024-05-15\n",
    )
    result = import_cases(db_session, second, source="feb.csv", now=later)

    assert (result.added, result.updated, result.unchanged) == (
        ("（2024）京0105民初3号",),
        ("（2024）京0105民初2号",),
        ("（2024）京0105民初1号",),
    )
    rows = _rows(db_session)
    assert rows["（2024）京0105民初1号"].court_name == "朝阳法院"
    assert rows["（2024）京0105民初1号"].source == "jan.csv"
    moved = rows["（2024）京0105民初2号"]
    assert (moved.department, moved.source, moved.reported_at, moved.updated_at) == (
        "民二庭",
        "feb.csv",
        NOW,
        later,
    )


def test_import_with_any_bad_row_writes_nothing(db_session: Session) -> None:
    parsed = _csv(
        "（2024）京0105民初1号,,民一庭,张伟,2024-03-15\n", "（2024）京0105民初2号,,,李娜,2024-04-15\n"
    )

    result = import_cases(db_session, parsed, source="bad.csv", now=NOW)

    assert not result.imported
    assert [(p.row, p.field) for p in result.rejected] == [(3, "承办部门")]
    assert _rows(db_session) == {}


def test_import_refuses_naive_now(db_session: Session) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        import_cases(
            db_session,
            _csv("（2024）京0105民初1号,,民一庭,张伟,2024-03-15\n"),
            source="x",
            now=dt.datetime(2025, 1, 1),
        )


def test_overdue_lists_unarchived_cases_past_the_deadline_most_overdue_first(db_session: Session) -> None:
    parsed = _csv(
        "（2024）京0105民初1号,,民一庭,张伟,2024-06-01\n",  # 273 days: overdue
        "（2024）京0105民初2号,,民二庭,李娜,2024-12-01\n",  # 90 days: on the deadline day
        "（2023）京0105民初3号,,民二庭,王芳,2023-12-01\n",  # most overdue
    )
    import_cases(db_session, parsed, source="x.csv", now=NOW)

    found = overdue_cases(db_session, TODAY)

    assert [(c.case_number, c.days_overdue) for c in found] == [
        ("（2023）京0105民初3号", 366),
        ("（2024）京0105民初1号", 273 - 90),
    ]
    assert found[0].as_dict() == {
        "case_number": "（2023）京0105民初3号",
        "department": "民二庭",
        "judge": "王芳",
        "closing_date": "2023-12-01",
        "days_overdue": 366,
    }
    longer = overdue_cases(db_session, TODAY, deadline_days=365)
    assert [(c.case_number, c.days_overdue) for c in longer] == [("（2023）京0105民初3号", 91)]


# ------------------------------------------------------------------ end to end with a real dossier
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_archived_sample_case_is_not_overdue_but_an_old_unarchived_case_is(
    backend: Backend, fresh_database_url: FreshDatabaseUrl, pg_server: Any, tmp_path: Path
) -> None:
    if backend == "postgresql":
        pg_server.admin()  # skips when PostgreSQL is unreachable (fails under CI=true)
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url(backend))
    initialise(settings)
    inst = open_installation(settings)
    try:
        sample = generate_sample(tmp_path / "case", seed=7, documents=2, now=NOW)
        outcome = inst.ingest_service().ingest(sample.path)
        assert outcome.status == "archived"
        report = (
            HEADER
            + f"{sample.case_number},,民事审判庭,张伟,2024-01-10\n"
            + "（2023）京0105民初9号,,刑事审判庭,李娜,2023-12-01\n"
        )
        parsed = parse_cases_csv(report.encode(), today=TODAY, limits=LIMITS)
        assert parsed.ok, parsed.problems
        with inst.write_sessions() as session, session.begin():
            import_cases(session, parsed, source="cases.csv", now=NOW)
            assert refresh_archived(session) == [sample.case_number]
        with inst.sessions() as session:
            found = overdue_cases(session, TODAY)
            linked = _rows(session)[sample.case_number]
    finally:
        inst.close()

    assert [c.case_number for c in found] == ["（2023）京0105民初9号"]
    assert linked.archive_id == outcome.archive_id
    assert linked.archived_at is not None


def _dossier(case_number: str) -> Dossier:
    return Dossier(
        archive_id="ED-2024-0001",
        case_number=case_number,
        court_name="北京市朝阳区人民法院",
        case_type="民初",
        year=2024,
        closing_date=dt.date(2024, 6, 1),
        department="民一庭",
        judge="张伟",
        fonds_code="J001",
        retention="永久",
        document_count=1,
        total_bytes=1,
        manifest_key="aips/ED-2024-0001/1/manifest.json",
        manifest_sha256="0" * 64,
        package_digest="0" * 64,
        archived_at=NOW,
        leaf_index=0,
    )


def test_overdue_counts_a_dossier_archived_after_the_import_before_any_refresh(db_session: Session) -> None:
    import_cases(db_session, _csv("（2024）京0105民初1号,,民一庭,张伟,2024-06-01\n"), source="x.csv", now=NOW)
    assert [c.case_number for c in overdue_cases(db_session, TODAY)] == ["（2024）京0105民初1号"]

    db_session.add(_dossier("（2024）京0105民初1号"))
    db_session.flush()

    assert overdue_cases(db_session, TODAY) == []
    assert _rows(db_session)["（2024）京0105民初1号"].archive_id is None  # overdue_cases only reads
    assert refresh_archived(db_session) == ["（2024）京0105民初1号"]
    assert _rows(db_session)["（2024）京0105民初1号"].archive_id == "ED-2024-0001"
    assert refresh_archived(db_session) == []  # already linked
