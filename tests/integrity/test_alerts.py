"""integrity.alerts: dedupe, flood folding, daily summary, log/webhook/SMTP channels, persisted state."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from integrity.alerts.channels import (
    ChannelRejected,
    ChannelUnreachable,
    DeliveryFailed,
    LogChannel,
    SmtpChannel,
    WebhookChannel,
)
from integrity.alerts.dedupe import Summary, fold_flood, plan_delivery, summarise
from integrity.alerts.dispatcher import AlertDispatcher
from integrity.alerts.factory import channels_from_settings, dispatcher_from_settings, state_path
from integrity.alerts.model import Alert, AlertKind, Severity, evidence_link
from integrity.alerts.settings import AlertSettings
from integrity.alerts.state import AlertState, AlertStateCorrupt, JsonStateStore
from standards.errors import StorageError, StorageUnavailable
from tests.support.s3 import free_port

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 2025-03-04
DAY = date(2025, 3, 4)


def incident(subject: str = "A-2025-0001", at: datetime = T0) -> Alert:
    return Alert.create(
        AlertKind.INCIDENT,
        subject,
        "摘要不一致：期望 sha256 ab12…，实际 cd34…",
        now=at,
        details={"key": f"blobs/sha256/ab/12/{'ab12' * 16}"},
    )


def overdue(case_number: str, at: datetime = T0) -> Alert:
    return Alert.create(AlertKind.OVERDUE_ARCHIVING, case_number, "结案后 90 日仍未归档", now=at)


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RecordingChannel:
    """A fake channel that keeps what it was given (and can be told to fail)."""

    name: str = "recording"
    fail: bool = False
    alerts: list[Alert] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)

    def send_alert(self, alert: Alert) -> None:
        if self.fail:
            raise ChannelUnreachable(f"{self.name}: down")
        self.alerts.append(alert)

    def send_summary(self, summary: Summary) -> None:
        if self.fail:
            raise ChannelUnreachable(f"{self.name}: down")
        self.summaries.append(summary)


def make_dispatcher(
    tmp_path: Path, *channels: Any, clock: FakeClock | None = None, **kw: Any
) -> AlertDispatcher:
    return AlertDispatcher(
        list(channels), JsonStateStore(tmp_path / "alerts" / "state.json"), clock or FakeClock(), **kw
    )


# ---------------------------------------------------------------- loopback receivers
class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[Message, bytes]]
    status: int = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers, body))
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
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/edossier", handler
    finally:
        server.shutdown()
        server.server_close()


class MailSink:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for _, _, raw in self.envelopes
        ]


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, MailSink]]:
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, sink
    finally:
        controller.stop()


def smtp_channel(port: int, **kw: Any) -> SmtpChannel:
    return SmtpChannel(
        "127.0.0.1",
        port,
        sender="edossier@court.example",
        recipients=["档案室 <archivist@court.example>"],
        **kw,
    )


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/nobody-listens"


# ---------------------------------------------------------------- model
def test_alert_create_fills_chinese_title_severity_dedupe_key_and_cli_evidence_link():
    alert = incident("A-7")
    assert (alert.title, alert.severity, alert.dedupe_key) == (
        "完整性事件",
        Severity.CRITICAL,
        "incident:A-7",
    )
    assert alert.evidence_link == "edossier report A-7"
    assert Alert.from_json(json.loads(json.dumps(alert.to_json()))) == alert


def test_alert_rejects_naive_time_and_empty_subject():
    with pytest.raises(ValueError, match="timezone-aware"):
        Alert.create("incident", "A-1", "x", now=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="subject"):
        Alert.create("incident", "", "x", now=T0)


def test_evidence_link_template_quotes_case_number_into_url():
    assert evidence_link("(2024)京01民初1号", "https://a.example/ui/cases/{subject}") == (
        "https://a.example/ui/cases/%282024%29%E4%BA%AC01%E6%B0%91%E5%88%9D1%E5%8F%B7"
    )


# ---------------------------------------------------------------- pure decisions
def test_plan_delivery_suppresses_key_sent_within_window_and_passes_it_after():
    window = timedelta(hours=24)
    sent = {"incident:A-1": T0 - timedelta(hours=23)}
    to_send, suppressed = plan_delivery([incident("A-1"), incident("A-2")], sent, T0, window)
    assert [a.subject for a in to_send] == ["A-2"]
    assert [a.subject for a in suppressed] == ["A-1"]
    to_send, suppressed = plan_delivery([incident("A-1")], sent, T0 + timedelta(hours=1), window)
    assert [a.subject for a in to_send] == ["A-1"] and suppressed == []


def test_plan_delivery_suppresses_repeat_within_one_batch():
    to_send, suppressed = plan_delivery([incident("A-1"), incident("A-1")], {}, T0, timedelta(hours=1))
    assert len(to_send) == 1 and len(suppressed) == 1


def test_plan_delivery_rejects_non_positive_window():
    with pytest.raises(ValueError, match="window"):
        plan_delivery([], {}, T0, timedelta(0))


def test_fold_flood_sends_worst_first_and_folds_the_rest():
    alerts = [overdue(f"(2025)京01民初{i}号") for i in range(5)] + [incident("A-9")]
    individual, folded = fold_flood(alerts, sent_today=1, threshold=3)
    assert [a.kind for a in individual] == [AlertKind.INCIDENT, AlertKind.OVERDUE_ARCHIVING]
    assert len(folded) == 4


def test_summarise_counts_per_kind_with_top_subjects_on_the_local_day():
    late_utc = datetime(2025, 3, 3, 17, 30, tzinfo=UTC)  # 01:30 on 2025-03-04 in Shanghai
    alerts = [incident("A-1"), incident("A-1", late_utc), incident("A-2"), overdue("(2025)京01民初3号")]
    alerts.append(incident("A-3", datetime(2025, 3, 5, 2, 0, tzinfo=UTC)))  # another day: ignored
    summary = summarise(alerts, DAY, tz=SHANGHAI, top_n=1, folded=2, suppressed=1)
    assert summary.total == 4
    first, second = summary.by_kind
    assert (first.kind, first.count, first.worst) == (AlertKind.INCIDENT, 3, Severity.CRITICAL)
    assert [(s.subject, s.count, s.evidence_link) for s in first.top_subjects] == [
        ("A-1", 2, "edossier report A-1")
    ]
    assert (second.kind, second.count) == (AlertKind.OVERDUE_ARCHIVING, 1)
    assert summary.to_json()["worst"] == "critical"
    assert summarise(alerts, DAY, tz=UTC).total == 3  # in UTC the 17:30 alert is on 2025-03-03


# ---------------------------------------------------------------- dispatcher
def test_dispatcher_suppresses_repeat_within_window_and_sends_it_again_after(tmp_path):
    channel, clock = RecordingChannel(), FakeClock()
    dispatcher = make_dispatcher(tmp_path, channel, clock=clock, window=timedelta(hours=24))
    dispatcher.raise_alert(incident("A-1"))
    assert dispatcher.flush().sent
    clock.now = T0 + timedelta(hours=2)
    dispatcher.raise_alert(incident("A-1", clock.now))
    report = dispatcher.flush()
    assert report.suppressed == ("incident:A-1",) and report.deliveries == ()
    clock.now = T0 + timedelta(hours=25)
    dispatcher.raise_alert(incident("A-1", clock.now))
    assert [d.dedupe_key for d in dispatcher.flush().sent] == ["incident:A-1"]
    assert len(channel.alerts) == 2


def test_flood_beyond_daily_threshold_is_folded_into_one_summary(tmp_path):
    channel = RecordingChannel()
    dispatcher = make_dispatcher(tmp_path, channel, daily_threshold=3)
    dispatcher.raise_alerts([overdue(f"(2025)京01民初{i}号") for i in range(30)] + [incident("A-1")])
    report = dispatcher.flush()
    assert len(channel.alerts) == 3
    assert channel.alerts[0].kind == AlertKind.INCIDENT  # never folded behind warnings
    assert len(report.folded) == 28 and report.pending == ()

    dispatcher.raise_alert(overdue("(2025)京01民初99号"))  # threshold already reached today
    assert dispatcher.flush().folded == ("overdue_archiving:(2025)京01民初99号",)

    summary_report = dispatcher.send_daily_summary(DAY)
    assert len(channel.summaries) == 1
    summary = channel.summaries[0]
    assert (summary.total, summary.folded) == (32, 29)
    assert {k.kind: k.count for k in summary.by_kind} == {
        AlertKind.INCIDENT: 1,
        AlertKind.OVERDUE_ARCHIVING: 31,
    }
    assert summary_report.summary == summary
    dispatcher.send_daily_summary(DAY)
    assert len(channel.summaries) == 1  # once per channel and day


def test_daily_summary_of_a_quiet_day_sends_nothing_unless_asked(tmp_path):
    channel = RecordingChannel()
    dispatcher = make_dispatcher(tmp_path, channel)
    assert dispatcher.send_daily_summary(DAY).deliveries == ()
    report = dispatcher.send_daily_summary(DAY, send_empty=True)
    assert [d.ok for d in report.deliveries] == [True] and channel.summaries[0].is_empty


def test_alert_no_channel_took_stays_queued_and_goes_out_on_next_flush(tmp_path):
    channel = RecordingChannel(fail=True)
    dispatcher = make_dispatcher(tmp_path, channel)
    dispatcher.raise_alert(incident("A-1"))
    report = dispatcher.flush()
    assert report.pending == ("incident:A-1",)
    assert [(f.channel, f.error_code) for f in report.failures] == [
        ("recording", "alert_channel_unreachable")
    ]
    channel.fail = False
    assert dispatcher.flush().pending == ()
    assert [a.subject for a in channel.alerts] == ["A-1"]
    assert dispatcher.pending() == []


def test_summary_goes_again_only_to_the_channel_that_failed(tmp_path):
    good, flaky = RecordingChannel("good"), RecordingChannel("flaky")
    dispatcher = make_dispatcher(tmp_path, good, flaky)
    dispatcher.raise_alert(incident("A-1"))
    flaky.fail = True
    report = dispatcher.send_daily_summary(DAY)
    assert {(d.channel, d.dedupe_key, d.ok) for d in report.deliveries} == {
        ("good", "incident:A-1", True),
        ("flaky", "incident:A-1", False),
        ("good", None, True),
        ("flaky", None, False),
    }
    flaky.fail = False
    dispatcher.send_daily_summary(DAY)
    assert (len(good.summaries), len(flaky.summaries)) == (1, 1)
    assert flaky.alerts == []  # the alert itself reached "good"; "flaky" sees it in the summary


def test_state_survives_a_new_dispatcher_instance(tmp_path):
    first = make_dispatcher(tmp_path, RecordingChannel(), daily_threshold=1)
    first.raise_alerts([incident("A-1"), overdue("(2025)京01民初1号")])
    first.flush()
    first.raise_alert(incident("A-2"))  # queued, not yet flushed

    channel = RecordingChannel()
    second = make_dispatcher(tmp_path, channel, clock=FakeClock(T0 + timedelta(hours=1)), daily_threshold=1)
    second.raise_alert(incident("A-1", T0 + timedelta(hours=1)))
    report = second.flush()
    assert "incident:A-1" in report.suppressed  # remembered from the first instance
    assert report.folded == ("incident:A-2",)  # the threshold count is remembered too
    second.send_daily_summary(DAY)
    assert channel.summaries[0].total == 3
    assert sorted(p.name for p in (tmp_path / "alerts").iterdir()) == ["state.json", "state.json.lock"]


def test_corrupt_state_file_is_moved_aside_and_alerting_continues(tmp_path):
    path = tmp_path / "alerts" / "state.json"
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(AlertStateCorrupt):
        JsonStateStore(path).load()
    channel = RecordingChannel()
    dispatcher = make_dispatcher(tmp_path, channel)
    dispatcher.raise_alert(incident("A-1"))
    assert dispatcher.flush().sent
    assert (tmp_path / "alerts" / "state.json.corrupt-1").read_text(encoding="utf-8") == "{not json"


def test_state_of_another_version_is_reported_corrupt(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"version": 99}', encoding="utf-8")
    with pytest.raises(AlertStateCorrupt, match="expected 1, found 99"):
        JsonStateStore(path).load()


def test_dispatcher_rejects_duplicate_channel_names_and_no_channels(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        make_dispatcher(tmp_path, RecordingChannel(), RecordingChannel())
    with pytest.raises(ValueError, match="at least one channel"):
        make_dispatcher(tmp_path)


def test_a_channel_raising_an_unexpected_error_does_not_block_the_others(tmp_path):
    class Broken(RecordingChannel):
        def send_alert(self, alert: Alert) -> None:
            raise RuntimeError("bug")

    good = RecordingChannel("good")
    dispatcher = make_dispatcher(tmp_path, Broken("broken"), good)
    dispatcher.raise_alert(incident())
    report = dispatcher.flush()
    assert [(f.channel, f.error_code) for f in report.failures] == [("broken", "alert_channel_error")]
    assert len(good.alerts) == 1


# ---------------------------------------------------------------- channels
def test_log_channel_logs_critical_alert_at_error_with_evidence_link(caplog):
    caplog.set_level(logging.INFO, logger="edossier.alerts")
    LogChannel().send_alert(incident("A-1"))
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "完整性事件" in record.getMessage() and "edossier report A-1" in record.getMessage()


def test_webhook_receives_alert_as_utf8_json(webhook):
    url, handler = webhook
    WebhookChannel(url).send_alert(incident("A-1"))
    ((headers, body),) = handler.received
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Edossier-Event"] == "alert"
    assert "完整性事件".encode() in body  # not \u-escaped
    payload = json.loads(body)
    assert payload["type"] == "alert"
    assert payload["alert"]["subject"] == "A-1"
    assert payload["alert"]["evidence_link"] == "edossier report A-1"
    assert payload["alert"]["created_at"] == "2025-03-04T02:00:00+00:00"


def test_webhook_receives_daily_summary_as_json(webhook):
    url, handler = webhook
    WebhookChannel(url).send_summary(summarise([incident("A-1")], DAY, tz=SHANGHAI))
    ((headers, body),) = handler.received
    payload = json.loads(body)
    assert headers["X-Edossier-Event"] == "daily_summary"
    assert payload["summary"]["by_kind"][0]["top_subjects"][0]["evidence_link"] == "edossier report A-1"


def test_webhook_non_2xx_answer_is_channel_rejected(webhook):
    url, handler = webhook
    handler.status = 500
    with pytest.raises(ChannelRejected, match="expected a 2xx answer, found 500"):
        WebhookChannel(url).send_alert(incident())


def test_dead_webhook_is_channel_unreachable_an_outage():
    with pytest.raises(ChannelUnreachable) as info:
        WebhookChannel(dead_url(), timeout_s=2).send_alert(incident())
    assert isinstance(info.value, DeliveryFailed) and isinstance(info.value, StorageUnavailable)


def test_webhook_rejects_non_http_url():
    with pytest.raises(ValueError, match="http or https"):
        WebhookChannel("file:///etc/passwd")


def test_smtp_server_receives_utf8_chinese_mail(smtp_server):
    port, sink = smtp_server
    smtp_channel(port).send_alert(incident("A-1"))
    ((mail_from, rcpt_tos, raw),) = sink.envelopes
    assert (mail_from, rcpt_tos) == ("edossier@court.example", ["archivist@court.example"])
    raw.decode("ascii")  # headers RFC 2047-encoded, body transfer-encoded: 7-bit safe on the wire
    (msg,) = sink.messages()
    assert msg["Subject"] == "[edossier][严重] 完整性事件：A-1"
    assert msg.get_content_charset() == "utf-8"
    body = msg.get_content()
    assert "摘要不一致" in body and "证据：edossier report A-1" in body


def test_smtp_daily_summary_mail_lists_counts_in_chinese(smtp_server):
    port, sink = smtp_server
    smtp_channel(port).send_summary(
        summarise([incident("A-1"), overdue("(2025)京01民初3号")], DAY, tz=SHANGHAI)
    )
    (msg,) = sink.messages()
    assert msg["Subject"] == "[edossier] 告警日报 2025-03-04：共 2 条（最高：严重）"
    assert "(2025)京01民初3号：1 次" in msg.get_content()


def test_smtp_unreachable_server_is_channel_unreachable():
    with pytest.raises(ChannelUnreachable, match="unreachable"):
        smtp_channel(free_port(), timeout_s=2).send_alert(incident())


def test_smtp_starttls_required_but_not_offered_is_rejected(smtp_server):
    port, sink = smtp_server
    with pytest.raises(ChannelRejected, match="STARTTLS"):
        smtp_channel(port, starttls=True).send_alert(incident())
    assert sink.envelopes == []


def test_dead_webhook_does_not_stop_the_email(tmp_path, smtp_server):
    port, sink = smtp_server
    dead = WebhookChannel(dead_url(), timeout_s=2)
    dispatcher = make_dispatcher(tmp_path, dead, smtp_channel(port))
    dispatcher.raise_alert(incident("A-1"))
    report = dispatcher.flush()
    assert [(f.channel, f.error_code) for f in report.failures] == [(dead.name, "alert_channel_unreachable")]
    assert [d.channel for d in report.sent] == [f"smtp:127.0.0.1:{port}"]
    assert report.pending == ()
    assert len(sink.envelopes) == 1


# ---------------------------------------------------------------- settings and factory
def test_alert_settings_require_recipients_with_smtp_host():
    with pytest.raises(ValueError, match="smtp_recipients"):
        AlertSettings(smtp_host="mail.court.example")


def test_alert_settings_reject_template_without_subject_and_unknown_zone():
    with pytest.raises(ValueError, match="subject"):
        AlertSettings(evidence_url_template="https://a.example/ui/reports")
    with pytest.raises(ValueError, match="IANA"):
        AlertSettings(timezone="Mars/Olympus")


def test_dispatcher_from_settings_builds_log_webhook_and_smtp_channels(tmp_path, webhook, smtp_server):
    url, handler = webhook
    port, sink = smtp_server
    settings = AlertSettings(
        webhooks=(url,),
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_recipients=("archivist@court.example",),
        evidence_url_template="https://archive.example/ui/reports/{subject}",
        daily_threshold=5,
    )
    assert [c.name for c in channels_from_settings(settings)] == [
        "log",
        f"webhook:{url}",
        f"smtp:127.0.0.1:{port}",
    ]
    dispatcher = dispatcher_from_settings(settings, tmp_path, clock=FakeClock())
    alert = Alert.create("incident", "A-1", "缺失对象", now=T0, evidence_link=settings.evidence_link("A-1"))
    dispatcher.raise_alert(alert)
    report = dispatcher.flush()
    assert len(report.sent) == 3 and report.failures == []
    assert (
        json.loads(handler.received[0][1])["alert"]["evidence_link"]
        == "https://archive.example/ui/reports/A-1"
    )
    assert state_path(tmp_path).is_file()
    assert len(sink.envelopes) == 1
    assert dispatcher.daily_threshold == 5 and dispatcher.window == timedelta(hours=24)


def test_state_store_write_failure_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    store = JsonStateStore(blocker / "alerts" / "state.json")
    with pytest.raises(StorageError, match="cannot be written"):
        store.save(AlertState())
