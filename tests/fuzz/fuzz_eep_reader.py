"""Fuzz the DA/T 48 EEP reader: bytes → ``parse_eep`` (+ rules, signatures) and ``decode_eep_files``.

Oracles: ``parse_eep``/``read_eep`` and ``decode_eep_files`` may only raise the BadInput family; on a
parsed package ``eep_profile_problems``, ``missing_metadata`` and ``check_eep_signatures`` (against
the test roots of ``tests/vectors/eep/certs``) never raise; a refused decode
removes its staging folder; an accepted one holds exactly the staged files (the EEP copy and the
decoded files, regular, inside the folder) with the recorded sizes, and nothing else is written.

Run: ``.venv/bin/python -m tests.fuzz.fuzz_eep_reader -max_total_time=120 tests/fuzz/corpus/eep_reader``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from tests.fuzz.harness import Finding, check_scratch_is_empty, fuzz, instrumented, scratch_parent, tree

with instrumented(__name__ == "__main__"):
    from integrity.eep_signatures import check_eep_signatures
    from standards.eep import decode_eep_files, eep_profile_problems, missing_metadata, parse_eep
    from standards.errors import BadInput
    from standards.limits import Limits
    from standards.package import StagedPackage
    from standards.xml_parser import parse_xml

MIB = 1024 * 1024
LIMITS = Limits(package_bytes=8 * MIB, file_count=64, file_bytes=4 * MIB, xml_bytes=1 * MIB)
ROOTS = tuple(
    p.read_bytes() for p in sorted((Path(__file__).resolve().parents[1] / "vectors/eep/certs").glob("*.der"))
)
AT = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)


def _check_decoded(staged: StagedPackage, staging: Path) -> None:
    found = tree(staging)
    if any(kind in ("link", "other") for kind in found.values()):
        raise Finding(f"decoded a link or special file: {found}")
    files = {p for p, kind in found.items() if kind == "file"}
    listed = {f.path for f in staged.files}
    if files != listed:
        raise Finding(f"decoded files {sorted(files)[:5]} differ from the inventory {sorted(listed)[:5]}")
    for f in staged.files:
        if staged.local_path(f.path).stat().st_size != f.size:
            raise Finding(f"{f.path}: recorded size differs from the decoded file")


def TestOneInput(data: bytes) -> None:
    try:
        pkg = parse_eep(data, LIMITS, path="fuzz.xml")
    except BadInput:
        pass
    else:
        eep_profile_problems(pkg, item="BC-1-15", path="fuzz.xml")
        missing_metadata(parse_xml(data, limits=LIMITS))
        check_eep_signatures(pkg, roots=ROOTS, at=AT)
    scratch = Path(tempfile.mkdtemp(prefix="eep-", dir=scratch_parent()))
    try:
        source = scratch / "fuzz.xml"
        source.write_bytes(data)
        staging = scratch / "staged"
        try:
            staged: StagedPackage | None = decode_eep_files(source, staging, LIMITS)
        except BadInput:
            staged = None
            if staging.exists():
                raise Finding("a refused EEP left its staging folder") from None
        if source.read_bytes() != data:
            raise Finding("the EEP file was modified")
        outside = {p for p in tree(scratch) if p != "fuzz.xml" and p.split("/")[0] != "staged"}
        if outside:
            raise Finding(f"written outside the staging folder: {sorted(outside)[:5]}")
        if staged is not None:
            _check_decoded(staged, staging)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    check_scratch_is_empty()


if __name__ == "__main__":
    fuzz(TestOneInput)
