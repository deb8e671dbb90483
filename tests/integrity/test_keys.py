from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from integrity.keys import (
    InsecureKeyFile,
    KeyFileMismatch,
    KeyFileMissingError,
    ensure_key,
    key_paths,
    load_signer,
    load_verifier,
    write_key,
)
from integrity.signed_note import Ed25519Signer, open_note, sign_note
from tests.integrity.vectors import load

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def test_ensure_key_creates_pair_that_loads_back(tmp_path):
    signer = ensure_key(tmp_path, "court.example/ledger")
    key_path, pub_path = key_paths(tmp_path, "court.example/ledger")
    assert key_path.name == "court.example_ledger.key"
    assert pub_path.read_text() == signer.verifier().to_key_string() + "\n"
    loaded = load_signer(tmp_path, "court.example/ledger")
    note = sign_note("x\n", loaded)
    assert open_note(note, [load_verifier(tmp_path, "court.example/ledger")]).verified == (
        "court.example/ledger",
    )


@posix_only
def test_ensure_key_writes_private_key_mode_0600(tmp_path):
    ensure_key(tmp_path, "log")
    key_path, _ = key_paths(tmp_path, "log")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_ensure_key_returns_existing_key(tmp_path):
    first = ensure_key(tmp_path, "log")
    again = ensure_key(tmp_path, "log")
    assert again.to_key_string() == first.to_key_string()


def test_ensure_key_restores_missing_public_key(tmp_path):
    signer = ensure_key(tmp_path, "log")
    _, pub_path = key_paths(tmp_path, "log")
    pub_path.unlink()
    ensure_key(tmp_path, "log")
    assert load_verifier(tmp_path, "log") == signer.verifier()


def test_ensure_key_rejects_public_key_of_other_pair(tmp_path):
    ensure_key(tmp_path, "log")
    _, pub_path = key_paths(tmp_path, "log")
    pub_path.write_text(Ed25519Signer.generate("log").verifier().to_key_string() + "\n")
    with pytest.raises(KeyFileMismatch, match="public key"):
        ensure_key(tmp_path, "log")


@posix_only
def test_load_signer_refuses_group_readable_key(tmp_path):
    ensure_key(tmp_path, "log")
    key_path, _ = key_paths(tmp_path, "log")
    key_path.chmod(0o640)
    with pytest.raises(InsecureKeyFile, match="found 0640"):
        load_signer(tmp_path, "log")


def test_load_signer_reports_missing_file(tmp_path):
    with pytest.raises(KeyFileMissingError, match="does not exist"):
        load_signer(tmp_path, "absent")


def test_load_verifier_rejects_key_for_other_name(tmp_path):
    _, pub_path = key_paths(tmp_path, "log")
    pub_path.write_text(load("signed_note_go.json")["valid"]["verifier_key"] + "\n")
    with pytest.raises(KeyFileMismatch, match="'PeterNeumann'"):
        load_verifier(tmp_path, "log")


def test_write_key_never_overwrites(tmp_path):
    ensure_key(tmp_path, "log")
    with pytest.raises(FileExistsError):
        write_key(tmp_path, Ed25519Signer.generate("log"))


def test_load_signer_reads_go_key_file(tmp_path):
    go = load("signed_note_go.json")["valid"]
    key_path, _ = key_paths(tmp_path, "PeterNeumann")
    key_path.write_text(go["signer_key"] + "\n")
    key_path.chmod(0o600)
    assert sign_note(go["text"], load_signer(tmp_path, "PeterNeumann")) == go["note"]


def test_ensure_key_refuses_a_public_key_without_its_private_key(tmp_path: Path) -> None:
    """A restored data directory holds only the .pub: never generate a second identity beside it."""
    ensure_key(tmp_path, "court.example/ledger")
    key_path, pub_path = key_paths(tmp_path, "court.example/ledger")
    key_path.unlink()
    with pytest.raises(KeyFileMissingError, match=r"private key .* is missing"):
        ensure_key(tmp_path, "court.example/ledger")
    assert not key_path.exists() and pub_path.exists()
