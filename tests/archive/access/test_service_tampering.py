"""Tampered, missing and unreachable objects: the stream stops before its last chunk and an alert goes out.

Real ingest of the sample (see conftest.py); the webhook is a real loopback HTTP receiver.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import pytest

from archive.access.errors import AccessDigestMismatch
from archive.access.service import open_document, report_mismatch
from archive.stores import ObjectNotFound, StoreUnavailable
from integrity.ledger.store import LedgerStore
from tests.archive.access.access_helpers import BIG, CHUNK, NOW, SMALL, Archived, consume
from tests.support.s3 import free_port, make_s3_store


# ---------------------------------------------------------------- tampered objects
def test_tampered_object_fails_before_the_last_chunk_and_an_incident_reaches_the_webhook(
    anywhere: Archived,
) -> None:
    good = anywhere.original(SMALL)
    bad = good[:-1] + bytes([good[-1] ^ 0x01])
    anywhere.tamper(SMALL, bad)
    opened = open_document(
        anywhere.inst,
        anywhere.archive_id,
        SMALL,
        actor="a",
        role="archivist",
        purpose=None,
        now=NOW,
        chunk_size=CHUNK,
    )
    received: list[bytes] = []

    with pytest.raises(AccessDigestMismatch) as caught:
        consume(opened.chunks, received)

    assert len(received) >= 2 and good.startswith(b"".join(received))
    assert len(b"".join(received)) < len(good)  # the client never got the whole (wrong) file
    error = caught.value
    assert (error.expected_sha256, error.expected_size) == (opened.document.sha256, len(good))
    assert error.found_size == len(good) and error.found_sha256 != error.expected_sha256

    report_mismatch(anywhere.inst, anywhere.archive_id, opened.document.store_key, error, now=NOW)

    [alert] = anywhere.hook.alerts()
    assert alert["kind"] == "incident" and alert["severity"] == "critical"
    assert alert["subject"] == opened.document.store_key and anywhere.archive_id in alert["message"]
    assert "摘要或大小不符" in alert["message"]
    assert alert["details"]["expected_sha256"] == opened.document.sha256
    assert alert["details"]["found_sha256"] == error.found_sha256
    assert len(anywhere.leaves()) == 1  # the attempt stays on record


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: bytes([b[0] ^ 1]) + b[1:], id="flip-first-byte"),
        pytest.param(
            lambda b: b[: len(b) // 2] + bytes([b[len(b) // 2] ^ 1]) + b[len(b) // 2 + 1 :], id="flip-middle"
        ),
        pytest.param(lambda b: b[:-100], id="truncated"),
        pytest.param(lambda b: b + b"%%EOF\n", id="extended"),
    ],
)
def test_any_tampering_of_the_stored_object_stops_the_stream(
    archived: Archived, mutate: Callable[[bytes], bytes]
) -> None:
    good = archived.original(BIG)
    archived.tamper(BIG, mutate(good))
    opened = open_document(
        archived.inst, archived.archive_id, BIG, actor="a", role="admin", purpose=None, now=NOW
    )
    received: list[bytes] = []

    with pytest.raises(AccessDigestMismatch):
        consume(opened.chunks, received)

    assert sum(map(len, received)) < len(good)


def test_deleted_object_raises_object_not_found_before_logging_and_is_an_incident(archived: Archived) -> None:
    info = archived.doc(SMALL)
    archived.inst.settings.store_dir.joinpath(*info.store_key.split("/")).unlink()
    leaves = _leaf_count(archived)

    with pytest.raises(ObjectNotFound):
        open_document(archived.inst, archived.archive_id, SMALL, actor="a", role="admin", purpose=None, now=NOW)

    assert _leaf_count(archived) == leaves  # nothing was served: no dossier.accessed
    [alert] = archived.hook.alerts()
    assert alert["kind"] == "incident" and "存储对象缺失" in alert["message"]


def test_store_outage_is_an_unreachable_alert_not_an_incident(archived: Archived) -> None:
    down = make_s3_store(f"127.0.0.1:{free_port()}", "edossier-down", retries=0, timeout_s=1)
    inst = dataclasses.replace(archived.inst, store=down)
    leaves = _leaf_count(archived)

    with pytest.raises(StoreUnavailable):
        open_document(inst, archived.archive_id, SMALL, actor="a", role="admin", purpose=None, now=NOW)

    assert _leaf_count(archived) == leaves
    [alert] = archived.hook.alerts()
    assert alert["kind"] == "unreachable" and "不构成篡改" in alert["message"]


def test_report_mismatch_never_raises(archived: Archived, caplog: pytest.LogCaptureFixture) -> None:
    error = AccessDigestMismatch(
        "x", expected_sha256="a" * 64, found_sha256="b" * 64, expected_size=1, found_size=1
    )

    with caplog.at_level(logging.ERROR, logger="archive.access.service"):
        report_mismatch(
            archived.inst, archived.archive_id, "", error, now=NOW
        )  # an empty key cannot be alerted

    assert "raising the alert" in caplog.text and archived.hook.alerts() == []


def _leaf_count(archived: Archived) -> int:
    with archived.inst.sessions() as session:
        return LedgerStore().head(session).size
