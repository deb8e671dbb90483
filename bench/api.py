"""API latency benchmark: ``edossier serve`` on loopback under a steady 200 requests/s, measured with wrk.

    .venv/bin/python bench/api.py [--rate 200] [--seconds 20] [--workers 2] [--workdir DIR]

Needs ``wrk`` (Debian: ``apt-get install wrk``). Builds a data directory (SQLite + filesystem store)
with ``--dossiers`` sample dossiers, creates an archivist token, starts ``edossier serve
--no-scheduler --workers N`` and, for each endpoint, runs wrk paced to ``--rate`` requests per
second in total: a Lua ``delay()`` per connection draws exponential gaps (Poisson arrivals, so the
connections do not fire in step); wrk's latency runs from send to response, so the pause is not
counted. Endpoints: GET dossier detail and GET inclusion proof (the issue's two) and, as the peer
measured in the same run, GET /api/v1/health: the same server, framework and middleware with no
catalog work, i.e. the floor any route pays. Prints p50/p90/p99, the achieved rate, non-2xx and
socket errors, and the p99 against the goal (< 20 ms, 0 errors). Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
# Poisson arrivals per connection (exponential gaps), so connections do not fire in step; the mean gap
# leaves room for the response time, so the total stays near the target rate.
PACE = """
local rate = tonumber(os.getenv("BENCH_RATE_PER_CONN"))
local service_ms = tonumber(os.getenv("BENCH_SERVICE_MS"))
math.randomseed(os.time())
function delay()
  local mean = math.max(1, 1000 / rate - service_ms)
  return -math.log(1 - math.random()) * mean
end
"""


@dataclass
class Result:
    label: str
    p50_ms: float
    p90_ms: float
    p99_ms: float
    rate: float
    non_2xx: int
    socket_errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def edossier(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "edossier"), *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def prepare(workdir: Path, dossiers: int) -> tuple[dict[str, str], str, str]:
    data_dir = workdir / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDOSSIER_")} | {
        "EDOSSIER_DATA_DIR": str(data_dir),
        "EDOSSIER_API__SAMPLE_ON_FIRST_START": "false",
    }
    edossier(env, "init")
    archive_id = ""
    for seed in range(1, dossiers + 1):
        package = workdir / f"sample-{seed}"
        shutil.rmtree(package, ignore_errors=True)
        edossier(env, "sample", str(package), "--seed", str(seed))
        archive_id = json.loads(edossier(env, "ingest", str(package), "--json"))["archive_id"]
    token = json.loads(edossier(env, "tokens", "create", "--role", "archivist", "--name", "bench", "--json"))[
        "token"
    ]
    return env, archive_id, token


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    url: str, token: str, rate: int, seconds: int, connections: int, label: str, script: Path
) -> Result:
    env = dict(os.environ, BENCH_RATE_PER_CONN=str(rate / connections), BENCH_SERVICE_MS="3")
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, re.MULTILINE))
    rate_found = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Result(label, _ms(pct["50"]), _ms(pct["90"]), _ms(pct["99"]), rate_found, non_2xx, errors)


def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("edossier serve exited")
        try:
            with urllib.request.urlopen(f"{base}/api/v1/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("edossier serve did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=200, help="requests per second in total (default 200)")
    parser.add_argument("--seconds", type=int, default=20, help="seconds per endpoint (default 20)")
    parser.add_argument(
        "--connections",
        type=int,
        default=20,
        help="wrk connections, each paced to rate/connections (default 20)",
    )
    parser.add_argument("--workers", type=int, default=2, help="edossier serve --workers (default 2: 2 CPUs)")
    parser.add_argument(
        "--dossiers", type=int, default=20, help="sample dossiers archived first (default 20)"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="where to work (default: temp, removed)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edossier-api-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env, archive_id, token = prepare(workdir, args.dossiers)
    script = workdir / "pace.lua"
    script.write_text(PACE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            str(BIN / "edossier"),
            "serve",
            "--port",
            str(port),
            "--no-scheduler",
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(base, proc)
        targets = (
            ("peer: GET /api/v1/health", "/api/v1/health"),
            ("GET /api/v1/dossiers/{id}", f"/api/v1/dossiers/{archive_id}"),
            ("GET /api/v1/ledger/proofs/inclusion/{id}", f"/api/v1/ledger/proofs/inclusion/{archive_id}"),
        )
        run_wrk(base + targets[1][1], token, args.rate, 3, args.connections, "warm-up", script)
        results = [
            run_wrk(base + path, token, args.rate, args.seconds, args.connections, label, script)
            for label, path in targets
        ]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    print(
        f"edossier API latency at {args.rate} requests/s ({os.cpu_count()} CPUs, {args.workers} server processes, "
        f"{args.connections} connections, {args.seconds} s each, {args.dossiers} dossiers, SQLite)"
    )
    print(f"{'endpoint':<44}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'req/s':>8}{'non-2xx':>9}{'errors':>8}")
    for r in results:
        print(
            f"{r.label:<44}{r.p50_ms:>8.2f}{r.p90_ms:>8.2f}{r.p99_ms:>8.2f}{r.rate:>8.0f}{r.non_2xx:>9}{r.socket_errors:>8}"
        )
    peer = results[0]
    for r in results[1:]:
        met = r.p99_ms < 20 and r.non_2xx == 0 and r.socket_errors == 0
        print(
            f"  {r.label:<42} p99 {r.p99_ms:.2f} ms = {r.p99_ms / peer.p99_ms:.2f}x the peer; "
            f"goal p99 < 20 ms and 0 errors: {'met' if met else 'NOT met'}"
        )
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
