"""Overdue alerts (issue 5, items 7 and 8): pure alert building, then the periodic check end to end.

The end-to-end tests run on SQLite and PostgreSQL against a real catalog, a real loopback webhook
and a real SMTP server (aiosmtpd); nothing of ours is mocked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.wiring import Installation, initialise, open_installation
from archive.cases import OverdueCase, import_cases, parse_cases
from archive.catalog.models import AuditResult, AuditRun, Blob
from archive.settings import Settings
from integrity.alerts.model import AlertKind, Severity
from integrity.alerts.overdue import (
    ARCHIVING_EVIDENCE,
    OTHER_OBJECTS_KEY,
    overdue_archiving_alert,
    overdue_archiving_alerts,
    overdue_audit_alert,
    overdue_audit_alerts,
)
from integrity.alerts.settings import AlertSettings
from integrity.audit.coverage import OverdueObject, coverage_of, overdue_objects
from integrity.audit.overdue_check import raise_overdue_alerts
from standards.limits import Limits
from tests.support.alert_receivers import Mailbox, Webhook, smtp_receiver, webhook_receiver
from tests.support.s3 import free_port

NOW = dt.datetime(2025, 6, 10, 4, 0, tzinfo=dt.UTC)  # 12:00 on 10 June in Beijing
TODAY = dt.date(2025, 6, 10)
DAY = dt.timedelta(days=1)
YEAR = dt.timedelta(days=365)
CASE_91 = "（2025）京0105民初101号"  # closed 91 days before TODAY
CASE_90 = "（2025）京0105民初102号"  # closed 90 days before TODAY
CASE_89 = "（2025）京0105民初103号"  # closed 89 days before TODAY


def case(number: str = CASE_91, days_overdue: int = 1) -> OverdueCase:
    return OverdueCase(number, "民事审判庭", "张伟", TODAY - (90 + days_overdue) * DAY, days_overdue)


def blob_key(n: int) -> str:
    digest = hashlib.sha256(str(n).encode()).hexdigest()
    return f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def late(key: str, days: int, last: dt.datetime | None = None) -> OverdueObject:
    return OverdueObject(key, last, NOW - days * DAY, days)


# ---------------------------------------------------------------- archiving alerts (pure)
def test_overdue_archiving_alert_names_case_number_days_and_cli_evidence() -> None:
    alert = overdue_archiving_alert(case(days_overdue=1), 90, NOW)

    assert alert.kind is AlertKind.OVERDUE_ARCHIVING
    assert alert.severity is Severity.WARNING
    assert alert.subject == CASE_91
    assert CASE_91 in alert.message and "已逾期 1 日未归档" in alert.message
    assert "结案后 90 日内（最迟 2025-06-09）" in alert.message
    assert alert.evidence_link == ARCHIVING_EVIDENCE == "edossier cases overdue --json"
    assert alert.details["days_overdue"] == "1"


def test_overdue_archiving_dedupe_key_is_the_same_on_the_next_days_recheck() -> None:
    today = overdue_archiving_alert(case(days_overdue=1), 90, NOW)
    tomorrow = overdue_archiving_alert(case(days_overdue=2), 90, NOW + DAY)

    assert today.dedupe_key == tomorrow.dedupe_key == f"overdue_archiving:{CASE_91}"
    assert today.message != tomorrow.message


def test_overdue_archiving_alerts_one_per_case_in_ledger_order() -> None:
    alerts = overdue_archiving_alerts([case(CASE_91, 5), case(CASE_90, 1)], 90, NOW)

    assert [a.subject for a in alerts] == [CASE_91, CASE_90]
    assert len({a.dedupe_key for a in alerts}) == 2


# ---------------------------------------------------------------- which objects are late (pure)
def test_never_verified_object_is_late_only_a_full_period_after_storage() -> None:
    stored = {blob_key(1): NOW - 364 * DAY, blob_key(2): NOW - 366 * DAY}

    found = overdue_objects(coverage_of(stored, {}, NOW), stored, NOW, YEAR)

    assert [(o.key, o.days_overdue, o.last_verified) for o in found] == [(blob_key(2), 1, None)]


def test_verified_object_is_late_a_period_after_its_last_verification_most_overdue_first() -> None:
    stored = {blob_key(n): NOW - 800 * DAY for n in (1, 2, 3)}
    last_ok = {blob_key(1): NOW - 10 * DAY, blob_key(2): NOW - 400 * DAY, blob_key(3): NOW - 370 * DAY}

    found = overdue_objects(coverage_of(stored, last_ok, NOW, YEAR), stored, NOW, YEAR)

    assert [(o.key, o.days_overdue) for o in found] == [(blob_key(2), 35), (blob_key(3), 5)]
    assert found[0].deadline == NOW - 35 * DAY


def test_never_verified_object_with_unknown_storage_time_is_not_late() -> None:
    found = overdue_objects(coverage_of([blob_key(1)], {}, NOW), {}, NOW, YEAR)

    assert found == []


def test_overdue_objects_rejects_naive_now_and_non_positive_age() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        overdue_objects([], {}, NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="max_age"):
        overdue_objects([], {}, NOW, dt.timedelta(0))


# ---------------------------------------------------------------- audit alerts (pure)
def test_overdue_audit_alert_names_object_key_days_and_coverage_command() -> None:
    alert = overdue_audit_alert(late(blob_key(1), 35, NOW - 400 * DAY), 365, NOW)

    assert alert.kind is AlertKind.OVERDUE_AUDIT
    assert alert.subject == blob_key(1)
    assert blob_key(1) in alert.message and "已逾期 35 日" in alert.message
    assert "最近一次核验于 2024-05-06" in alert.message
    assert alert.evidence_link == "edossier audit coverage --max-age-days 365"
    assert alert.dedupe_key == f"overdue_audit:fixity:{blob_key(1)}"


def test_never_verified_object_alert_says_so() -> None:
    assert "归档以来从未核验" in overdue_audit_alert(late(blob_key(1), 3), 365, NOW).message


def test_objects_beyond_the_limit_roll_up_into_one_alert_with_count_and_worst_delay() -> None:
    objects = [late(blob_key(n), 100 - n) for n in range(5)]

    alerts = overdue_audit_alerts(objects, 365, NOW, limit=2)

    assert [a.subject for a in alerts[:2]] == [blob_key(0), blob_key(1)]
    assert alerts[2].dedupe_key == OTHER_OBJECTS_KEY
    assert "另有 3 个对象" in alerts[2].message and "最长已逾期 98 日" in alerts[2].message
    assert len(overdue_audit_alerts(objects, 365, NOW, limit=5)) == 5
    assert [a.dedupe_key for a in overdue_audit_alerts(objects, 365, NOW, limit=0)] == [OTHER_OBJECTS_KEY]


def test_overdue_audit_alerts_reject_negative_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        overdue_audit_alerts([], 365, NOW, limit=-1)


# ---------------------------------------------------------------- the periodic check (catalog + channels)
MakeInst = Callable[..., Installation]


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_receiver() as box:
        yield box


@pytest.fixture
def make_inst(db_backend: str, fresh_database_url: Callable[..., str], tmp_path: Path) -> Iterator[MakeInst]:
    """``make_inst(alerts=AlertSettings(...), **settings)``: an initialised installation on a fresh database."""
    opened: list[Installation] = []

    def make(alerts: AlertSettings, **kw: Any) -> Installation:
        settings = Settings(
            data_dir=tmp_path / "data", database_url=fresh_database_url(db_backend), alerts=alerts, **kw
        )
        initialise(settings)
        inst = open_installation(settings)
        opened.append(inst)
        return inst

    yield make
    for inst in opened:
        inst.close()


def report_cases(inst: Installation, *numbers_and_days: tuple[str, int]) -> None:
    """Import closed cases (案号, days before TODAY) through the case ledger's own parser and import."""
    rows = "".join(f"{n},民事审判庭,张伟,{(TODAY - d * DAY).isoformat()}\n" for n, d in numbers_and_days)
    data = ("案号,承办部门,承办人,结案日期\n" + rows).encode("utf-8")
    parsed = parse_cases(data, name="cases.csv", today=TODAY, limits=Limits())
    assert parsed.ok, parsed.problems
    with inst.write_sessions() as session, session.begin():
        import_cases(session, parsed, source="cases.csv", now=NOW)


def store_blobs(inst: Installation, stored: dict[str, dt.datetime], verified: dict[str, dt.datetime]) -> None:
    """Catalogue blobs stored at the given times, and one audit run verifying some of them (fixity ok)."""
    with inst.write_sessions() as session, session.begin():
        for key, at in stored.items():
            digest = key.rsplit("/", 1)[1]
            session.add(Blob(sha256=digest, sm3=digest, size=1, store_key=key, created_at=at))
        if verified:
            session.add(
                AuditRun(
                    id="run-1", started_at=NOW - 20 * DAY, scope="fixity", status="passed", tool_version="t"
                )
            )
            session.flush()
            for key, at in verified.items():
                session.add(
                    AuditResult(run_id="run-1", object_key=key, check="fixity", outcome="ok", checked_at=at)
                )


def test_overdue_case_reaches_webhook_and_mail_with_its_case_number(
    make_inst: MakeInst, hook: Webhook, mailbox: Mailbox
) -> None:
    alerts = AlertSettings(
        log=False,
        webhooks=(hook.url,),
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_recipients=("archivist@court.example",),
    )
    inst = make_inst(alerts)
    report_cases(inst, (CASE_91, 91), (CASE_89, 89))

    summary = raise_overdue_alerts(inst, NOW)

    assert (summary.today, summary.deadline_days, summary.overdue_cases) == (TODAY, 90, 1)
    assert summary.delivery.sent == (f"overdue_archiving:{CASE_91}",)
    [alert] = hook.alerts()
    assert alert["kind"] == "overdue_archiving" and alert["subject"] == CASE_91
    assert CASE_91 in alert["message"] and alert["evidence_link"] == "edossier cases overdue --json"
    [mail] = mailbox.messages()
    assert CASE_91 in mail.get_content()
    assert "归档逾期" in str(mail["Subject"])


@pytest.mark.parametrize(("deadline_days", "alerted"), [(89, True), (91, False)])
def test_archiving_deadline_setting_decides_which_cases_alert(
    make_inst: MakeInst, hook: Webhook, deadline_days: int, alerted: bool
) -> None:
    inst = make_inst(AlertSettings(log=False, webhooks=(hook.url,)), archiving_deadline_days=deadline_days)
    report_cases(inst, (CASE_90, 90))

    summary = raise_overdue_alerts(inst, NOW)

    assert summary.deadline_days == deadline_days
    assert summary.overdue_cases == (1 if alerted else 0)
    assert [a["subject"] for a in hook.alerts()] == ([CASE_90] if alerted else [])
    if alerted:
        assert "结案后 89 日内" in hook.alerts()[0]["message"]
        assert "已逾期 1 日" in hook.alerts()[0]["message"]


def test_second_check_the_same_day_is_suppressed_and_the_next_day_sent_again(
    make_inst: MakeInst, hook: Webhook
) -> None:
    inst = make_inst(AlertSettings(log=False, webhooks=(hook.url,)))
    report_cases(inst, (CASE_91, 91))

    first = raise_overdue_alerts(inst, NOW)
    second = raise_overdue_alerts(inst, NOW + dt.timedelta(hours=3))
    next_day = raise_overdue_alerts(inst, NOW + DAY)

    key = f"overdue_archiving:{CASE_91}"
    assert (first.delivery.sent, second.delivery.sent, second.delivery.suppressed) == ((key,), (), (key,))
    assert next_day.delivery.sent == (key,)
    assert [a["message"].count("已逾期 1 日") for a in hook.alerts()] == [1, 0]
    assert "已逾期 2 日" in hook.alerts()[1]["message"]


def test_objects_past_their_fixity_deadline_alert_and_recently_stored_or_verified_do_not(
    make_inst: MakeInst, hook: Webhook
) -> None:
    inst = make_inst(AlertSettings(log=False, webhooks=(hook.url,)))
    store_blobs(
        inst,
        stored={blob_key(1): NOW - 400 * DAY, blob_key(2): NOW - 10 * DAY, blob_key(3): NOW - 400 * DAY},
        verified={blob_key(3): NOW - 10 * DAY},
    )

    summary = raise_overdue_alerts(inst, NOW)

    assert (summary.overdue_cases, summary.overdue_objects, summary.max_age_days) == (0, 1, 365)
    [alert] = hook.alerts()
    assert alert["kind"] == "overdue_audit" and alert["subject"] == blob_key(1)
    assert "已逾期 35 日" in alert["message"]
    assert alert["evidence_link"] == "edossier audit coverage --max-age-days 365"


def test_object_alerts_beyond_the_daily_threshold_arrive_as_one_roll_up(
    make_inst: MakeInst, hook: Webhook
) -> None:
    inst = make_inst(AlertSettings(log=False, webhooks=(hook.url,), daily_threshold=2))
    store_blobs(inst, stored={blob_key(n): NOW - (400 + n) * DAY for n in range(5)}, verified={})

    summary = raise_overdue_alerts(inst, NOW)

    assert summary.overdue_objects == 5
    assert summary.delivery.raised == 3
    assert [a["subject"] for a in hook.alerts()] == [blob_key(4), blob_key(3)]  # most overdue first
    assert summary.delivery.folded == (OTHER_OBJECTS_KEY,)  # the roll-up went to the daily summary


def test_unreachable_webhook_keeps_alerts_queued_and_never_raises(make_inst: MakeInst) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    inst = make_inst(AlertSettings(log=False, webhooks=(dead,)))
    report_cases(inst, (CASE_91, 91))

    summary = raise_overdue_alerts(inst, NOW)

    assert summary.overdue_cases == 1
    assert summary.delivery.sent == ()
    assert summary.delivery.pending == (f"overdue_archiving:{CASE_91}",)


def test_no_alert_channel_configured_is_reported_not_raised(make_inst: MakeInst) -> None:
    inst = make_inst(AlertSettings(log=False))
    report_cases(inst, (CASE_91, 91))

    summary = raise_overdue_alerts(inst, NOW)

    assert summary.overdue_cases == 1
    assert summary.delivery.error is not None and "at least one channel" in summary.delivery.error
    assert summary.as_dict()["alerts_sent"] == 0
