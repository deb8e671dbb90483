from __future__ import annotations

import datetime as dt

import pytest

from integrity.canonical import canonical_json
from integrity.events import EVENT_TYPES, dossier_archived, event, rfc3339

BEIJING = dt.timezone(dt.timedelta(hours=8))
SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4


def test_dossier_archived_builds_versioned_event_with_utc_time():
    ev = dossier_archived(
        "A2024-001",
        "（2024）京0105民初123号",
        SHA_A,
        SHA_B,
        dt.datetime(2024, 5, 1, 16, 30, tzinfo=BEIJING),
        12,
        3456,
    )
    assert ev == {
        "type": "dossier.archived",
        "v": 1,
        "archive_id": "A2024-001",
        "case_number": "（2024）京0105民初123号",
        "manifest_sha256": SHA_A,
        "package_digest": SHA_B,
        "archived_at": "2024-05-01T08:30:00Z",
        "document_count": 12,
        "total_bytes": 3456,
    }
    canonical_json(ev)


def test_dossier_archived_rejects_uppercase_digest():
    with pytest.raises(ValueError, match="manifest_sha256"):
        dossier_archived("A", "C", SHA_A.upper(), SHA_B, dt.datetime.now(dt.UTC), 1, 1)


def test_dossier_archived_rejects_short_package_digest():
    with pytest.raises(ValueError, match="package_digest"):
        dossier_archived("A", "C", SHA_A, "abc", dt.datetime.now(dt.UTC), 1, 1)


def test_dossier_archived_rejects_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        dossier_archived("A", "C", SHA_A, SHA_B, dt.datetime(2024, 1, 1), 1, 1)


def test_dossier_archived_rejects_negative_count():
    with pytest.raises(ValueError, match="documents=-1"):
        dossier_archived("A", "C", SHA_A, SHA_B, dt.datetime.now(dt.UTC), -1, 1)


def test_rfc3339_keeps_microseconds_only_when_present():
    assert rfc3339(dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)) == "2024-01-02T03:04:05.000006Z"
    assert rfc3339(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "2024-01-02T03:04:05Z"


@pytest.mark.parametrize("kind", sorted(EVENT_TYPES))
def test_event_accepts_every_known_type(kind):
    assert event(kind, archive_id="A")["type"] == kind


def test_event_rejects_unknown_type():
    with pytest.raises(ValueError, match=r"dossier\.deleted"):
        event("dossier.deleted", archive_id="A")


def test_event_rejects_reserved_field():
    with pytest.raises(ValueError, match="v"):
        event("key.rotated", v=2)


def test_event_rejects_float_field():
    with pytest.raises(TypeError, match="float"):
        event("audit.completed", pass_rate=0.5)


def test_event_converts_datetime_fields():
    ev = event("dossier.accessed", at=dt.datetime(2024, 1, 1, 8, tzinfo=BEIJING))
    assert ev["at"] == "2024-01-01T00:00:00Z"
