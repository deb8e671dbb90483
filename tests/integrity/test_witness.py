"""integrity.witness: checkpoints published to a directory, a second S3 bucket and a webhook."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from archive.settings import S3Settings, Settings
from integrity.checkpoint import format_checkpoint
from integrity.signed_note import Ed25519Signer, sign_note
from integrity.witness import (
    DirectorySink,
    PublishResult,
    S3Sink,
    WebhookSink,
    WitnessConflict,
    WitnessRejected,
    WitnessUnavailable,
    failures,
    publish_checkpoint,
    sinks_from_settings,
)
from tests.support.s3 import free_port

SIGNER = Ed25519Signer("court.example/ledger", bytes(range(32)))
ORIGIN = "court.example/ledger"


def note(size: int, root_byte: int = 1) -> str:
    return sign_note(format_checkpoint(ORIGIN, size, bytes([root_byte]) * 32), SIGNER)


# ---------------------------------------------------------------- a loopback webhook receiver
class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, Message, bytes]]
    status: int = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers, body))  # case-insensitive
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Handler", (Receiver,), {"received": [], "status": 204})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/checkpoints", handler
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- directory
def test_directory_sink_writes_size_named_file_with_exact_note(tmp_path):
    sink = DirectorySink(tmp_path)
    sink.publish(note(5), 5)
    assert (tmp_path / "5.checkpoint").read_text(encoding="utf-8") == note(5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["5.checkpoint"]  # no temp file left


def test_directory_sink_republishing_identical_note_is_a_no_op(tmp_path):
    sink = DirectorySink(tmp_path)
    sink.publish(note(5), 5)
    sink.publish(note(5), 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["5.checkpoint"]


def test_directory_sink_refuses_different_note_for_same_size_and_keeps_the_first(tmp_path):
    sink = DirectorySink(tmp_path)
    sink.publish(note(5, root_byte=1), 5)
    with pytest.raises(WitnessConflict, match=r"5\.checkpoint"):
        sink.publish(note(5, root_byte=2), 5)
    assert (tmp_path / "5.checkpoint").read_text(encoding="utf-8") == note(5, root_byte=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["5.checkpoint"]


def test_directory_sink_reports_missing_directory_as_unavailable(tmp_path):
    with pytest.raises(WitnessUnavailable):
        DirectorySink(tmp_path / "absent").publish(note(1), 1)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_directory_sink_reports_unwritable_directory_as_rejected(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(WitnessRejected):
            DirectorySink(tmp_path).publish(note(1), 1)
    finally:
        tmp_path.chmod(0o700)


# ---------------------------------------------------------------- webhook
def test_webhook_sink_posts_note_as_text_plain_with_size_and_digest(webhook):
    url, handler = webhook
    WebhookSink(url).publish(note(7), 7)
    [(path, headers, body)] = handler.received
    assert path == "/checkpoints"
    assert body == note(7).encode("utf-8")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["X-Checkpoint-Size"] == "7"
    assert headers["X-Checkpoint-SHA256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize(
    ("status", "error"), [(409, WitnessConflict), (500, WitnessRejected), (403, WitnessRejected)]
)
def test_webhook_sink_maps_error_statuses(webhook, status, error):
    url, handler = webhook
    handler.status = status
    with pytest.raises(error, match=str(status)):
        WebhookSink(url).publish(note(7), 7)


def test_webhook_sink_reports_refused_connection_as_unavailable():
    with pytest.raises(WitnessUnavailable):
        WebhookSink(f"http://127.0.0.1:{free_port()}/", timeout_s=1).publish(note(1), 1)


def test_webhook_sink_refuses_non_http_urls():
    with pytest.raises(ValueError, match="http"):
        WebhookSink("file:///etc/passwd")


# ---------------------------------------------------------------- S3
def _s3_sink(endpoint: str, bucket: str) -> S3Sink:
    settings = S3Settings(endpoint=endpoint, access_key="test", secret_key="test", bucket=bucket)
    return S3Sink(settings)


@pytest.mark.s3
def test_s3_sink_puts_checkpoint_object_once_and_refuses_a_different_one(s3_endpoint, unique_bucket):
    sink = _s3_sink(s3_endpoint, unique_bucket)
    sink.ensure_bucket()
    sink.publish(note(3), 3)
    sink.publish(note(3), 3)  # identical: no-op
    response = sink.store.client.get_object(unique_bucket, "checkpoints/3")
    try:
        assert response.read() == note(3).encode("utf-8")
        assert response.headers["Content-Type"].startswith("text/plain")
    finally:
        response.close()
        response.release_conn()
    with pytest.raises(WitnessConflict):
        sink.publish(note(3, root_byte=9), 3)


@pytest.mark.s3
def test_s3_sink_reports_missing_bucket_as_unavailable(s3_endpoint, unique_bucket):
    with pytest.raises(WitnessUnavailable):
        _s3_sink(s3_endpoint, unique_bucket).publish(note(3), 3)


# ---------------------------------------------------------------- publication
def test_publish_checkpoint_tries_every_sink_and_reports_each_failure(tmp_path, webhook):
    url, handler = webhook
    good, conflicting = tmp_path / "good", tmp_path / "conflict"
    good.mkdir()
    conflicting.mkdir()
    (conflicting / "4.checkpoint").write_text(note(4, root_byte=8), encoding="utf-8")
    sinks = [
        DirectorySink(conflicting),
        DirectorySink(tmp_path / "missing"),
        WebhookSink(f"http://127.0.0.1:{free_port()}/", timeout_s=1),
        DirectorySink(good),
        WebhookSink(url),
    ]
    results = publish_checkpoint(note(4), 4, sinks)
    assert [(r.sink, r.ok, r.error_code) for r in results] == [
        (f"dir:{conflicting}", False, "witness_conflict"),
        (f"dir:{tmp_path / 'missing'}", False, "witness_unavailable"),
        (sinks[2].name, False, "witness_unavailable"),
        (f"dir:{good}", True, None),
        (f"webhook:{url}", True, None),
    ]
    assert (good / "4.checkpoint").read_text(encoding="utf-8") == note(4)
    assert len(handler.received) == 1
    assert len(failures(results)) == 3


def test_publish_checkpoint_reports_unexpected_sink_errors_without_raising(tmp_path):
    class Broken:
        name = "broken"

        def publish(self, note: str, size: int) -> None:
            raise RuntimeError("boom")

    results = publish_checkpoint(note(2), 2, [Broken(), DirectorySink(tmp_path)])
    assert results == [
        PublishResult("broken", 2, False, "witness_error", "RuntimeError: boom"),
        PublishResult(f"dir:{tmp_path}", 2, True),
    ]


def test_publish_checkpoint_refuses_size_that_differs_from_the_note(tmp_path):
    with pytest.raises(ValueError, match="note states 4"):
        publish_checkpoint(note(4), 5, [DirectorySink(tmp_path)])


def test_sinks_from_settings_builds_configured_sinks(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        witness_dirs=(tmp_path / "w1", tmp_path / "w2"),
        witness_webhooks=("https://witness.example/cp",),
        witness_s3=S3Settings(bucket="witness"),
    )
    assert [s.name for s in sinks_from_settings(settings)] == [
        f"dir:{tmp_path / 'w1'}",
        f"dir:{tmp_path / 'w2'}",
        "s3:witness",
        "webhook:https://witness.example/cp",
    ]
    assert sinks_from_settings(Settings(data_dir=tmp_path)) == []


def test_directory_sink_target_is_size_dot_checkpoint():
    assert DirectorySink(Path("/w")).target(12) == Path("/w/12.checkpoint")
