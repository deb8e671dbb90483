"""Run fuzz targets for a time budget and summarise executions and findings (what ``make fuzz`` calls).

``python -m tests.fuzz.run --seconds 1800 zip_intake xml_validation`` runs each target in turn with
libFuzzer options ``-max_total_time``, ``-rss_limit_mb``, ``-timeout`` (a hang is a finding),
``-max_len`` and the target's ``-dict`` from ``tests/fuzz/dicts/``. Seeds come from
``tests/fuzz/corpus/<target>/`` (read only); libFuzzer keeps the inputs it finds in
``<findings>/<target>/corpus/`` and writes each crash, timeout or out-of-memory input to
``<findings>/<target>/``, with the log beside it. libFuzzer stops at the first finding; the runner
restarts the target on its growing corpus for the remaining time (at most ``--max-restarts`` times)
and counts distinct findings by exception type and innermost frame of our code. Last lines, one per target:
``fuzz <target>: <N> executions in <S> s, <K> findings``. Exit status 1 when any target had findings.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.harness import CORPUS, DICTS, TMP_ENV, fast_temp_root

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("zip_intake", "xml_validation", "eep_reader", "bagit_reader")
ARTIFACTS = ("crash-", "timeout-", "oom-", "leak-")
_EXECUTED = re.compile(r"^stat::number_of_executed_units:\s*(\d+)", re.MULTILINE)
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)', re.MULTILINE)


@dataclass
class Result:
    """What the runs of one target did: executions, wall seconds, distinct findings and their inputs."""

    target: str
    executions: int = 0
    seconds: float = 0.0
    findings: list[str] = field(default_factory=list)
    artifacts: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"fuzz {self.target}: {self.executions} executions in {self.seconds:.0f} s, "
            f"{len(self.findings)} findings"
        )


def signature(log: str) -> str | None:
    """A short name for the finding in a libFuzzer log, or None.

    For a Python exception: its type and the innermost frame in this repository outside the fuzz
    harness (library frames vary with the input; ours name the bug), e.g.
    ``ValueError at integrity/eep_signatures.py:280 in _issued_by``.
    """
    if "=== Uncaught Python exception: ===" in log:
        tail = log.split("=== Uncaught Python exception: ===", 1)[1]
        lines = [line for line in tail.splitlines() if line.strip()]
        exception = lines[0].split(":", 1)[0].strip() if lines else "exception"
        ours = [
            (Path(f).resolve().relative_to(ROOT).as_posix(), line, func)
            for f, line, func in _FRAME.findall(tail)
            if Path(f).resolve().is_relative_to(ROOT) and not Path(f).resolve().is_relative_to(ROOT / ".venv")
        ]
        inner = [frame for frame in ours if not frame[0].startswith("tests/fuzz/")] or ours
        where = f" at {inner[-1][0]}:{inner[-1][1]} in {inner[-1][2]}" if inner else ""
        return f"{exception}{where}"
    for kind in ("timeout", "out-of-memory", "deadly signal", "fuzz target exited"):
        if f"ERROR: libFuzzer: {kind}" in log:
            return f"libFuzzer: {kind}"
    return None


def command(target: str, seconds: int, out: Path, args: argparse.Namespace) -> list[str]:
    dictionary = DICTS / f"{target}.dict"
    return [
        sys.executable,
        "-m",
        f"tests.fuzz.fuzz_{target}",
        f"-max_total_time={seconds}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-timeout={args.timeout}",
        f"-max_len={args.max_len}",
        "-print_final_stats=1",
        f"-artifact_prefix={out}/",
        *([f"-dict={dictionary}"] if dictionary.is_file() else []),
        str(out / "corpus"),
        str(CORPUS / target),
    ]


def run_target(target: str, args: argparse.Namespace) -> Result:
    out = Path(args.findings) / target
    (out / "corpus").mkdir(parents=True, exist_ok=True)
    result = Result(target)
    started = time.monotonic()
    for attempt in range(args.max_restarts + 1):
        left = int(args.seconds - (time.monotonic() - started))
        if left <= 0:
            break
        before = {p for p in out.iterdir() if p.name.startswith(ARTIFACTS)}
        log_path = out / f"fuzz-{int(time.time())}-{attempt}.log"
        with (
            open(log_path, "w", encoding="utf-8") as log,
            tempfile.TemporaryDirectory(prefix="edossier-fuzz-run-", dir=fast_temp_root()) as scratch,
        ):
            proc = subprocess.run(
                command(target, left, out, args),
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                env={**os.environ, TMP_ENV: scratch},  # the fuzzer's scratch, removed even after a crash
            )
        text = log_path.read_text(encoding="utf-8", errors="replace")
        result.executions += sum(int(n) for n in _EXECUTED.findall(text))
        new = sorted(p for p in out.iterdir() if p.name.startswith(ARTIFACTS) and p not in before)
        result.artifacts += new
        found = signature(text) if (new or proc.returncode) else None
        if found is None and proc.returncode:
            found = f"fuzzer exited with status {proc.returncode} (see {log_path})"
        if found is None:
            break
        print(f"  {target}: finding {found} → {', '.join(str(p) for p in new) or log_path}", flush=True)
        if found not in result.findings:
            result.findings.append(found)
    result.seconds = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("targets", nargs="*", help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--seconds", type=int, default=1800, help="time budget per target")
    parser.add_argument("--rss-limit-mb", type=int, default=2048)
    parser.add_argument("--timeout", type=int, default=30, help="seconds one input may take (a hang)")
    parser.add_argument("--max-len", type=int, default=64 * 1024, help="largest input libFuzzer generates")
    parser.add_argument("--max-restarts", type=int, default=20, help="restarts after findings, per target")
    parser.add_argument("--findings", default="fuzz-findings")
    args = parser.parse_args(argv)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; expected any of {', '.join(TARGETS)}")
    results = []
    for target in args.targets or TARGETS:
        print(f"fuzz {target}: running for {args.seconds} s …", flush=True)
        results.append(run_target(target, args))
    print()
    for r in results:
        print(r.summary())
        for finding in r.findings:
            print(f"  - {finding}")
    return 1 if any(r.findings for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
