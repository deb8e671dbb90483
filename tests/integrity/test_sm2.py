"""SM2 signed-note keys: OpenSSL interoperability both ways, strict checks, key strings and files."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys

from integrity.keys import InsecureKeyFile, KeyFileMismatch, key_paths
from integrity.signed_note import (
    BadSignature,
    Ed25519Signer,
    Ed25519Verifier,
    KeyIdMismatch,
    MalformedKey,
    UnsupportedKeyAlgorithm,
    open_note,
    sign_note,
)
from integrity.sm2 import (
    SIG_TYPE_SM2,
    Sm2Signer,
    Sm2Verifier,
    ensure_sm2_key,
    is_on_curve,
    load_sm2_signer,
    parse_verifier_key,
    sm2_key_id,
)
from tests.integrity.vectors import load

VECTORS = load("sm2_openssl.json")
OPENSSL = load("sm2_openssl.json")["valid"][0]
SIGNER = Sm2Signer("court.example/sm2", (12345678901234567890).to_bytes(32, "big"))


def _openssl_has_sm2() -> bool:
    if shutil.which("openssl") is None:
        return False
    out = subprocess.run(["openssl", "list", "-public-key-algorithms"], capture_output=True, text=True)
    return "SM2" in out.stdout


needs_openssl = pytest.mark.skipif(not _openssl_has_sm2(), reason="openssl with SM2 support not installed")


def openssl_verifier() -> Sm2Verifier:
    return Sm2Verifier(OPENSSL["name"], bytes.fromhex(OPENSSL["public_key_hex"]))


def test_signature_type_is_0xff_then_der_oid_of_sm2_with_sm3():
    oid = asn1_core.ObjectIdentifier("1.2.156.10197.1.501").dump()  # SM2-with-SM3, GM/T 0006
    assert (SIG_TYPE_SM2[:1], SIG_TYPE_SM2[1:]) == (b"\xff", oid)


def test_openssl_signature_vector_verifies():
    message = OPENSSL["message"].encode()
    assert openssl_verifier().verify(message, bytes.fromhex(OPENSSL["signature_der_hex"]))


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["mutation"])
def test_mutated_openssl_signature_is_rejected(case):
    assert not openssl_verifier().verify(case["message"].encode(), bytes.fromhex(case["signature_der_hex"]))


def test_our_signature_verifies_and_is_randomised():
    message = b"edossier.example/court-archive\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    first, second = SIGNER.sign(message), SIGNER.sign(message)
    assert first != second
    assert SIGNER.verifier().verify(message, first) and SIGNER.verifier().verify(message, second)
    assert not SIGNER.verifier().verify(message + b"x", first)
    assert not Sm2Signer.generate("court.example/sm2").verifier().verify(message, first)


@needs_openssl
def test_openssl_verifies_our_signature_with_default_user_id(tmp_path: Path):
    message = b"checkpoint body\n"
    spki = asn1_keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": asn1_keys.ECDomainParameters(name="named", value="1.2.156.10197.1.301"),
            },
            "public_key": SIGNER.verifier().public_key,
        }
    )
    (tmp_path / "pub.der").write_bytes(spki.dump())
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(SIGNER.sign(message))
    result = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", str(tmp_path / "pub.der"),
         "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
         "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "sig")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Verified Successfully" in result.stdout


def test_key_strings_round_trip_and_key_id_follows_signed_note_rule():
    v = SIGNER.verifier()
    name, hex_id, b64 = v.to_key_string().split("+", 2)
    raw = base64.b64decode(b64)
    assert name == "court.example/sm2"
    assert (raw[: len(SIG_TYPE_SM2)], raw[len(SIG_TYPE_SM2) :]) == (SIG_TYPE_SM2, v.public_key)
    assert hex_id == sm2_key_id(name, v.public_key).hex() == v.key_id.hex()
    assert Sm2Verifier.from_key_string(v.to_key_string()) == v
    again = Sm2Signer.from_key_string(SIGNER.to_key_string())
    assert again.key_id == SIGNER.key_id and again.to_key_string() == SIGNER.to_key_string()
    assert SIGNER.to_key_string().startswith("PRIVATE+KEY+court.example/sm2+")
    assert "PRIVATE" not in repr(SIGNER) and SIGNER.to_key_string() not in repr(SIGNER)


def test_key_string_with_wrong_key_id_is_refused():
    name, _, b64 = SIGNER.verifier().to_key_string().split("+", 2)
    with pytest.raises(KeyIdMismatch):
        Sm2Verifier.from_key_string(f"{name}+00000000+{b64}")


def test_public_key_off_the_curve_is_refused():
    pub = bytearray(SIGNER.verifier().public_key)
    pub[-1] ^= 1
    assert not is_on_curve(bytes(pub))
    b64 = base64.b64encode(SIG_TYPE_SM2 + bytes(pub)).decode()
    with pytest.raises(MalformedKey):
        Sm2Verifier.from_key_string(f"x+{sm2_key_id('x', bytes(pub)).hex()}+{b64}")


def test_ed25519_key_string_is_not_an_sm2_key_but_parse_verifier_key_accepts_both():
    ed = Ed25519Signer("court.example/ledger", bytes(32)).verifier()
    with pytest.raises(UnsupportedKeyAlgorithm):
        Sm2Verifier.from_key_string(ed.to_key_string())
    assert isinstance(parse_verifier_key(ed.to_key_string()), Ed25519Verifier)
    assert parse_verifier_key(SIGNER.verifier().to_key_string()) == SIGNER.verifier()


@pytest.mark.parametrize("d", [0, (2**256 - 1)])
def test_private_scalar_out_of_range_is_refused(d):
    with pytest.raises(ValueError, match=r"\[1, n-2\]"):
        Sm2Signer("x", d.to_bytes(32, "big"))


def test_note_signed_by_ed25519_and_sm2_opens_with_either_key():
    ed = Ed25519Signer("court.example/ledger", bytes(range(32)))
    note = sign_note("origin\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", ed, SIGNER)
    assert note.count("\n— ") == 2
    assert open_note(note, [SIGNER.verifier()]).verified == ("court.example/sm2",)
    assert open_note(note, [ed.verifier(), SIGNER.verifier()]).verified == (
        "court.example/ledger",
        "court.example/sm2",
    )


def test_note_with_tampered_sm2_signature_fails_for_a_verifier_trusting_sm2():
    note = sign_note("text\n", SIGNER)
    head, _, blob = note.rstrip("\n").rpartition(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    with pytest.raises(BadSignature):
        open_note(f"{head} {base64.b64encode(bytes(raw)).decode()}\n", [SIGNER.verifier()])


def test_ensure_sm2_key_writes_private_file_0600_and_loads_it_back(tmp_path: Path):
    first = ensure_sm2_key(tmp_path, "court.example/sm2")
    key_path, pub_path = key_paths(tmp_path, "court.example/sm2")
    assert oct(key_path.stat().st_mode & 0o777) == oct(0o600)
    assert pub_path.read_text().strip() == first.verifier().to_key_string()
    assert ensure_sm2_key(tmp_path, "court.example/sm2").key_id == first.key_id


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_group_readable_sm2_key_file_is_refused(tmp_path: Path):
    ensure_sm2_key(tmp_path, "k")
    key_path, _ = key_paths(tmp_path, "k")
    key_path.chmod(0o640)
    with pytest.raises(InsecureKeyFile):
        load_sm2_signer(tmp_path, "k")


def test_sm2_key_file_for_another_name_is_refused(tmp_path: Path):
    ensure_sm2_key(tmp_path, "a")
    key_a, _ = key_paths(tmp_path, "a")
    key_b, _ = key_paths(tmp_path, "b")
    key_b.write_text(key_a.read_text())
    key_b.chmod(0o600)
    with pytest.raises(KeyFileMismatch):
        load_sm2_signer(tmp_path, "b")
