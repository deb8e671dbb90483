"""Alerts recorded in the catalog: one open row per dedupe key, acknowledgements, and never a failure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from archive.catalog.db import make_engine, session_factory
from integrity.alerts.catalog import (
    AlertAlreadyAcknowledged,
    AlertNotFound,
    RecordingDispatcher,
    acknowledge_alert,
    list_alerts,
    record_alerts,
)
from integrity.alerts.dispatcher import AlertDispatcher
from integrity.alerts.factory import dispatcher_from_settings
from integrity.alerts.model import Alert, AlertKind
from integrity.alerts.settings import AlertSettings

NOW = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


def _alert(subject: str, kind: AlertKind = AlertKind.INCIDENT, minutes: int = 0) -> Alert:
    return Alert.create(
        kind, subject, f"问题 {subject}", now=NOW + dt.timedelta(minutes=minutes), details={"run_id": "r1"}
    )


def test_a_repeat_of_an_open_alert_is_not_recorded_again_until_acknowledged(db_session: Session) -> None:
    first = record_alerts(db_session, [_alert("blobs/a"), _alert("blobs/a", minutes=1), _alert("blobs/b")])
    assert len(first) == 2
    assert record_alerts(db_session, [_alert("blobs/a", minutes=5)]) == []

    acknowledged = acknowledge_alert(db_session, first[0], "0123456789abcdef", NOW)
    assert acknowledged.acknowledged_by == "0123456789abcdef" and acknowledged.acknowledged_at == NOW
    assert len(record_alerts(db_session, [_alert("blobs/a", minutes=9)])) == 1

    total, rows = list_alerts(db_session, acknowledged=False)
    assert total == 2 and [r.subject for r in rows] == ["blobs/a", "blobs/b"]  # newest first
    assert list_alerts(db_session, acknowledged=True)[0] == 1
    assert list_alerts(db_session, kind="overdue_audit") == (0, [])


def test_acknowledging_twice_or_an_unknown_alert_is_refused(db_session: Session) -> None:
    [alert_id] = record_alerts(db_session, [_alert("blobs/a")])
    acknowledge_alert(db_session, alert_id, "first", NOW)
    with pytest.raises(AlertAlreadyAcknowledged, match="by first"):
        acknowledge_alert(db_session, alert_id, "second", NOW)
    with pytest.raises(AlertNotFound):
        acknowledge_alert(db_session, alert_id + 1, "first", NOW)


def test_the_factory_records_only_when_given_a_session_factory(
    tmp_path: Path, fresh_database_url: Callable[..., str]
) -> None:
    engine = make_engine(fresh_database_url("sqlite"))
    try:
        sessions = session_factory(engine, write=True)
        plain = dispatcher_from_settings(AlertSettings(), tmp_path)
        assert type(plain) is AlertDispatcher
        recording = dispatcher_from_settings(AlertSettings(), tmp_path, sessions=sessions)
        assert isinstance(recording, RecordingDispatcher)

        recording.raise_alerts([_alert("blobs/a")])
        assert recording.flush().sent
        with sessions() as session:
            assert [r.subject for r in list_alerts(session)[1]] == ["blobs/a"]
    finally:
        engine.dispose()


def test_a_catalog_that_cannot_record_never_stops_the_alert(
    tmp_path: Path, fresh_database_url: Callable[..., str]
) -> None:
    engine = make_engine(fresh_database_url("sqlite", migrated=False))  # no tables: every insert fails
    try:
        dispatcher = dispatcher_from_settings(AlertSettings(), tmp_path, sessions=session_factory(engine))
        dispatcher.raise_alerts([_alert("blobs/a")])
        assert [a.subject for a in dispatcher.pending()] == ["blobs/a"]
        assert [d.ok for d in dispatcher.flush().deliveries] == [True]
    finally:
        engine.dispose()
