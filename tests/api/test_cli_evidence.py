"""``edossier evidence`` / ``verify`` / ``ledger public-key``: exit codes 0 valid, 1 invalid, 2 malformed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from api.cli_evidence import evidence, observe_folder, public_key, verify
from api.wiring import initialise, open_installation
from archive.sample import generate_sample
from archive.settings import Settings
from integrity.signed_note import Ed25519Signer

NOW = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)

# Registered as api/cli.py registers them: top-level ``evidence`` and ``verify``, ``ledger public-key``.
app = typer.Typer(pretty_exceptions_enable=False)
app.command("evidence")(evidence)
app.command("verify")(verify)
_ledger = typer.Typer()
_ledger.command("public-key")(public_key)
app.add_typer(_ledger, name="ledger")
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_json(stdout: str) -> dict[str, Any]:
    value = json.loads(stdout)
    assert isinstance(value, dict)
    return value


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A data directory with one archived sample, its folder, its bundle and the verifier key file."""
    root = tmp_path_factory.mktemp("cli-evidence")
    data = root / "data"
    settings = Settings(data_dir=data)
    initialise(settings)
    inst = open_installation(settings)
    folder = generate_sample(root / "case", seed=31, documents=3, now=NOW).path
    outcome = inst.ingest_service().ingest(folder)
    inst.close()
    assert outcome.status == "archived" and outcome.archive_id
    code, stdout, _ = run("ledger", "public-key", "--data-dir", data)
    assert code == 0
    (root / "log.pub").write_text(stdout, encoding="utf-8")
    code, _, stderr = run(
        "evidence", outcome.archive_id, "-o", root / "dossier.tlog-proof", "--data-dir", data
    )
    assert code == 0, stderr
    return {
        "root": root,
        "data": data,
        "id": outcome.archive_id,
        "folder": folder,
        "bundle": root / "dossier.tlog-proof",
        "key": root / "log.pub",
    }


def test_evidence_bundle_verifies_offline_with_the_published_key_and_files(archive) -> None:
    code, stdout, _ = run("verify", archive["bundle"], "--key", archive["key"], "--files", archive["folder"])

    assert code == 0
    assert "有效 VALID" in stdout and "files" in stdout


def test_verify_json_is_one_object_listing_every_check(archive) -> None:
    code, stdout, _ = run("verify", archive["bundle"], "--key", archive["key"], "--json")

    result = one_json(stdout)
    assert code == 0 and result["status"] == "valid" and result["valid"] is True
    assert [c["name"] for c in result["checks"]] == [
        "signature",
        "leaf",
        "inclusion",
        "manifest",
        "manifest-digest",
        "archive-id",
    ]


def test_verify_exits_1_naming_a_changed_file_and_warning_of_an_extra_one(archive, tmp_path: Path) -> None:
    folder = shutil.copytree(archive["folder"], tmp_path / "copy")
    victim = sorted(folder.rglob("*.xml"))[0]
    victim.write_bytes(victim.read_bytes() + b"\n")
    (folder / "notes.txt").write_text("not archived", encoding="utf-8")

    code, stdout, _ = run("verify", archive["bundle"], "--key", archive["key"], "--files", folder, "--json")

    result = one_json(stdout)
    bad = [(c["name"], c["path"], c["code"]) for c in result["checks"] if not c["passed"]]
    assert code == 1 and result["status"] == "invalid"
    assert bad == [
        ("file", victim.relative_to(folder).as_posix(), "evidence_file_size_mismatch"),
        ("files", None, "evidence_files_differ"),
    ]
    assert result["warnings"] == ["notes.txt: in the folder but not listed in the manifest"]


def test_verify_exits_1_under_another_key(archive, tmp_path: Path) -> None:
    other = tmp_path / "other.pub"
    other.write_text(Ed25519Signer.generate("edossier").verifier().to_key_string() + "\n", encoding="utf-8")

    code, stdout, _ = run("verify", archive["bundle"], "--key", other, "--json")

    assert code == 1
    assert [c["code"] for c in one_json(stdout)["checks"] if not c["passed"]] == ["note_unknown_key"]


def test_verify_exits_1_for_an_edited_manifest(archive, tmp_path: Path) -> None:
    edited = tmp_path / "edited.tlog-proof"
    edited.write_text(
        archive["bundle"].read_text(encoding="utf-8").replace('"version":1', '"version":2'), "utf-8"
    )

    code, stdout, _ = run("verify", edited, "--key", archive["key"])

    assert code == 1
    assert "manifest-digest" in stdout and "无效 INVALID" in stdout


@pytest.mark.parametrize(
    ("bundle_text", "key_text", "error_code"),
    [
        ("not a bundle\n", None, "evidence_malformed_proof"),
        (None, "edossier-without-key-parts\n", "note_malformed_key"),
        (None, "# only a comment\n", "bad_input"),
    ],
    ids=["garbage-bundle", "bad-key-string", "empty-key-file"],
)
def test_verify_exits_2_for_malformed_bundle_or_key(
    archive, tmp_path, bundle_text, key_text, error_code
) -> None:
    bundle, key = archive["bundle"], archive["key"]
    if bundle_text is not None:
        bundle = tmp_path / "b.tlog-proof"
        bundle.write_text(bundle_text, encoding="utf-8")
    if key_text is not None:
        key = tmp_path / "k.pub"
        key.write_text(key_text, encoding="utf-8")

    code, stdout, _ = run("verify", bundle, "--key", key, "--json")

    assert code == 2
    assert one_json(stdout)["status"] == "malformed" and one_json(stdout)["error"]["code"] == error_code


def test_verify_exits_2_when_the_bundle_file_cannot_be_read(archive, tmp_path: Path) -> None:
    code, _, stderr = run("verify", tmp_path / "absent.tlog-proof", "--key", archive["key"])

    assert code == 2 and "malformed bundle" in stderr


def test_evidence_of_unknown_dossier_exits_1(archive, tmp_path: Path) -> None:
    code, stdout, _ = run(
        "evidence", "ED-0000-0", "-o", tmp_path / "x", "--data-dir", archive["data"], "--json"
    )

    assert code == 1 and one_json(stdout) == {"found": False, "query": "ED-0000-0"}
    assert not (tmp_path / "x").exists()


def test_evidence_refuses_to_replace_a_file_without_force(archive, tmp_path: Path) -> None:
    target = tmp_path / "b.tlog-proof"
    target.write_text("keep me", encoding="utf-8")
    args = ("evidence", archive["id"], "-o", target, "--data-dir", archive["data"])

    refused, _, _ = run(*args)
    kept = target.read_text(encoding="utf-8")
    replaced, _, _ = run(*args, "--force")

    assert (refused, kept, replaced) == (2, "keep me", 0)
    assert target.read_bytes() == archive["bundle"].read_bytes()


def test_public_key_json_names_the_live_key(archive) -> None:
    code, stdout, _ = run("ledger", "public-key", "--all", "--json", "--data-dir", archive["data"])

    result = one_json(stdout)
    assert code == 0
    assert result["key"] == archive["key"].read_text(encoding="utf-8").strip() == result["keys"][0]


def test_observe_folder_hashes_listed_files_only_and_does_not_follow_links(tmp_path: Path) -> None:
    (tmp_path / "正卷").mkdir()
    (tmp_path / "正卷" / "1.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "extra.txt").write_bytes(b"abc")
    (tmp_path / "link.pdf").symlink_to(tmp_path / "正卷" / "1.pdf")
    (tmp_path / "linked-dir").symlink_to(tmp_path / "正卷", target_is_directory=True)

    seen, warnings = observe_folder(tmp_path, {"正卷/1.pdf", "link.pdf"})

    assert seen["正卷/1.pdf"].size == 8 and set(seen["正卷/1.pdf"].digests) == {"sha256", "sm3"}
    assert seen["extra.txt"].digests == {} and "link.pdf" not in seen
    assert sorted(w.split(":")[0] for w in warnings) == ["link.pdf", "linked-dir"]
