"""ClamAV test fixture: a real ``clamd`` (Debian ``clamav-daemon``) with a tiny offline signature database.

``clamd`` (session scope) writes, in a fresh short temporary folder,

* ``db/edossier-test.hdb`` – ``MD5:size:name`` of the EICAR test string → ``Eicar-Test-Signature``
  (a whole file that *is* EICAR);
* ``db/edossier-test.ndb`` – a body signature ``name:0:*:<hex>`` → ``Edossier.Eicar.Body``, which
  finds EICAR anywhere in a file (mid-stream inside a PDF-ish file);
* ``clamd.conf`` – ``Foreground yes``, ``LocalSocket`` and a loopback ``TCPSocket``, the database
  folder above, ``StreamMaxLength 2M``, ``MaxFileSize``/``MaxScanSize 1M`` and ``AlertExceedsMax yes``
  (without it clamd reports an oversize file as clean);

then starts ``clamd -c clamd.conf``, waits for ``PING`` → ``PONG`` and yields a :class:`TestClamd`
with ``address`` (``"unix:/…"``), ``tcp_address`` and the limits. No freshclam, no network (clamd
answers VERSION with the engine only — no official database, so no database date). The process is
stopped at the end of the session. Without clamd installed the tests are skipped with the install
line — unless ``CI=true``, where they fail.

EICAR is assembled at run time by :func:`eicar` and test files containing it are written only to
temporary folders: a repository file holding EICAR would be quarantined by a developer's antivirus.
Register with ``pytest_plugins = [..., "tests.support.clamd"]`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from integrity.antivirus.clamd import ClamdClient, ScannerError, ScannerUnavailable
from tests.support.s3 import free_port

START_TIMEOUT_S = 30.0
STREAM_MAX_BYTES = 2 * 1024 * 1024  # StreamMaxLength 2M
MAX_FILE_BYTES = 1024 * 1024  # MaxFileSize / MaxScanSize 1M
HDB_SIGNATURE = "Eicar-Test-Signature"
NDB_SIGNATURE = "Edossier.Eicar.Body"
INSTALL_HINT = "apt-get install -y clamav-daemon"

_CONF = """\
Foreground yes
LocalSocket {folder}/clamd.sock
TCPSocket {port}
TCPAddr 127.0.0.1
DatabaseDirectory {folder}/db
TemporaryDirectory {folder}/tmp
PidFile {folder}/clamd.pid
LogFile {folder}/clamd.log
StreamMaxLength 2M
MaxFileSize 1M
MaxScanSize 1M
AlertExceedsMax yes
SelfCheck 0
"""


def eicar() -> bytes:
    """The 68-byte EICAR anti-malware test string (assembled here, never stored whole in the repository)."""
    return b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-" + b"TEST-FILE!$H+H*"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _clamd_binary() -> str | None:
    found = shutil.which("clamd")
    if found:
        return found
    return "/usr/sbin/clamd" if Path("/usr/sbin/clamd").is_file() else None


@dataclass(frozen=True)
class TestClamd:
    """A running test clamd (see the module docstring)."""

    folder: Path
    address: str  # "unix:/…/clamd.sock"
    tcp_address: str  # "tcp:127.0.0.1:PORT"
    stream_max_bytes: int
    max_file_bytes: int

    __test__ = False  # not a test class, despite the name


def _write_database(folder: Path) -> None:
    sample = eicar()
    db = folder / "db"
    db.mkdir()
    (db / "edossier-test.hdb").write_text(
        f"{hashlib.md5(sample).hexdigest()}:{len(sample)}:{HDB_SIGNATURE}\n", encoding="ascii"
    )
    (db / "edossier-test.ndb").write_text(f"{NDB_SIGNATURE}:0:*:{sample.hex()}\n", encoding="ascii")


def _log_tail(folder: Path) -> str:
    text = ""
    for name in ("clamd.out", "clamd.log"):
        path = folder / name
        if path.exists():
            text += path.read_text(encoding="utf-8", errors="replace")[-1500:]
    return text


@pytest.fixture(scope="session")
def clamd() -> Iterator[TestClamd]:
    """Start clamd with the test signatures; yield a :class:`TestClamd`; stop it at the end."""
    binary = _clamd_binary()
    if binary is None:
        reason = f"clamd is not installed ({INSTALL_HINT})"
        if _in_ci():
            pytest.fail(f"{reason} (CI=true: antivirus tests must run)", pytrace=False)
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="edossier-clamd-"))  # short: unix socket paths are ≤ 107 bytes
    port = free_port()
    (folder / "tmp").mkdir()
    _write_database(folder)
    (folder / "clamd.conf").write_text(_CONF.format(folder=folder, port=port), encoding="utf-8")
    server = TestClamd(
        folder=folder,
        address=f"unix:{folder}/clamd.sock",
        tcp_address=f"tcp:127.0.0.1:{port}",
        stream_max_bytes=STREAM_MAX_BYTES,
        max_file_bytes=MAX_FILE_BYTES,
    )
    with (folder / "clamd.out").open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-c", str(folder / "clamd.conf")],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        client = ClamdClient(server.address, timeout_s=2.0)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                client.ping()
                break
            except (ScannerUnavailable, ScannerError):
                pass
            if proc.poll() is not None:
                pytest.fail(
                    f"clamd exited with code {proc.returncode} before answering:\n{_log_tail(folder)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"clamd did not answer PING within {START_TIMEOUT_S} s:\n{_log_tail(folder)}")
            time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
