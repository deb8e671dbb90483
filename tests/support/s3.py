"""S3 test fixtures: a throw-away ``moto_server`` on a free loopback port.

``s3_endpoint`` (session scope) starts moto's S3 server as a subprocess, waits until it answers HTTP,
yields ``"127.0.0.1:PORT"`` and kills the process at the end of the session. moto keeps everything in
memory, so each test should use its own bucket (see ``unique_bucket``). Anyone's tests may use these
fixtures; they are registered through ``pytest_plugins`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.settings import S3Settings
from archive.stores.s3 import S3Store

START_TIMEOUT_S = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _moto_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    found = shutil.which("moto_server")
    if found:
        return [found, "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{endpoint}/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Start ``moto_server`` on a free 127.0.0.1 port; yield ``"127.0.0.1:PORT"``."""
    port = free_port()
    endpoint = f"127.0.0.1:{port}"
    proc = subprocess.Popen(
        _moto_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(endpoint):
            if proc.poll() is not None:
                pytest.fail(f"moto_server exited with code {proc.returncode} before answering on {endpoint}")
            if time.monotonic() > deadline:
                pytest.fail(f"moto_server did not answer on {endpoint} within {START_TIMEOUT_S} s")
            time.sleep(0.05)
        yield endpoint
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def unique_bucket() -> str:
    """A bucket name no other test uses (moto state lives for the whole session)."""
    return f"edossier-test-{uuid.uuid4().hex[:16]}"


def make_s3_store(endpoint: str, bucket: str, *, object_lock: bool = True, **kwargs: int) -> S3Store:
    """An :class:`S3Store` on ``endpoint`` with test credentials; the bucket is not created."""
    settings = S3Settings(
        endpoint=endpoint, access_key="test", secret_key="test", bucket=bucket, object_lock=object_lock
    )
    return S3Store(settings, **kwargs)
