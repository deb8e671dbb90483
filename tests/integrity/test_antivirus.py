"""Antivirus through a real clamd: the client (PING, VERSION, INSTREAM), the gatherer and the
DA/T 70 x-4-1 / x-4-2 checks.

Reply parsing runs on recorded replies (``tests/vectors/antivirus/clamd_replies.json``); everything
else talks to the clamd that ``tests.support.clamd`` starts with its EICAR-only signature database
(skipped when clamd is not installed, failing under CI=true).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.intake import open_package
from archive.settings import Settings
from integrity.antivirus.clamd import (
    ClamdClient,
    ScannerError,
    ScannerUnavailable,
    parse_address,
    parse_scan_reply,
    parse_version,
)
from integrity.checks.antivirus import check_antivirus_present, check_virus_scan, gather_antivirus_facts
from integrity.checks.model import CheckContext
from standards.errors import StorageUnavailable
from standards.limits import Limits
from standards.package import StagedFile, StagedPackage
from tests.support.clamd import HDB_SIGNATURE, NDB_SIGNATURE, TestClamd, eicar

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "antivirus" / "clamd_replies.json").read_text(encoding="utf-8")
)
NOW = dt.datetime(2025, 1, 10, 12, 0, tzinfo=dt.UTC)
POLICY = {"antivirus_max_signature_age_days": 7}


def pdf_with_eicar_in_the_middle() -> bytes:
    """A PDF-ish file with EICAR 300 KiB in (past the first INSTREAM read buffers, before the end)."""
    return (
        b"%PDF-1.7\n"
        + b"1 0 obj\n<< /Length 300000 >>\nstream\n"
        + b"\x00" * 300_000
        + eicar()
        + (b"\x11" * 300_000 + b"\nendstream\nendobj\n%%EOF\n")
    )


def dead_unix_address(tmp_path: Path) -> str:
    return f"unix:{tmp_path}/nobody-listens.sock"


def closed_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- pure parsing
@pytest.mark.parametrize("vector", VECTORS["scan"], ids=lambda v: v["name"])
def test_parse_scan_reply_classifies_recorded_replies(vector: dict[str, Any]) -> None:
    result = parse_scan_reply(vector["reply"])
    assert (result.status, result.signature) == (vector["status"], vector["signature"])


@pytest.mark.parametrize("vector", VECTORS["version"], ids=lambda v: v["name"])
def test_parse_version_reads_engine_database_version_and_date(vector: dict[str, Any]) -> None:
    version = parse_version(vector["reply"])
    assert version.engine == vector["engine"]
    assert version.database_version == vector["database_version"]
    found = version.database_date.isoformat() if version.database_date else None
    assert found == vector["database_date"]


@pytest.mark.parametrize("vector", VECTORS["version_invalid"], ids=lambda v: v["name"])
def test_parse_version_rejects_what_is_not_a_clamav_version(vector: dict[str, Any]) -> None:
    with pytest.raises(ScannerError):
        parse_version(vector["reply"])


def test_signature_age_is_days_since_the_database_date_in_clamds_zone() -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    version = parse_version("ClamAV 1.4.6/27500/Tue Jan  7 20:00:00 2025", tz=shanghai)
    assert version.signature_age_days(NOW) == pytest.approx(3.0)  # 2025-01-07T12:00Z → 2025-01-10T12:00Z
    assert parse_version("ClamAV 1.4.6").signature_age_days(NOW) is None
    with pytest.raises(ValueError, match="naive"):
        version.signature_age_days(NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("text", "kind", "where"),
    [
        ("unix:/run/clamav/clamd.ctl", "unix", "/run/clamav/clamd.ctl"),
        ("tcp:127.0.0.1:3310", "tcp", ("127.0.0.1", 3310)),
        ("tcp:clamav.internal:3310", "tcp", ("clamav.internal", 3310)),
        ("tcp:[::1]:3310", "tcp", ("::1", 3310)),
    ],
)
def test_parse_address_reads_unix_and_tcp_forms(text: str, kind: str, where: Any) -> None:
    address = parse_address(text)
    assert address.kind == kind
    assert (address.path if kind == "unix" else (address.host, address.port)) == where
    assert str(address) == text


@pytest.mark.parametrize(
    "text", ["", "/run/clamd.ctl", "unix:", "tcp:host", "tcp:host:0", "tcp:host:99999", "http://x"]
)
def test_parse_address_rejects_malformed_addresses(text: str) -> None:
    with pytest.raises(ValueError, match="clamd_address"):
        parse_address(text)


# ---------------------------------------------------------------- the client against a real clamd
def test_clamd_answers_ping_and_version_without_a_database_date(clamd: TestClamd) -> None:
    client = ClamdClient(clamd.address, timeout_s=5)
    client.ping()
    version = client.version()
    assert version.engine.startswith("ClamAV ")
    assert version.database_date is None  # only the fixture's custom signatures are loaded


@pytest.mark.parametrize("which", ["address", "tcp_address"])
def test_instream_catches_plain_eicar_over_unix_and_tcp(clamd: TestClamd, which: str) -> None:
    result = ClamdClient(getattr(clamd, which), timeout_s=5).scan_bytes(eicar())
    assert result.status == "infected"
    assert result.signature is not None
    assert result.signature.startswith((HDB_SIGNATURE, NDB_SIGNATURE))


def test_instream_catches_eicar_in_the_middle_of_a_pdf_across_chunks(clamd: TestClamd) -> None:
    client = ClamdClient(clamd.address, timeout_s=5, chunk_size=64 * 1024)  # EICAR arrives in chunk 5
    result = client.scan_bytes(pdf_with_eicar_in_the_middle())
    assert result.status == "infected"
    assert result.signature is not None
    assert result.signature.startswith(NDB_SIGNATURE)


def test_instream_reports_clean_files_clean(clamd: TestClamd, tmp_path: Path) -> None:
    clean = tmp_path / "clean.pdf"
    clean.write_bytes(b"%PDF-1.7\n" + b"plain text " * 50_000 + b"\n%%EOF\n")  # 550 KB, 1 chunk
    client = ClamdClient(clamd.address, timeout_s=5)
    assert client.scan_file(clean).status == "clean"
    assert client.scan_bytes(b"").status == "clean"


def test_file_over_max_file_size_is_too_large_not_clean(clamd: TestClamd) -> None:
    size = clamd.max_file_bytes + 200_000  # under StreamMaxLength: clamd reads it, then alerts on its limit
    result = ClamdClient(clamd.address, timeout_s=5).scan_bytes(b"a" * size)
    assert result.status == "too_large"
    assert result.signature == "Heuristics.Limits.Exceeded.MaxFileSize"


@pytest.mark.parametrize("which", ["address", "tcp_address"])
def test_file_over_stream_max_length_is_too_large_not_clean(
    clamd: TestClamd, which: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00" * (clamd.stream_max_bytes + 3 * 1024 * 1024))  # clamd stops reading mid-stream
    result = ClamdClient(getattr(clamd, which), timeout_s=5).scan_file(big)
    assert result.status in ("too_large", "error")  # never clean; over TCP a reset may eat the answer
    if which == "address":
        assert result.status == "too_large"
        assert "size limit exceeded" in result.detail


def test_scanner_down_is_unavailable_fast(tmp_path: Path) -> None:
    for address in (dead_unix_address(tmp_path), f"tcp:127.0.0.1:{closed_tcp_port()}"):
        client = ClamdClient(address, timeout_s=5)
        started = time.monotonic()
        with pytest.raises(ScannerUnavailable, match="cannot connect") as caught:
            client.ping()
        assert time.monotonic() - started < 1.0
        assert isinstance(caught.value, StorageUnavailable)  # an outage, in the storage family


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP listener that accepts and never answers (a hung clamd)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    yield f"tcp:127.0.0.1:{listener.getsockname()[1]}"
    thread.join(timeout=1)
    for conn in accepted:
        conn.close()
    listener.close()


def test_scanner_that_does_not_answer_times_out_as_unavailable(silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScannerUnavailable, match=r"within 0\.2 s"):
        ClamdClient(silent_server, timeout_s=0.2).version()
    assert time.monotonic() - started < 2.0


# ---------------------------------------------------------------- gatherer + checks on a staged package
@pytest.fixture
def staged(tmp_path: Path) -> StagedPackage:
    source = tmp_path / "（2024）京0105民初123号"
    (source / "正卷").mkdir(parents=True)
    (source / "说明文件.xml").write_text("<说明文件/>", encoding="utf-8")  # keeps 正卷/ in the paths
    (source / "正卷" / "0001-起诉状.pdf").write_bytes(b"%PDF-1.7\n" + "起诉状".encode() * 1000 + b"\n%%EOF\n")
    (source / "正卷" / "0002-证据.pdf").write_bytes(pdf_with_eicar_in_the_middle())
    (source / "正卷" / "0003-录像.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 1_300_000)
    return open_package(source, tmp_path / "staging", limits=Limits())


def settings_for(tmp_path: Path, address: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", clamd_address=address, clamd_timeout_s=5)


def context(facts: dict[str, Any], package: StagedPackage | None = None, stage: Any = "GD") -> CheckContext:
    return CheckContext(stage=stage, now=NOW, package=package, facts=facts, config=POLICY)


def test_gathered_scan_fails_x_4_2_naming_infected_and_oversize_files(
    clamd: TestClamd, staged: StagedPackage, tmp_path: Path
) -> None:
    facts = gather_antivirus_facts(staged, settings_for(tmp_path, clamd.address), "GD")
    scans = facts["virus_scan"]
    assert scans["正卷/0001-起诉状.pdf"]["status"] == "clean"
    assert scans["正卷/0002-证据.pdf"]["status"] == "infected"
    assert scans["正卷/0003-录像.mp4"]["status"] == "too_large"

    result = check_virus_scan(context(facts, staged))
    assert (result.item, result.status) == ("GD-4-2", "fail")
    assert "正卷/0002-证据.pdf" in result.summary and "正卷/0003-录像.mp4" in result.summary
    by_code = {p.code: p for p in result.problems}
    assert by_code["virus_found"].path == "正卷/0002-证据.pdf"
    assert NDB_SIGNATURE in by_code["virus_found"].message
    assert by_code["virus_scan_incomplete"].path == "正卷/0003-录像.mp4"
    assert all(p.item == "GD-4-2" for p in result.problems)
    assert "无毒 2 个" in result.evidence[0].found

    present = check_antivirus_present(context(facts, staged))
    assert (present.item, present.status) == ("GD-4-1", "warn")  # answers, but no database date to judge
    assert present.problems[0].code == "antivirus_signatures_undated"


def test_clean_package_passes_x_4_2_at_every_stage(clamd: TestClamd, tmp_path: Path) -> None:
    source = tmp_path / "pkg"
    source.mkdir()
    (source / "a.xml").write_text("<a/>", encoding="utf-8")
    (source / "b.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    package = open_package(source, tmp_path / "staging", limits=Limits())
    facts = gather_antivirus_facts(package, settings_for(tmp_path, clamd.tcp_address), "YJ")
    for stage in ("GD", "YJ", "BC"):
        result = check_virus_scan(context(facts, package, stage))
        assert (result.item, result.status) == (f"{stage}-4-2", "pass")


def test_no_scanner_configured_means_not_run_for_both_items(staged: StagedPackage, tmp_path: Path) -> None:
    facts = gather_antivirus_facts(staged, settings_for(tmp_path, None), "GD")
    assert facts == {"antivirus": facts["antivirus"]} and facts["antivirus"]["configured"] is False
    for check in (check_antivirus_present, check_virus_scan):
        result = check(context(facts, staged))
        assert result.status == "not_run"
        assert result.reason is not None and "clamd_address" in result.reason


def test_configured_scanner_down_fails_x_4_1_and_leaves_x_4_2_not_run(
    staged: StagedPackage, tmp_path: Path
) -> None:
    started = time.monotonic()
    facts = gather_antivirus_facts(staged, settings_for(tmp_path, dead_unix_address(tmp_path)), "BC")
    assert time.monotonic() - started < 1.0
    assert "virus_scan" not in facts
    present = check_antivirus_present(context(facts, staged, "BC"))
    assert (present.item, present.status) == ("BC-4-1", "fail")
    assert present.problems[0].code == "antivirus_unavailable"
    scan = check_virus_scan(context(facts, staged, "BC"))
    assert (scan.item, scan.status) == ("BC-4-2", "not_run")


def test_malformed_address_is_recorded_not_raised(staged: StagedPackage, tmp_path: Path) -> None:
    facts = gather_antivirus_facts(staged, settings_for(tmp_path, "clamd.local:3310"), "GD")
    assert facts["antivirus"]["available"] is False
    assert "clamd_address" in facts["antivirus"]["error"]
    assert check_antivirus_present(context(facts, staged)).status == "fail"


# ---------------------------------------------------------------- checks on plain facts
def scanner(**changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "configured": True, "address": "unix:/run/clamav/clamd.ctl", "available": True, "error": None,
        "engine": "ClamAV 1.4.6", "database_version": 27500, "database_date": "2025-01-07T12:00:00+00:00",
        "version_raw": "ClamAV 1.4.6/27500/Tue Jan  7 12:00:00 2025",
    }  # fmt: skip
    facts.update(changes)
    return facts


def package_of(*paths: str) -> StagedPackage:
    files = tuple(StagedFile(path=p, size=1, digests={}) for p in paths)
    return StagedPackage(
        root=Path("/nonexistent"), files=files, source_name="t", source_kind="folder", source_digest=""
    )


def test_fresh_signatures_pass_x_4_1_and_old_ones_warn() -> None:
    fresh = check_antivirus_present(context({"antivirus": scanner()}))
    assert fresh.status == "pass" and "3.0" in fresh.evidence[0].found
    old = check_antivirus_present(context({"antivirus": scanner(database_date="2024-12-01T00:00:00+00:00")}))
    assert old.status == "warn"
    assert old.problems[0].code == "antivirus_signatures_outdated"


def test_x_4_1_without_an_age_policy_warns_instead_of_passing() -> None:
    ctx = CheckContext(stage="GD", now=NOW, facts={"antivirus": scanner()}, config={})
    assert check_antivirus_present(ctx).status == "warn"


def test_missing_facts_mean_not_run() -> None:
    for check in (check_antivirus_present, check_virus_scan):
        result = check(context({}))
        assert result.status == "not_run" and result.reason
    result = check_virus_scan(context({"antivirus": scanner()}, package_of("a.pdf")))
    assert result.status == "not_run"  # scanner answered but no virus_scan fact


@pytest.mark.parametrize(
    ("scans", "status"),
    [
        ({"a.pdf": {"status": "clean"}, "b.pdf": {"status": "clean"}}, "pass"),
        ({"a.pdf": {"status": "clean"}, "b.pdf": {"status": "error", "detail": "timed out"}}, "not_run"),
        ({"a.pdf": {"status": "clean"}}, "not_run"),  # b.pdf never scanned
        ({"a.pdf": {"status": "clean"}, "b.pdf": {"status": "maybe"}}, "not_run"),  # malformed fact
        ({"a.pdf": {"status": "clean"}, "b.pdf": {"status": "too_large", "detail": "size limit"}}, "fail"),
        ({"a.pdf": {"status": "infected", "signature": "X"}, "b.pdf": {"status": "error"}}, "fail"),
    ],
    ids=["all_clean", "one_error", "one_missing", "one_malformed", "one_too_large", "infected_and_error"],
)
def test_x_4_2_passes_only_when_every_file_was_scanned_clean(scans: dict[str, Any], status: str) -> None:
    result = check_virus_scan(
        context({"antivirus": scanner(), "virus_scan": scans}, package_of("a.pdf", "b.pdf"))
    )
    assert result.status == status
    if status != "pass":
        assert "b.pdf" in (result.summary + (result.reason or "")) or "a.pdf" in result.summary


def test_x_4_2_with_no_files_is_not_run() -> None:
    result = check_virus_scan(context({"antivirus": scanner(), "virus_scan": {}}, package_of()))
    assert result.status == "not_run"
