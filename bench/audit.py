"""Audit benchmark: ``edossier audit run`` vs openssl and bagit on the same stored bytes, in one run.

    .venv/bin/python bench/audit.py [--big-bytes N] [--small-files N] [--workdir DIR] [--quick]

Two file mixes, each ingested with ``edossier ingest`` into its own installation (SQLite catalog,
filesystem store) from a court package made by :func:`archive.sample.generate_sample`:

* big:   ~1 GiB of large files (``--big-documents`` scans of ~10 MB, plus their metadata XML);
* small: ~5,000 small files (``--small-files`` / 2 documents, each a scan plus a ~3 KB metadata
  XML). The generator has a floor on scan sizes (``target_bytes`` cannot go below it), so this mix
  is not a uniform 20 KiB: median ~3 KB, mean ~30 KiB, 10 % of files above ~170 KB. Ingested
  through ``edossier ingest`` (fast enough: ~1.4 s per 200 files), not written to the catalog directly.

The bytes measured are exactly the objects in the store (``objects/``: blobs, AIP manifests,
说明文件/目录文件), i.e. what a fixity audit must read. On those bytes, with the page cache warm for
every contender (everything is read once first), the benchmark measures:

(a) ``openssl dgst -sha256`` over the object files, 1 process, and 2 processes over halves of the
    list (balanced by bytes): the machine's SHA-256 hashing limit;
(b) ``bagit.py --validate --processes 1|2`` (PyPI bagit, SHA-256 manifest only) on a bag made of a
    copy of the same files;
(c) ``edossier audit run --workers 1|2 --json`` as child processes (2 workers: two forked processes
    sharing the run's batches), with the default policy (fixity re-hashes SHA-256; SM3 is re-hashed
    on full checks), and again with ``EDOSSIER_AUDIT__SM3_ON_FIXITY=true`` (SHA-256 and SM3 for every
    object: "SM3 too"). The audit also checks every dossier's manifest against the
    catalog and its ledger leaf, verifies the whole ledger, reconciles catalog and store, records one
    result row per object and appends a signed ``audit.completed``: openssl and bagit do none of it;
(d) an extra row: a pure fixity pass in this process, ``integrity.audit.fixity.check_fixity`` with
    ``algorithms=("sha256",)`` over every catalogued object, 1 and 2 threads (no start-up, no
    results, no ledger): what the audit's hashing loop alone reaches.

Child wall times include process start-up; ``edossier`` (Python, imports the whole CLI) starts in
~1 s, so a second column subtracts the measured start-up of ``edossier audit run --help``.
Each contender runs ``--repeat`` times; the best time counts. Prints MB/s (10^6 bytes), peak RSS
and the ratios the audit issue asks for. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

# A tiny launcher: it starts every command given (a JSON list of argv lists on stdin) at once, waits for
# all, and reports its own wall time and RUSAGE_CHILDREN.ru_maxrss (KiB: the largest contender
# process, not the benchmark's pages) on its last line.
_LAUNCHER = (
    "import json, os, resource, subprocess, sys, time\n"
    "cmds = json.loads(sys.stdin.buffer.read())\n"
    "t = time.perf_counter()\n"
    "ps = [subprocess.Popen(c, stdin=subprocess.DEVNULL,\n"
    "      stdout=subprocess.PIPE if i == 0 else subprocess.DEVNULL,\n"
    "      stderr=subprocess.DEVNULL) for i, c in enumerate(cmds)]\n"
    "out = ps[0].communicate()[0]\n"
    "codes = [p.wait() for p in ps]\n"
    "el = time.perf_counter() - t\n"
    "sys.stdout.buffer.write(out)\n"
    "print('\\n@@result', el, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, max(codes))\n"
)


@dataclass(frozen=True)
class Timing:
    """One contender's best wall time (seconds), its peak RSS (KiB) and the first command's stdout."""

    seconds: float
    maxrss: int
    stdout: str


def run_children(commands: list[list[str]], env: dict[str, str] | None = None, ok: int = 0) -> Timing:
    """Start ``commands`` together from the launcher; the wall time until all exited.

    Raises:
        SystemExit: a command exited with a code above ``ok``.
    """
    import json

    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCHER],
        input=json.dumps(commands).encode(),
        capture_output=True,
        env=env,
        check=False,
    )
    text = proc.stdout.decode(errors="replace")
    body, _, tail = text.rpartition("@@result")
    if not tail.strip():
        raise SystemExit(f"launcher failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    seconds, maxrss, code = tail.split()
    if int(code) > ok:
        raise SystemExit(f"command failed ({code}): {' '.join(commands[0])[:300]}\n{body[-2000:]}")
    return Timing(float(seconds), int(maxrss), body)


def best_of(repeat: int, measure: Callable[[], Timing]) -> Timing:
    """The fastest of ``repeat`` measurements (peak RSS: the largest seen)."""
    runs = [measure() for _ in range(repeat)]
    fastest = min(runs, key=lambda t: t.seconds)
    return Timing(fastest.seconds, max(t.maxrss for t in runs), fastest.stdout)


def files_under(folder: Path) -> list[Path]:
    """Every regular file under ``folder`` (sorted), skipping the store's ``.tmp/``."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and ".tmp" not in p.relative_to(folder).parts)


def halves(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """Split ``files`` in two lists of about the same number of bytes (largest first, greedy)."""
    a: list[Path] = []
    b: list[Path] = []
    size_a = size_b = 0
    for p in sorted(files, key=lambda p: -p.stat().st_size):
        if size_a <= size_b:
            a.append(p)
            size_a += p.stat().st_size
        else:
            b.append(p)
            size_b += p.stat().st_size
    return a, b


def warm(files: list[Path]) -> None:
    """Read every file once so the page cache holds it for every contender."""
    buf = bytearray(1024 * 1024)
    for p in files:
        with p.open("rb", buffering=0) as f:
            while f.readinto(buf):
                pass


def mb(n: int, seconds: float) -> float:
    return n / seconds / 1e6


# ---------------------------------------------------------------- data set-up
def generate(folder: Path, documents: int, target_bytes: int | None, seed: int) -> None:
    sys.path.insert(0, str(ROOT))
    from archive.sample import generate_sample

    generate_sample(folder, seed=seed, documents=documents, target_bytes=target_bytes, now=NOW)


def installation(workdir: Path, name: str, documents: int, target_bytes: int | None, seed: int) -> Path:
    """A data directory with the generated package ingested (reused when it already exists).

    Raises:
        SystemExit: the ingest did not archive the package.
    """
    data_dir = workdir / f"data-{name}"
    if (data_dir / ".bench-ready").exists():
        return data_dir
    package = workdir / f"package-{name}"
    shutil.rmtree(package, ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    t = time.perf_counter()
    generate(package, documents, target_bytes, seed)
    print(f"[{name}] generated {documents} documents: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    env = dict(os.environ, EDOSSIER_DATA_DIR=str(data_dir))
    subprocess.run([str(BIN / "edossier"), "init", "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
    t = time.perf_counter()
    out = subprocess.run(
        [str(BIN / "edossier"), "ingest", str(package), "--json"], env=env, capture_output=True, check=False
    )
    if b'"archived"' not in out.stdout:
        raise SystemExit(f"ingest did not archive:\n{out.stdout[:2000]!r}\n{out.stderr[-2000:]!r}")
    print(f"[{name}] ingested: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    shutil.rmtree(package, ignore_errors=True)  # the store holds the bytes now
    (data_dir / ".bench-ready").touch()
    return data_dir


def make_bag(files: list[Path], objects: Path, bag: Path) -> None:
    """A BagIt bag (SHA-256 manifest only) of a copy of ``files``."""
    shutil.rmtree(bag, ignore_errors=True)
    bag.mkdir(parents=True)
    for p in files:
        dest = bag / p.relative_to(objects)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    subprocess.run(
        [str(BIN / "bagit.py"), "--sha256", "--processes", "2", str(bag)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# ---------------------------------------------------------------- pure fixity pass (in process)
def fixity_pass(data_dir: Path, threads: int) -> tuple[float, int]:
    """``check_fixity`` (SHA-256 only) of every catalogued object on ``threads`` threads: (s, objects).

    Raises:
        SystemExit: an object did not check ``ok``.
    """
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from api.wiring import open_installation
    from archive.catalog.models import Blob, Dossier
    from archive.settings import Settings
    from integrity.audit.fixity import ExpectedFixity, check_fixity

    inst = open_installation(Settings(data_dir=data_dir))
    try:
        with inst.sessions() as session:
            items = [
                ExpectedFixity(key, {"sha256": sha}, size)
                for sha, size, key in session.execute(select(Blob.sha256, Blob.size, Blob.store_key))
            ]
            items += [
                ExpectedFixity(key, {"sha256": sha}, None, kind="manifest")
                for key, sha in session.execute(select(Dossier.manifest_key, Dossier.manifest_sha256))
            ]
        store = inst.store
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(lambda e: check_fixity(store, e, algorithms=("sha256",)), items))
        elapsed = time.perf_counter() - start
    finally:
        inst.close()
    bad = [r for r in results if r.outcome != "ok"]
    if bad:
        raise SystemExit(f"fixity pass found {len(bad)} non-ok results, first: {bad[0]}")
    return elapsed, len(items)


# ---------------------------------------------------------------- one mix
@dataclass(frozen=True)
class Row:
    label: str
    seconds: float
    maxrss: int = 0
    net_seconds: float | None = None  # wall time minus the measured start-up (edossier rows)


def measure_mix(
    name: str, data_dir: Path, workdir: Path, repeat: int, startup: float
) -> tuple[int, int, list[Row]]:
    """All contenders on one mix: (files, bytes, rows).

    Raises:
        SystemExit: a contender failed, or an audit did not pass.
    """
    objects = data_dir / "objects"
    files = files_under(objects)
    total = sum(p.stat().st_size for p in files)
    bag = workdir / f"bag-{name}"
    if not (bag / "bagit.txt").exists():
        make_bag(files, objects, bag)
    warm(files)
    warm(files_under(bag))

    paths = [str(p) for p in files]
    half_a, half_b = halves(files)
    openssl = ["openssl", "dgst", "-sha256"]
    rows: list[Row] = []

    def add(label: str, t: Timing, net: bool = False) -> None:
        rows.append(Row(label, t.seconds, t.maxrss, max(t.seconds - startup, 1e-3) if net else None))

    add("(a) openssl dgst -sha256, 1 process", best_of(repeat, lambda: run_children([[*openssl, *paths]])))
    add(
        "(a) openssl dgst -sha256, 2 processes",
        best_of(
            repeat,
            lambda: run_children([[*openssl, *map(str, half_a)], [*openssl, *map(str, half_b)]]),
        ),
    )
    for n in (1, 2):
        add(
            f"(b) bagit.py --validate --processes {n}",
            best_of(
                repeat,
                partial(
                    run_children, [[str(BIN / "bagit.py"), "--validate", "--processes", str(n), str(bag)]]
                ),
            ),
        )
    base_env = dict(os.environ, EDOSSIER_DATA_DIR=str(data_dir))
    for label, env in (
        ("default policy", base_env),
        ("SM3 too", dict(base_env, EDOSSIER_AUDIT__SM3_ON_FIXITY="true")),
    ):
        for n in (1, 2):
            t = best_of(
                repeat,
                partial(
                    run_children,
                    [[str(BIN / "edossier"), "audit", "run", "--workers", str(n), "--json"]],
                    env,
                ),
            )
            if '"status": "passed"' not in t.stdout:
                raise SystemExit(f"audit did not pass:\n{t.stdout[:2000]}")
            add(f"(c) edossier audit run, {label}, {n} worker{'s' if n > 1 else ''}", t, net=True)
    for n in (1, 2):
        seconds = min(fixity_pass(data_dir, n)[0] for _ in range(repeat))
        rows.append(
            Row(f"(d) check_fixity SHA-256 only, {n} thread{'s' if n > 1 else ''} (in-process)", seconds)
        )
    return len(files), total, rows


def print_mix(name: str, count: int, total: int, rows: list[Row]) -> None:
    print(
        f"\n== {name}: {count} objects, {total / 1e6:.0f} MB (mean {total / count / 1024:.1f} KiB per object) =="
    )
    print(f"{'contender':<62}{'seconds':>9}{'MB/s':>9}{'net MB/s':>10}{'RSS MiB':>9}")
    for r in rows:
        net = f"{mb(total, r.net_seconds):>10.0f}" if r.net_seconds is not None else f"{'':>10}"
        rss = f"{r.maxrss / 1024:>9.0f}" if r.maxrss else f"{'':>9}"
        print(f"{r.label:<62}{r.seconds:>9.2f}{mb(total, r.seconds):>9.0f}{net}{rss}")
    by = {r.label: r for r in rows}

    def rate(label: str, net: bool = False) -> float:
        r = by[label]
        return mb(total, r.net_seconds if net and r.net_seconds is not None else r.seconds)

    o1 = rate("(a) openssl dgst -sha256, 1 process")
    b1, b2 = rate("(b) bagit.py --validate --processes 1"), rate("(b) bagit.py --validate --processes 2")
    print("ratios (wall time incl. start-up | net of start-up):")
    for algos in ("default policy", "SM3 too"):
        a1l = f"(c) edossier audit run, {algos}, 1 worker"
        a2l = f"(c) edossier audit run, {algos}, 2 workers"
        pairs = (
            ("audit 1 worker  / openssl 1 process", rate(a1l), rate(a1l, True), o1, "0.9"),
            ("audit 2 workers / openssl 1 process", rate(a2l), rate(a2l, True), o1, "1.7"),
            ("audit 1 worker  / bagit 1 process", rate(a1l), rate(a1l, True), b1, "1.0"),
            ("audit 2 workers / bagit 2 processes", rate(a2l), rate(a2l, True), b2, "1.0"),
        )
        for what, wall, net_rate, base, goal in pairs:
            print(
                f"  [{algos:<12}] {what:<38}: {wall / base:5.2f} | {net_rate / base:5.2f}  (goal >= {goal})"
            )
    f1 = rate("(d) check_fixity SHA-256 only, 1 thread (in-process)")
    f2 = rate("(d) check_fixity SHA-256 only, 2 threads (in-process)")
    print(f"  [fixity only ] check_fixity 1 thread  / openssl 1 process   : {f1 / o1:5.2f}")
    print(f"  [fixity only ] check_fixity 2 threads / openssl 1 process   : {f2 / o1:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big-bytes", type=int, default=1024**3, help="big mix size (default 1 GiB)")
    parser.add_argument(
        "--big-documents", type=int, default=100, help="documents in the big mix (default 100)"
    )
    parser.add_argument("--small-files", type=int, default=5000, help="files in the small mix (default 5000)")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where to work; kept and reused (default: temp)"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per contender, best counts (default 3)"
    )
    parser.add_argument("--quick", action="store_true", help="64 MiB / 500 files, 1 run each: a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.big_bytes, args.big_documents, args.small_files = 64 * 1024**2, 16, 500
    repeat = args.repeat or (1 if args.quick else 3)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edossier-audit-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tag = "quick" if args.quick else "full"
    big = installation(workdir, f"big-{tag}", args.big_documents, args.big_bytes, 11)
    small_docs = max(1, args.small_files // 2)
    # target_bytes makes the generator use its smallest scans (mean ~30 KiB per file, see the docstring)
    small = installation(workdir, f"small-{tag}", small_docs, small_docs * 16 * 1024, 12)

    help_env = dict(os.environ, EDOSSIER_DATA_DIR=str(big))
    startup = best_of(
        3, lambda: run_children([[str(BIN / "edossier"), "audit", "run", "--help"]], env=help_env)
    )
    print(f"edossier start-up (audit run --help): {startup.seconds:.2f} s", file=sys.stderr)

    results = []
    for name, data_dir in (("big mix", big), ("small mix", small)):
        t = time.perf_counter()
        results.append((name, *measure_mix(name, data_dir, workdir, repeat, startup.seconds)))
        print(f"[{name}] measured: {time.perf_counter() - t:.1f} s", file=sys.stderr)

    print(f"edossier audit benchmark ({os.cpu_count()} CPUs; best of {repeat}; page cache warm)")
    print(f"edossier start-up, subtracted for 'net': {startup.seconds:.2f} s")
    for name, count, total, rows in results:
        print_mix(name, count, total, rows)
    print(
        "\nnote: the audit also checks each manifest against the catalog and the"
        "\nledger, verifies the whole ledger, reconciles catalog and store, records a result row per object"
        "\nand appends a signed audit.completed; openssl and bagit only hash (bagit also checks the oxum)."
    )
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
