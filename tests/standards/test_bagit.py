"""validate_bag: bags made by bagit-python validate; each mutation fails with its exact codes and items.

Vectors are made in the test: a small folder is copied, turned into a bag by ``bagit.make_bag``,
mutated, then staged through ``archive.intake.open_package`` exactly as ``edossier validate`` does.
The mutation table below is the vector set, sorted into valid / warning / invalid, each naming the
``(code, item, path)`` triples it must produce — nothing more, nothing less.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bagit
import pytest

from api.cli_bag import validate_bag_command
from archive.bag_digests import digest_reader
from archive.intake import open_package
from archive.settings import Settings
from standards.bagit import (
    BagReport,
    Findings,
    decode_path,
    is_bag,
    parse_bag_info,
    path_escape_reason,
    split_lines,
    validate_bag,
)
from standards.limits import Limits
from standards.package import StagedFile, StagedPackage
from standards.problems import Problem

LIMITS = Limits()
A = "data/a.txt"
DOC = "data/正卷/0001-起诉状.txt"
PCT = "data/50%.txt"  # bagit-python writes "%" unencoded; RFC 8493 only decodes %0D, %0A and %25
SOURCE = {"a.txt": b"alpha\n", "正卷/0001-起诉状.txt": "起诉状正文\n".encode(), "50%.txt": b"percent\n"}

Triple = tuple[str, str | None, str | None]
Mutation = Callable[[Path], None]


# ------------------------------------------------------------------ helpers
def make_bag(tmp_path: Path, checksums: tuple[str, ...] = ("sha256", "sha512")) -> Path:
    bag = tmp_path / "bag"
    for rel, data in SOURCE.items():
        target = bag / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    bagit.make_bag(str(bag), {"Source-Organization": "某某人民法院"}, checksums=list(checksums))
    return bag


def retag(bag: Path) -> None:
    """Recompute every tagmanifest for the tag files it lists that still exist (isolates a tag mutation)."""
    for manifest in bag.glob("tagmanifest-*.txt"):
        algorithm = manifest.name[len("tagmanifest-") : -len(".txt")]
        lines = []
        for line in manifest.read_text("utf-8").splitlines():
            path = line.split(None, 1)[1]
            if (bag / path).is_file():
                lines.append(f"{hashlib.new(algorithm, (bag / path).read_bytes()).hexdigest()}  {path}\n")
        manifest.write_text("".join(lines), "utf-8")


def stage(bag: Path, tmp_path: Path) -> StagedPackage:
    return open_package(bag, tmp_path / "staging", limits=LIMITS)


def validate(tmp_path: Path, bag: Path, limits: Limits = LIMITS, stage_id: str = "GD") -> BagReport:
    staged = stage(bag, tmp_path)
    assert is_bag(staged)
    return validate_bag(staged, digest_reader(staged), limits, stage=stage_id)


def triples(problems: Sequence[Problem]) -> set[Triple]:
    return {(p.code, p.item, p.path) for p in problems}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (old, text)
    path.write_text(text.replace(old, new), "utf-8")


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(text)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def line_of(manifest: Path, path: str) -> str:
    return next(line for line in manifest.read_text("utf-8").splitlines() if line.endswith("  " + path))


# ------------------------------------------------------------------ mutations (the vectors)
def changed_payload_byte(bag: Path) -> None:
    target = bag / A
    data = bytearray(target.read_bytes())
    data[0] ^= 0x01
    target.write_bytes(bytes(data))


def removed_payload_file(bag: Path) -> None:
    (bag / A).unlink()


def extra_payload_file(bag: Path) -> None:
    (bag / "data/extra.txt").write_bytes(b"not listed\n")


def edited_manifest_line(bag: Path) -> None:
    edit(bag / "manifest-sha256.txt", sha256_of(SOURCE["a.txt"]), sha256_of(b"something else"))
    retag(bag)


def edited_manifest_line_not_retagged(bag: Path) -> None:
    edit(bag / "manifest-sha256.txt", sha256_of(SOURCE["a.txt"]), sha256_of(b"something else"))


def bad_payload_oxum(bag: Path) -> None:
    edit(bag / "bag-info.txt", "Payload-Oxum: ", "Payload-Oxum: 1")  # "25.3" → "125.3"
    edit(bag / "bag-info.txt", ".3\n", ".4\n")
    retag(bag)


def malformed_payload_oxum(bag: Path) -> None:
    edit(bag / "bag-info.txt", "Payload-Oxum: ", "Payload-Oxum: many ")
    retag(bag)


def fetch_txt(bag: Path) -> None:
    (bag / "fetch.txt").write_text("https://example.org/b.txt 5 data/b.txt\n", "utf-8")


def path_escape_parent(bag: Path) -> None:
    append(bag / "manifest-sha256.txt", f"{sha256_of(b'x')}  ../x\n")
    retag(bag)


def path_escape_inside_data(bag: Path) -> None:
    append(bag / "manifest-sha256.txt", f"{sha256_of(b'x')}  data/../../etc/passwd\n")
    retag(bag)


def path_escape_absolute(bag: Path) -> None:
    append(bag / "manifest-sha256.txt", f"{sha256_of(b'x')}  /etc/passwd\n")
    retag(bag)


def percent_encoded_newline(bag: Path) -> None:
    append(bag / "manifest-sha256.txt", f"{sha256_of(b'x')}  data/a%0Ab.txt\n")
    retag(bag)


def percent_encoded_percent(bag: Path) -> None:
    # RFC 8493 §2.1.3: "%" in a path is written %25; the validator decodes it back to data/50%.txt.
    for manifest in bag.glob("manifest-*.txt"):
        edit(manifest, "  " + PCT, "  data/50%25.txt")
    retag(bag)


def duplicate_line(bag: Path) -> None:
    append(bag / "manifest-sha256.txt", line_of(bag / "manifest-sha256.txt", A) + "\n")
    retag(bag)


def case_collision(bag: Path) -> None:
    append(bag / "manifest-sha256.txt", f"{sha256_of(SOURCE['a.txt'])}  data/A.txt\n")
    retag(bag)


def missing_from_one_manifest(bag: Path) -> None:
    manifest = bag / "manifest-sha512.txt"
    manifest.write_text(
        "".join(f"{line}\n" for line in manifest.read_text("utf-8").splitlines() if not line.endswith(A)),
        "utf-8",
    )
    retag(bag)


def no_payload_manifest(bag: Path) -> None:
    for manifest in bag.glob("manifest-*.txt"):
        manifest.unlink()
    retag(bag)


def malformed_manifest_line(bag: Path) -> None:
    append(bag / "manifest-sha256.txt", "nothex  data/a.txt\n")
    retag(bag)


def payload_manifest_lists_tag_file(bag: Path) -> None:
    append(bag / "manifest-sha256.txt", f"{sha256_of((bag / 'bagit.txt').read_bytes())}  bagit.txt\n")
    retag(bag)


def bagit_version_096(bag: Path) -> None:
    edit(bag / "bagit.txt", "0.97", "0.96")
    retag(bag)


def bagit_three_lines(bag: Path) -> None:
    append(bag / "bagit.txt", "Extra: line\n")
    retag(bag)


def bagit_bom(bag: Path) -> None:
    (bag / "bagit.txt").write_bytes(codecs.BOM_UTF8 + (bag / "bagit.txt").read_bytes())
    retag(bag)


def bagit_no_encoding_line(bag: Path) -> None:
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\n")
    retag(bag)


def bagit_unknown_encoding(bag: Path) -> None:
    edit(bag / "bagit.txt", "UTF-8", "KLINGON-8")
    retag(bag)


def bagit_gb18030(bag: Path) -> None:
    # The declared encoding covers every tag file but bagit.txt (RFC 8493 §2.1.1).
    edit(bag / "bagit.txt", "UTF-8", "GB18030")
    for tag_file in [bag / "bag-info.txt", *bag.glob("manifest-*.txt")]:
        tag_file.write_bytes(tag_file.read_text("utf-8").encode("gb18030"))
    retag(bag)


def bag_info_removed(bag: Path) -> None:
    (bag / "bag-info.txt").unlink()
    retag(bag)


def bag_info_removed_not_retagged(bag: Path) -> None:
    (bag / "bag-info.txt").unlink()


def bag_info_edited_not_retagged(bag: Path) -> None:
    append(bag / "bag-info.txt", "Contact-Name: 张三\n")


def unsupported_algorithm_manifest(bag: Path) -> None:
    (bag / "manifest-blake3.txt").write_text(f"{'0' * 64}  {A}\n", "utf-8")


def version_1_0_crlf(bag: Path) -> None:
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8\r\n")
    retag(bag)


def uppercase_digests(bag: Path) -> None:
    for manifest in bag.glob("manifest-*.txt"):
        lines = manifest.read_text("utf-8").splitlines()
        manifest.write_text(
            "".join(f"{h.upper()}  {p}\n" for h, p in (line.split("  ", 1) for line in lines)), "utf-8"
        )
    retag(bag)


def extra_tag_file(bag: Path) -> None:
    (bag / "notes.txt").write_text("备注\n", "utf-8")


def undecodable_manifest(bag: Path) -> None:
    with (bag / "manifest-sha256.txt").open("ab") as fh:
        fh.write(f"{sha256_of(b'x')}  data/".encode() + "乙.txt\n".encode("gb18030"))
    retag(bag)


@dataclass(frozen=True)
class Vector:
    mutate: Mutation
    problems: frozenset[Triple] = frozenset()
    warnings: frozenset[Triple] = frozenset()


def v(mutate: Mutation, problems: set[Triple] | None = None, warnings: set[Triple] | None = None) -> Vector:
    return Vector(mutate, frozenset(problems or ()), frozenset(warnings or ()))


OXUM = (
    ("payload_oxum_count_mismatch", "GD-2-1", "bag-info.txt"),
    ("payload_oxum_bytes_mismatch", "GD-2-2", "bag-info.txt"),
)

VALID = {
    "percent_encoded_percent": v(percent_encoded_percent),
    "version_1_0_crlf": v(version_1_0_crlf),
    "uppercase_digests": v(uppercase_digests),
}
WARNING = {
    "extra_tag_file": v(extra_tag_file, warnings={("tag_file_unlisted", "GD-4-3", "notes.txt")}),
    "bagit_gb18030": v(bagit_gb18030, warnings={("tag_encoding_not_utf8", "GD-1-12", "bagit.txt")}),
    "bag_info_removed": v(bag_info_removed, warnings={("payload_oxum_missing", "GD-1-12", "bag-info.txt")}),
    "unsupported_algorithm_manifest": v(
        unsupported_algorithm_manifest,
        warnings={("algorithm_unsupported", "GD-1-1", "manifest-blake3.txt")},
    ),
}
INVALID = {
    "undecodable_manifest": v(
        undecodable_manifest, {("tag_file_undecodable", "GD-3-1", "manifest-sha256.txt")}
    ),
    "changed_payload_byte": v(changed_payload_byte, {("digest_mismatch", "GD-1-1", A)}),
    "removed_payload_file": v(removed_payload_file, {("payload_missing", "GD-2-11", A), *OXUM}),
    "extra_payload_file": v(extra_payload_file, {("payload_unlisted", "GD-4-3", "data/extra.txt"), *OXUM}),
    "edited_manifest_line": v(edited_manifest_line, {("digest_mismatch", "GD-1-1", A)}),
    "edited_manifest_line_not_retagged": v(
        edited_manifest_line_not_retagged,
        {("digest_mismatch", "GD-1-1", A), ("digest_mismatch", "GD-1-1", "manifest-sha256.txt")},
    ),
    "bad_payload_oxum": v(bad_payload_oxum, set(OXUM)),
    "malformed_payload_oxum": v(
        malformed_payload_oxum, {("payload_oxum_invalid", "GD-1-12", "bag-info.txt")}
    ),
    "fetch_txt": v(fetch_txt, {("fetch_refused", "GD-2-11", "fetch.txt")}),
    "path_escape_parent": v(path_escape_parent, {("manifest_path_escape", "GD-1-13", "manifest-sha256.txt")}),
    "path_escape_inside_data": v(
        path_escape_inside_data, {("manifest_path_escape", "GD-1-13", "manifest-sha256.txt")}
    ),
    "path_escape_absolute": v(
        path_escape_absolute, {("manifest_path_escape", "GD-1-13", "manifest-sha256.txt")}
    ),
    "percent_encoded_newline": v(percent_encoded_newline, {("payload_missing", "GD-2-11", "data/a\nb.txt")}),
    "duplicate_line": v(duplicate_line, {("manifest_duplicate_entry", "GD-1-12", "manifest-sha256.txt")}),
    "case_collision": v(case_collision, {("manifest_case_collision", "GD-1-13", "manifest-sha256.txt")}),
    "missing_from_one_manifest": v(missing_from_one_manifest, {("payload_not_in_manifest", "GD-1-12", A)}),
    "no_payload_manifest": v(no_payload_manifest, {("manifest_missing", "GD-1-12", "bagit.txt")}),
    "malformed_manifest_line": v(
        malformed_manifest_line, {("manifest_line_invalid", "GD-1-12", "manifest-sha256.txt")}
    ),
    "payload_manifest_lists_tag_file": v(
        payload_manifest_lists_tag_file, {("manifest_path_misplaced", "GD-1-13", "manifest-sha256.txt")}
    ),
    "bagit_version_096": v(bagit_version_096, {("version_unsupported", "GD-1-12", "bagit.txt")}),
    "bagit_three_lines": v(bagit_three_lines, {("declaration_invalid", "GD-1-12", "bagit.txt")}),
    "bagit_bom": v(bagit_bom, {("declaration_invalid", "GD-1-12", "bagit.txt")}),
    "bagit_no_encoding_line": v(bagit_no_encoding_line, {("declaration_invalid", "GD-1-12", "bagit.txt")}),
    "bagit_unknown_encoding": v(
        bagit_unknown_encoding, {("tag_encoding_unsupported", "GD-1-12", "bagit.txt")}
    ),
    "bag_info_removed_not_retagged": v(
        bag_info_removed_not_retagged,
        {("tag_file_missing", "GD-1-11", "bag-info.txt")},
        {("payload_oxum_missing", "GD-1-12", "bag-info.txt")},
    ),
    "bag_info_edited_not_retagged": v(
        bag_info_edited_not_retagged, {("digest_mismatch", "GD-1-1", "bag-info.txt")}
    ),
}


# ------------------------------------------------------------------ bags made by bagit-python
@pytest.mark.parametrize("checksums", [("sha256", "sha512"), ("sha256",), ("sha512",)])
def test_bag_made_by_bagit_python_is_valid(tmp_path: Path, checksums: tuple[str, ...]) -> None:
    report = validate(tmp_path, make_bag(tmp_path, checksums))
    assert report.problems == [] and report.warnings == []
    assert report.valid
    assert report.algorithms == checksums
    assert report.version == "0.97" and report.encoding == "UTF-8"
    assert report.payload_oxum == (sum(len(b) for b in SOURCE.values()), len(SOURCE))
    assert report.info["Source-Organization"] == ["某某人民法院"]


def test_md5_bag_is_valid_with_weak_algorithm_warning(tmp_path: Path) -> None:
    report = validate(tmp_path, make_bag(tmp_path, ("md5",)))
    assert report.valid
    assert report.algorithms == ("md5",)
    assert triples(report.warnings) == {
        ("weak_algorithm", "GD-1-1", "manifest-md5.txt"),
        ("weak_algorithm", "GD-1-1", "tagmanifest-md5.txt"),
    }


def test_zipped_bag_in_one_top_folder_is_valid(tmp_path: Path) -> None:
    bag = make_bag(tmp_path)
    archive = tmp_path / "bag.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                zf.write(path, "案卷/" + path.relative_to(bag).as_posix())
    staged = open_package(archive, tmp_path / "staging", limits=LIMITS)
    report = validate_bag(staged, digest_reader(staged), LIMITS)
    assert report.valid, report.problems


# ------------------------------------------------------------------ the vector table
@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_vector_has_no_problems_or_warnings(tmp_path: Path, name: str) -> None:
    bag = make_bag(tmp_path)
    VALID[name].mutate(bag)
    report = validate(tmp_path, bag)
    assert report.problems == [] and report.warnings == []
    assert report.valid


@pytest.mark.parametrize("name", sorted(WARNING))
def test_warning_vector_is_valid_with_exactly_its_warnings(tmp_path: Path, name: str) -> None:
    bag = make_bag(tmp_path)
    WARNING[name].mutate(bag)
    report = validate(tmp_path, bag)
    assert report.problems == []
    assert report.valid
    assert triples(report.warnings) == WARNING[name].warnings


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_vector_fails_with_exactly_its_codes(tmp_path: Path, name: str) -> None:
    bag = make_bag(tmp_path)
    INVALID[name].mutate(bag)
    report = validate(tmp_path, bag)
    assert not report.valid
    assert triples(report.problems) == INVALID[name].problems
    assert triples(report.warnings) == INVALID[name].warnings
    assert all(p.message for p in report.problems)


def test_digest_mismatch_is_reported_once_per_manifest_with_both_digests(tmp_path: Path) -> None:
    bag = make_bag(tmp_path)
    changed_payload_byte(bag)
    report = validate(tmp_path, bag)
    assert [p.code for p in report.problems] == ["digest_mismatch", "digest_mismatch"]
    sha256_message = next(p.message for p in report.problems if "manifest-sha256.txt" in p.message)
    assert sha256_of(SOURCE["a.txt"]) in sha256_message
    assert sha256_of((bag / A).read_bytes()) in sha256_message


def test_transfer_stage_problems_carry_yj_item_ids(tmp_path: Path) -> None:
    bag = make_bag(tmp_path)
    removed_payload_file(bag)
    report = validate(tmp_path, bag, stage_id="YJ")
    assert {p.item for p in report.problems} == {"YJ-2-11", "YJ-2-1", "YJ-2-2"}


def test_preservation_stage_is_refused_as_a_caller_error(tmp_path: Path) -> None:
    staged = stage(make_bag(tmp_path), tmp_path)
    with pytest.raises(ValueError, match="stage"):
        validate_bag(staged, digest_reader(staged), LIMITS, stage="BC")


def test_tag_file_over_the_xml_limit_is_refused_unread(tmp_path: Path) -> None:
    report = validate(tmp_path, make_bag(tmp_path), limits=Limits(xml_bytes=60))
    assert ("tag_file_too_large", "GD-1-12", "manifest-sha512.txt") in triples(report.problems)
    assert not report.valid


def test_manifest_with_more_entries_than_the_file_limit_is_refused(tmp_path: Path) -> None:
    report = validate(tmp_path, make_bag(tmp_path, ("sha256",)), limits=Limits(file_count=2))
    assert ("manifest_too_long", "GD-1-12", "manifest-sha256.txt") in triples(report.problems)


def test_package_without_bagit_txt_is_not_a_bag(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    staged = stage(folder, tmp_path)
    assert not is_bag(staged)
    report = validate_bag(staged, digest_reader(staged), LIMITS)
    assert triples(report.problems) == {("declaration_missing", "GD-1-12", "bagit.txt")}
    assert not report.valid


def test_bag_with_empty_payload_is_refused(tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    bag.mkdir()
    bagit.make_bag(str(bag), checksums=["sha256"])  # bagit-python writes no payload manifest then
    report = validate(tmp_path, bag)
    assert triples(report.problems) == {
        ("payload_empty", "GD-2-11", "data/"),
        ("manifest_missing", "GD-1-12", "bagit.txt"),
    }


# ------------------------------------------------------------------ pure pieces
def test_split_lines_accepts_lf_cr_and_crlf() -> None:
    assert split_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]
    assert split_lines("") == []


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        ("data/a%0D%0Ab.txt", "data/a\r\nb.txt"),
        ("data/a%0d%0ab.txt", "data/a\r\nb.txt"),
        ("data/100%25.txt", "data/100%.txt"),
        ("data/%250A.txt", "data/%0A.txt"),  # one pass: %25 then literal 0A
        ("data/50%.txt", "data/50%.txt"),
        ("data/%41.txt", "data/%41.txt"),  # only CR, LF and % are encoded
        ("data/cafe\u0301.txt", "data/caf\u00e9.txt"),  # NFC, as intake stores paths
    ],
)
def test_decode_path_decodes_only_cr_lf_and_percent(encoded: str, decoded: str) -> None:
    assert decode_path(encoded) == decoded


@pytest.mark.parametrize(
    "path",
    ["../x", "data/../../x", "/etc/passwd", "C:/x", "\\\\server\\x", "data//x", "data/./x", "data\\..\\x"],
)
def test_path_escape_reason_refuses_paths_leaving_the_bag(path: str) -> None:
    assert path_escape_reason(path) is not None


def test_bag_info_continuation_lines_join_the_previous_value() -> None:
    findings = Findings("GD")
    info = parse_bag_info(
        "External-Description: 第一行\n  第二行\n\tthird\nKeyword: a\nKeyword: b\nno colon\n", findings
    )
    assert info == {"External-Description": ["第一行 第二行 third"], "Keyword": ["a", "b"]}
    assert [(p.code, p.item, p.line) for p in findings.problems] == [("bag_info_line_invalid", "GD-1-12", 6)]


def test_bag_info_leading_continuation_line_is_refused() -> None:
    findings = Findings("GD")
    assert parse_bag_info(" orphan\nA: b\n", findings) == {"A": ["b"]}
    assert [p.code for p in findings.problems] == ["bag_info_line_invalid"]


# ------------------------------------------------------------------ digest reader
def test_digest_reader_answers_sha256_from_staging_without_reading(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    recorded = "ab" * 32  # deliberately not the real digest: proves the staged value is used
    staged = StagedPackage(tmp_path, (StagedFile("f", 3, {"sha256": recorded}),), "t", "folder", "0" * 64)
    digest = digest_reader(staged)
    assert digest("f", "sha256") == recorded
    assert digest("f", "md5") == hashlib.md5(b"abc", usedforsecurity=False).hexdigest()
    assert digest("f", "sm3") == hashlib.new("sm3", b"abc").hexdigest()


def test_digest_reader_caches_streamed_digests(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    staged = StagedPackage(tmp_path, (StagedFile("f", 3, {}),), "t", "folder", "0" * 64)
    digest = digest_reader(staged)
    first = digest("f", "sha512")
    (tmp_path / "f").unlink()
    assert digest("f", "sha512") == first == hashlib.sha512(b"abc").hexdigest()


def test_digest_reader_refuses_unknown_paths_and_algorithms(tmp_path: Path) -> None:
    staged = StagedPackage(tmp_path, (StagedFile("f", 0, {}),), "t", "folder", "0" * 64)
    digest = digest_reader(staged)
    with pytest.raises(KeyError):
        digest("nope", "sha256")
    with pytest.raises(ValueError, match="algorithm"):
        digest("f", "crc32")


def test_digest_reader_translates_unreadable_staged_file(tmp_path: Path) -> None:
    from archive.bag_digests import StagedFileUnreadable

    staged = StagedPackage(tmp_path, (StagedFile("gone", 1, {}),), "t", "folder", "0" * 64)
    with pytest.raises(StagedFileUnreadable):
        digest_reader(staged)("gone", "md5")


# ------------------------------------------------------------------ CLI
def test_validate_bag_command_exit_0_with_warnings_listed_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staged = stage(make_bag(tmp_path, ("md5",)), tmp_path)
    code = validate_bag_command(staged, Settings(data_dir=tmp_path / "data"), as_json=True)
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["valid"] is True and out["form"] == "bagit" and out["errors"] == []
    assert {w["code"] for w in out["warnings"]} == {"weak_algorithm"}
    assert out["payload_oxum"] == [sum(len(b) for b in SOURCE.values()), len(SOURCE)]


def test_validate_bag_command_exit_1_prints_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag = make_bag(tmp_path)
    changed_payload_byte(bag)
    code = validate_bag_command(stage(bag, tmp_path), Settings(data_dir=tmp_path / "data"), as_json=False)
    out = capsys.readouterr().out
    assert code == 1
    assert "检测未通过" in out and "digest_mismatch" in out and "GD-1-1" in out


def test_bag_vectors_do_not_touch_the_source_folder(tmp_path: Path) -> None:
    bag = make_bag(tmp_path)
    before = {p: p.read_bytes() for p in bag.rglob("*") if p.is_file()}
    validate(tmp_path, bag)
    assert {p: p.read_bytes() for p in bag.rglob("*") if p.is_file()} == before
    shutil.rmtree(tmp_path / "staging")
