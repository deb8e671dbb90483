"""What the outage tests share: running the real ``edossier`` CLI, and reading what an outage left behind.

:func:`run_cli` runs ``edossier`` as a subprocess with a clean ``EDOSSIER_*`` environment (only what
the test passes), times it and parses ``--json`` output. :func:`catalog_facts` reads, through a
direct connection (never through the proxy under test), what the outage tests assert on: dossiers,
``dossier.archived`` leaves, submissions, alerts by kind and audit results by outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from sqlalchemy import func, select

from api.http.app import create_app
from api.wiring import Installation
from archive.catalog.models import Alert, AuditResult, AuditRun, Dossier, LedgerLeaf, Submission
from archive.settings import Settings
from archive.tokens import create_token
from tests.support.s3 import free_port

if TYPE_CHECKING:
    from tests.outage.conftest import Site

EDOSSIER = Path(sys.executable).with_name("edossier")
#: The longest any CLI run in these tests may take, outage or not (start-up is ~2 s on this machine).
CLI_TIMEOUT_S = 120


@dataclass(frozen=True)
class CliRun:
    """One finished ``edossier`` subprocess."""

    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.stdout)
        return body

    def describe(self) -> str:
        return f"exit {self.returncode} after {self.elapsed:.1f} s\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def cli_env(env: dict[str, str]) -> dict[str, str]:
    """The process environment without any ``EDOSSIER_*`` of ours, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("EDOSSIER_")}
    return base | {"COLUMNS": "200"} | env


def command(data_dir: Path, *args: str) -> list[str]:
    return [str(EDOSSIER), "--data-dir", str(data_dir), *args]


def run_cli(data_dir: Path, env: dict[str, str], *args: str) -> CliRun:
    """Run ``edossier --data-dir DATA_DIR ARGS…`` to the end (at most :data:`CLI_TIMEOUT_S`)."""
    started = time.monotonic()
    done = subprocess.run(
        command(data_dir, *args), env=cli_env(env), capture_output=True, timeout=CLI_TIMEOUT_S, check=False
    )
    return CliRun(
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
        time.monotonic() - started,
    )


def start_cli(data_dir: Path, env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``edossier`` without waiting; the process and its start time (for :func:`finish_cli`)."""
    proc = subprocess.Popen(
        command(data_dir, *args), env=cli_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    return proc, time.monotonic()


def finish_cli(proc: subprocess.Popen[bytes], started: float) -> CliRun:
    """Wait for a process from :func:`start_cli` (at most :data:`CLI_TIMEOUT_S`; killed after that)."""
    try:
        out, err = proc.communicate(timeout=CLI_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return CliRun(
        proc.returncode,
        out.decode(errors="replace"),
        err.decode(errors="replace"),
        time.monotonic() - started,
    )


@dataclass(frozen=True)
class CatalogFacts:
    """What an outage may have changed in the catalog."""

    dossiers: int
    archived_leaves: int
    leaves: int  # every ledger leaf (an access is one)
    submissions: int
    alerts: Counter[str]
    results: Counter[str]  # audit results of every run, by outcome
    runs: dict[str, str]  # audit run id → status


def catalog_facts(inst: Installation) -> CatalogFacts:
    """Read :class:`CatalogFacts` through ``inst`` (open it on the direct database URL)."""
    with inst.sessions() as session:
        leaves = session.scalars(select(LedgerLeaf.data)).all()
        return CatalogFacts(
            dossiers=session.scalar(select(func.count()).select_from(Dossier)) or 0,
            archived_leaves=sum(1 for data in leaves if json.loads(data)["type"] == "dossier.archived"),
            leaves=len(leaves),
            submissions=session.scalar(select(func.count()).select_from(Submission)) or 0,
            alerts=Counter(session.scalars(select(Alert.kind)).all()),
            results=Counter(session.scalars(select(AuditResult.outcome)).all()),
            runs={run_id: status for run_id, status in session.execute(select(AuditRun.id, AuditRun.status))},
        )


def run_results(inst: Installation, run_id: str) -> list[AuditResult]:
    """Every recorded result of one audit run."""
    with inst.sessions() as session:
        return list(session.scalars(select(AuditResult).where(AuditResult.run_id == run_id)))


def no_traceback(run: CliRun) -> None:
    """An outage is reported in words, never as a Python traceback."""
    assert "Traceback" not in run.stderr, run.describe()


#: How long uvicorn may take to start the app (open the installation, bind the port).
SERVER_START_S = 20.0


@dataclass
class Served:
    """A running app: an HTTP client on its port, an admin token, the archived dossier's id."""

    client: httpx.Client
    token: str
    archive_id: str

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.token}"})


def serve(site: Site, settings: Settings, archive_id: str) -> Iterator[Served]:
    """Serve ``create_app(settings)`` with uvicorn on a thread until the generator is closed."""
    with site.direct.write_sessions() as session, session.begin():
        token = create_token(session, "outage test", "admin", dt.datetime.now(dt.UTC)).text
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="outage-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_S
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, f"uvicorn did not start within {SERVER_START_S} s"
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield Served(client, token, archive_id)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
