"""The fuzz targets' ``TestOneInput`` hold over their seed corpora and a few hundred random inputs.

No atheris needed: the targets import it only when run as ``python -m tests.fuzz.<target>``. When
atheris is installed (the ``fuzz`` extra), one more test starts each target under libFuzzer briefly.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from standards.validation import validate_court_package
from tests.fuzz import (
    fuzz_bagit_reader,
    fuzz_eep_reader,
    fuzz_xml_validation,
    fuzz_zip_intake,
    make_seeds,
    run,
)
from tests.fuzz.harness import CORPUS, DICTS, TMP_ENV, Finding, scratch_parent

TARGETS: dict[str, Callable[[bytes], None]] = {
    "zip_intake": fuzz_zip_intake.TestOneInput,
    "xml_validation": fuzz_xml_validation.TestOneInput,
    "eep_reader": fuzz_eep_reader.TestOneInput,
    "bagit_reader": fuzz_bagit_reader.TestOneInput,
}
ROOT = Path(__file__).resolve().parents[2]
TODAY = fuzz_xml_validation.TODAY
REGRESSIONS = Path(__file__).resolve().parent / "regressions"


def seeds(target: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((CORPUS / target).iterdir())]


def mutated(corpus: list[bytes], count: int, seed: int) -> list[bytes]:
    """``count`` inputs: random bytes, and seeds with bytes flipped, cut, duplicated or spliced."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        if n % 5 == 0:
            out.append(rng.randbytes(rng.randrange(0, 512)))
            continue
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.randrange(1, 8)):
            if not data:
                break
            i = rng.randrange(len(data))
            op = rng.randrange(4)
            if op == 0:
                data[i] = rng.randrange(256)
            elif op == 1:
                del data[i : i + rng.randrange(1, 64)]
            elif op == 2:
                data[i:i] = data[i : i + rng.randrange(1, 64)]
            else:
                other = rng.choice(corpus)
                j = rng.randrange(len(other) or 1)
                data[i:] = other[j:]
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_target_holds_over_its_seed_corpus(target: str) -> None:
    corpus = seeds(target)
    assert len(corpus) >= 10
    for data in corpus:
        TARGETS[target](data)


@pytest.mark.parametrize("target", TARGETS)
def test_target_holds_over_random_and_mutated_inputs(target: str) -> None:
    for data in mutated(seeds(target), 300, seed=len(target)):
        TARGETS[target](data)


def test_zip_harness_reports_a_file_written_outside_staging(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fuzz_zip_intake.open_package  # type: ignore[attr-defined]

    def escaping(source: Path, staging_root: Path, **kw: object) -> object:
        (staging_root.parent / "escaped.pdf").write_bytes(b"x")
        return real(source, staging_root, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(fuzz_zip_intake, "open_package", escaping)
    with pytest.raises(Finding, match="outside the staging folder"):
        fuzz_zip_intake.TestOneInput(seeds("zip_intake")[0])
    assert list(scratch_parent().iterdir()) == []


def test_zip_harness_lets_only_bad_input_escape(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kw: object) -> object:
        raise KeyError("a bug")

    monkeypatch.setattr(fuzz_zip_intake, "open_package", broken)
    with pytest.raises(KeyError):
        fuzz_zip_intake.TestOneInput(b"PK\x03\x04")


def test_bag_input_format_round_trips() -> None:
    data = fuzz_bagit_reader.encode(
        algorithm=1,
        bagit=b"B",
        info=b"I",
        manifest=b"M",
        fetch=b"F",
        payload=[("正卷/a.pdf", b"A"), ("../x", b"X")],
    )
    assert fuzz_bagit_reader.decode(data) == {
        "bagit.txt": b"B",
        "bag-info.txt": b"I",
        "manifest-md5.txt": b"M",
        "fetch.txt": b"F",
        "data/正卷/a.pdf": b"A",
        "data/1.bin": b"../x\x01X",  # a name intake would refuse becomes a numbered file
    }


def test_seed_corpus_and_dictionaries_match_their_generator(tmp_path: Path) -> None:
    written = make_seeds.main(tmp_path / "corpus", tmp_path / "dicts")
    committed = {p: p.read_bytes() for folder in (CORPUS, DICTS) for p in folder.rglob("*") if p.is_file()}
    generated = {
        (CORPUS if p.is_relative_to(tmp_path / "corpus") else DICTS)
        / p.relative_to(
            tmp_path / ("corpus" if p.is_relative_to(tmp_path / "corpus") else "dicts")
        ): p.read_bytes()
        for p in written
    }
    assert sorted(generated) == sorted(committed), "rerun python -m tests.fuzz.make_seeds"
    for path, data in generated.items():
        assert committed[path] == data, f"{path} drifted; rerun python -m tests.fuzz.make_seeds"
    assert sum(len(d) for d in generated.values()) < 2 * 1024 * 1024


def test_targets_import_without_atheris() -> None:
    code = (
        "import sys; sys.modules['atheris'] = None\n"
        "import tests.fuzz.fuzz_zip_intake, tests.fuzz.fuzz_xml_validation, "
        "tests.fuzz.fuzz_eep_reader, tests.fuzz.fuzz_bagit_reader"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


@pytest.mark.parametrize("target", TARGETS)
def test_target_runs_under_libfuzzer(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "scratch").mkdir()
    seeds_before = sorted(p.name for p in (CORPUS / target).iterdir())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            f"tests.fuzz.fuzz_{target}",
            "-runs=200",
            "-seed=1",  # deterministic: a random seed may run into a known finding
            f"-dict={DICTS / f'{target}.dict'}",
            f"-artifact_prefix={tmp_path}/",
            str(tmp_path / "corpus"),  # libFuzzer writes what it finds into the first folder, never the seeds
            str(CORPUS / target),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, TMP_ENV: str(tmp_path / "scratch")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done 200 runs" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "corpus",
        "scratch",
    ]  # no crash-, timeout-, oom- file
    assert sorted(p.name for p in (CORPUS / target).iterdir()) == seeds_before


# ------------------------------------------------------------------ regressions: findings of the fuzz work
# Each crashed (or exhausted memory) before its fix; the inputs are kept under regressions/.
def _catalog_with(tag: str, value: str) -> bytes:
    base: bytes = fuzz_xml_validation.package().files["目录文件.xml"]
    return base.replace(f"<{tag}>".encode(), f"<{tag}>{value}<!--".encode(), 1).replace(
        f"</{tag}>".encode(), f"--></{tag}>".encode(), 1
    )


def test_closing_date_in_year_9999_is_reported_not_a_crash() -> None:
    # rules_fields.one_year_after computed year 10000 (ValueError escaped validate_court_package)
    description = fuzz_xml_validation.package().files["说明文件.xml"]
    start = description.index("<结案日期>".encode()) + len("<结案日期>".encode())
    end = description.index("</结案日期>".encode())
    fuzz_xml_validation.TestOneInput(b"\x00" + description[:start] + b"9999-12-31" + description[end:])


def test_a_large_sequence_number_gives_a_bounded_report() -> None:
    # The XSD caps 顺序号 at 99999, but the rules run on schema-invalid catalogues too: 顺序号 100000000
    # made 99,999,999 problems (gigabytes, then the OOM killer); 100000 keeps this test cheap.
    pkg = fuzz_xml_validation.package()
    staged = pkg.with_document("目录文件.xml", _catalog_with("顺序号", "100000"))
    try:
        report = validate_court_package(staged, limits=fuzz_xml_validation.LIMITS, today=TODAY)
    finally:
        pkg.restore("目录文件.xml")
    assert len(report.problems) < 1000


@pytest.mark.parametrize(
    "name",
    [
        "eep_malformed_certificate.xml",
        "eep_sm2_public_key_bit_string.xml",
        # found in the 30-minute run: an issuer name asn1crypto's RFC 4518 preparation refuses (bidi)
        "eep_certificate_name_bidi.xml",
    ],
)
def test_malformed_certificate_is_a_signature_problem_not_a_crash(name: str) -> None:
    # Found by eep_reader: bytes changed in a 证书 of signed-sm2.xml. _load_certificate reads a few fields;
    # verify_raw (the SM2 key's bit string, no trust roots needed: `edossier validate` shows a traceback)
    # and _issued_by (issuer name, with trust roots) read others, and asn1crypto raises ValueError there.
    fuzz_eep_reader.TestOneInput((REGRESSIONS / name).read_bytes())


def test_runner_names_a_finding_by_its_innermost_frame_in_our_code() -> None:
    log = f"""INFO: Seed: 1
 === Uncaught Python exception: ===
ValueError: Bit string has 32 unused bits
Traceback (most recent call last):
  File "{ROOT}/tests/fuzz/fuzz_eep_reader.py", line 58, in TestOneInput
  File "{ROOT}/integrity/eep_signatures.py", line 254, in verify_raw
  File "{ROOT}/.venv/lib/python3.11/site-packages/asn1crypto/core.py", line 2448, in _as_chunk
==1== ERROR: libFuzzer: fuzz target exited
"""
    assert run.signature(log) == "ValueError at integrity/eep_signatures.py:254 in verify_raw"
    assert run.signature("==1== ERROR: libFuzzer: timeout after 31 seconds") == "libFuzzer: timeout"
    assert run.signature("Done 100 runs in 2 second(s)") is None
