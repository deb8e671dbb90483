"""Ingest benchmark: edossier ingest vs the machine's hashing limit, bagit and sha256sum, in one run.

    .venv/bin/python bench/ingest.py [--bytes N] [--files N] [--workdir DIR]

Generates a ~1 GiB, ~1,000-file court dossier (folder), then measures on the same bytes:
  (a) the hashing limit for this work: SHA-256 + SM3 of every file with hashlib, both cores
      (two threads, different files; hashlib releases the GIL);
  (b) ``edossier ingest FOLDER --json`` into a fresh data directory (SQLite + filesystem store),
      as a child process, with its peak RSS;
  (c) ``bagit.py --sha256 --processes 2`` making a bag of a copy of the same files (PyPI bagit);
  (d) ``sha256sum`` of every file (coreutils).
Also the floor for any ingest that stages a copy: the same hashing while writing one copy.
A second, smaller package (a quarter of the size) is ingested too, to show peak RSS does not grow
with package size. Prints throughputs in MB/s (10^6 bytes) and the ratios the spine issue asks for.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHUNK = 1024 * 1024


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def hash_file(path: Path) -> int:
    sha, sm3 = hashlib.sha256(), hashlib.new("sm3")
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    n_total = 0
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            sha.update(view[:n])
            sm3.update(view[:n])
            n_total += n
    return n_total


def hash_and_copy_file(path: Path, dest: Path) -> int:
    """SHA-256 + SM3 while writing one copy: the least work any ingest that stages a copy must do."""
    sha, sm3 = hashlib.sha256(), hashlib.new("sm3")
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    n_total = 0
    with path.open("rb", buffering=0) as f, dest.open("xb", buffering=0) as out:
        while n := f.readinto(buf):
            sha.update(view[:n])
            sm3.update(view[:n])
            out.write(view[:n])
            n_total += n
    return n_total


def copy_floor(files: list[Path], target: Path) -> float:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    biggest_first = sorted(files, key=lambda p: -p.stat().st_size)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda ip: hash_and_copy_file(ip[1], target / str(ip[0])), enumerate(biggest_first)))
    elapsed = time.perf_counter() - start
    shutil.rmtree(target, ignore_errors=True)
    return elapsed


def hashing_limit(files: list[Path]) -> tuple[float, int]:
    biggest_first = sorted(files, key=lambda p: -p.stat().st_size)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        total = sum(pool.map(hash_file, biggest_first))
    return time.perf_counter() - start, total


# A tiny launcher: a child forked from the (large) benchmark process would start with the benchmark's
# resident pages counted in its ru_maxrss, so each contender is started from this small process and
# the launcher reports RUSAGE_CHILDREN.ru_maxrss (KiB) of the contender alone on its last line.
_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], stdout=sys.stdout, stderr=subprocess.DEVNULL)\n"
    "sys.stdout.flush()\n"
    "print('\\n@@maxrss', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n"
)


def timed_child(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run a command; return (seconds, the command's own peak RSS in KiB, its stdout)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    text = proc.stdout.decode(errors="replace")
    body, _, tail = text.rpartition("@@maxrss")
    maxrss, code = (int(x) for x in tail.split())
    if code != 0:
        raise SystemExit(f"command failed ({code}): {' '.join(argv)}\n{body[-2000:]}")
    return elapsed, maxrss, body


def generate(folder: Path, total_bytes: int, documents: int, seed: int) -> None:
    sys.path.insert(0, str(ROOT))
    from archive.sample import generate_sample

    generate_sample(
        folder,
        seed=seed,
        documents=documents,
        target_bytes=total_bytes,
        now=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )


def mb(n: int, seconds: float) -> float:
    return n / seconds / 1e6


def ingest(folder: Path, workdir: Path, name: str) -> tuple[float, int]:
    data_dir = workdir / f"data-{name}"
    shutil.rmtree(data_dir, ignore_errors=True)
    env = dict(os.environ, EDOSSIER_DATA_DIR=str(data_dir))
    subprocess.run([str(BIN / "edossier"), "init", "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
    seconds, rss, out = timed_child([str(BIN / "edossier"), "ingest", str(folder), "--json"], env=env)
    if '"archived"' not in out:
        raise SystemExit(f"ingest did not archive:\n{out[:2000]}")
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bytes", type=int, default=1024**3, help="package size to generate (default 1 GiB)")
    parser.add_argument("--files", type=int, default=1000, help="documents to generate (default 1000)")
    parser.add_argument("--workdir", type=Path, default=None, help="where to work (default: a temp dir)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edossier-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    big, small = workdir / "dossier-big", workdir / "dossier-small"
    for folder, size, count, seed in (
        (big, args.bytes, args.files, 7),
        (small, args.bytes // 4, args.files // 4, 8),
    ):
        if not folder.exists():
            t = time.perf_counter()
            generate(folder, size, count, seed)
            print(f"generated {folder.name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)

    files = files_under(big)
    total = sum(p.stat().st_size for p in files)
    hash_file(files[0])  # warm up; the page cache holds the package for every contender below
    for p in files:
        p.read_bytes()

    limit_s, hashed = hashing_limit(files)
    assert hashed == total
    floor_s = copy_floor(files, workdir / "floor")
    ingest_s, ingest_rss = ingest(big, workdir, "big")
    small_total = sum(p.stat().st_size for p in files_under(small))
    small_s, small_rss = ingest(small, workdir, "small")

    bag = workdir / "bag"
    shutil.rmtree(bag, ignore_errors=True)
    shutil.copytree(big, bag)
    bagit_s, bagit_rss, _ = timed_child([str(BIN / "bagit.py"), "--sha256", "--processes", "2", str(bag)])
    sha256sum_s, _, _ = timed_child(["sha256sum", *[str(p) for p in files]])

    print(f"package: {len(files)} files, {total / 1e6:.0f} MB (small package: {small_total / 1e6:.0f} MB)")
    print(f"{'contender':<44}{'seconds':>9}{'MB/s':>9}{'peak RSS MiB':>14}")
    rows = [
        ("(a) hashing limit: SHA-256+SM3, 2 threads", limit_s, total, 0),
        ("    floor: same hashing + writing one copy", floor_s, total, 0),
        ("(b) edossier ingest (SHA-256+SM3, fs store)", ingest_s, total, ingest_rss),
        ("    edossier ingest, 1/4-size package", small_s, small_total, small_rss),
        ("(c) bagit.py --sha256 --processes 2", bagit_s, total, bagit_rss),
        ("(d) sha256sum", sha256sum_s, total, 0),
    ]
    for label, seconds, n, rss in rows:
        print(
            f"{label:<44}{seconds:>9.2f}{mb(n, seconds):>9.0f}{(rss / 1024 if rss else float('nan')):>14.0f}"
        )
    ingest_rate, limit_rate, bagit_rate = mb(total, ingest_s), mb(total, limit_s), mb(total, bagit_s)
    print(f"ratio ingest / hashing limit : {ingest_rate / limit_rate:.2f}  (goal >= 0.80)")
    print(
        f"ratio copy floor / limit     : {mb(total, floor_s) / limit_rate:.2f}  (the most any staging ingest can reach)"
    )
    print(
        f"ratio ingest / bagit         : {ingest_rate / bagit_rate:.2f}  (bagit computes SHA-256 only, moves files)"
    )
    print(f"ratio ingest / sha256sum     : {ingest_rate / mb(total, sha256sum_s):.2f}")
    print(f"peak RSS big / small package : {ingest_rss / 1024:.0f} / {small_rss / 1024:.0f} MiB")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
