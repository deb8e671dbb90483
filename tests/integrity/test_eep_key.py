"""integrity.eep_key: the archive's ECDSA P-256 EEP key and self-signed certificate on disk."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

from integrity.eep_key import (
    MalformedEepKey,
    eep_key_paths,
    ensure_eep_signer,
    load_eep_signer,
)
from integrity.eep_signatures import (
    ECDSA_SHA256,
    CertificateNotValidAtSigning,
    algorithm_of,
    verify_certificate_path,
    verify_raw,
)
from integrity.keys import InsecureKeyFile, KeyFileMismatch, KeyFileMissingError

NOW = dt.datetime(2025, 3, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
UNIT = "某某市中级人民法院档案室"
posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _private_scalar_hex(path: Path) -> str:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return f"{key.private_numbers().private_value:x}"


@posix_only
def test_ensure_writes_pkcs8_key_mode_0600_and_pem_certificate(tmp_path: Path) -> None:
    signer = ensure_eep_signer(tmp_path / "keys", "court.example/eep", unit=UNIT, now=NOW)
    key_path, cert_path = eep_key_paths(tmp_path / "keys", "court.example/eep")
    assert (key_path.name, cert_path.name) == ("court.example_eep.eep.key", "court.example_eep.eep.crt")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_path.stat().st_mode) == 0o644
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8, unencrypted
    assert cert_path.read_bytes() == signer.certificate_pem
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        cert_path.name,
        key_path.name,
    ]  # no temp files


def test_ensure_twice_loads_the_same_key_and_certificate(tmp_path: Path) -> None:
    first = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    again = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW + dt.timedelta(days=400))
    loaded = load_eep_signer(tmp_path, "eep")
    assert again.certificate_der == loaded.certificate_der == first.certificate_der
    assert again.public_key_der == first.public_key_der
    cert = asn1_x509.Certificate.load(first.certificate_der)
    assert verify_raw(ECDSA_SHA256, cert, b"message", again.sign(b"message"))


def test_certificate_is_self_signed_p256_sha256_for_the_unit_valid_30_years(tmp_path: Path) -> None:
    signer = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    cert = x509.load_der_x509_certificate(signer.certificate_der)
    assert cert.version == x509.Version.v3
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == UNIT
    cert.verify_directly_issued_by(cert)  # raises if the self-signature is wrong
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert isinstance(public.curve, ec.SECP256R1)
    start = (NOW - dt.timedelta(days=1)).astimezone(dt.UTC)
    assert cert.not_valid_before_utc == start
    assert cert.not_valid_after_utc == start.replace(year=start.year + 30)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_certificate_is_a_trust_root_for_our_verifier_through_its_validity_only(tmp_path: Path) -> None:
    signer = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    cert = asn1_x509.Certificate.load(signer.certificate_der)
    for at in (NOW, NOW + dt.timedelta(days=365 * 29)):
        verify_certificate_path(cert, [], [signer.certificate_der], at)
    with pytest.raises(CertificateNotValidAtSigning):
        verify_certificate_path(cert, [], [signer.certificate_der], NOW + dt.timedelta(days=365 * 31))


def test_signatures_are_der_ecdsa_over_the_exact_message(tmp_path: Path) -> None:
    signer = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    assert algorithm_of(signer.algorithm) == ECDSA_SHA256
    cert = asn1_x509.Certificate.load(signer.certificate_der)
    message = "被签名对象".encode()
    signature = signer.sign(message)
    assert signature[0] == 0x30  # DER SEQUENCE (ECDSA-Sig-Value)
    assert verify_raw(ECDSA_SHA256, cert, message, signature)
    assert not verify_raw(ECDSA_SHA256, cert, message + b"!", signature)


@posix_only
def test_group_readable_key_file_is_refused(tmp_path: Path) -> None:
    ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    key_path, _ = eep_key_paths(tmp_path, "eep")
    key_path.chmod(0o644)
    with pytest.raises(InsecureKeyFile) as info:
        load_eep_signer(tmp_path, "eep")
    assert "0644" in info.value.message
    with pytest.raises(InsecureKeyFile):
        ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)


def test_certificate_of_another_key_is_refused(tmp_path: Path) -> None:
    ensure_eep_signer(tmp_path / "a", "eep", unit=UNIT, now=NOW)
    other = ensure_eep_signer(tmp_path / "b", "eep", unit=UNIT, now=NOW)
    _, cert_path = eep_key_paths(tmp_path / "a", "eep")
    cert_path.write_bytes(other.certificate_pem)
    with pytest.raises(KeyFileMismatch) as info:
        load_eep_signer(tmp_path / "a", "eep")
    assert info.value.code == "key_file_mismatch"
    with pytest.raises(KeyFileMismatch):
        ensure_eep_signer(tmp_path / "a", "eep", unit=UNIT, now=NOW)


def test_certificate_for_the_key_but_signed_by_another_is_refused(tmp_path: Path) -> None:
    signer = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    _, cert_path = eep_key_paths(tmp_path, "eep")
    own = x509.load_der_x509_certificate(signer.certificate_der)
    forged = (
        x509.CertificateBuilder()
        .subject_name(own.subject)
        .issuer_name(own.issuer)
        .public_key(own.public_key())  # type: ignore[arg-type]
        .serial_number(1)
        .not_valid_before(own.not_valid_before_utc)
        .not_valid_after(own.not_valid_after_utc)
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    )
    cert_path.write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(KeyFileMismatch, match="self-signed"):
        load_eep_signer(tmp_path, "eep")


def test_existing_certificate_for_another_unit_is_refused_by_ensure(tmp_path: Path) -> None:
    ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    with pytest.raises(KeyFileMismatch, match="CN"):
        ensure_eep_signer(tmp_path, "eep", unit="另一个单位", now=NOW)


def test_missing_files_are_reported_and_ensure_recertifies_an_orphan_key(tmp_path: Path) -> None:
    with pytest.raises(KeyFileMissingError):
        load_eep_signer(tmp_path, "eep")
    first = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    _, cert_path = eep_key_paths(tmp_path, "eep")
    cert_path.unlink()
    with pytest.raises(KeyFileMissingError):
        load_eep_signer(tmp_path, "eep")
    again = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    assert again.public_key_der == first.public_key_der  # same key, new certificate
    assert load_eep_signer(tmp_path, "eep").certificate_der == again.certificate_der


def test_new_key_replaces_a_leftover_certificate_without_its_key(tmp_path: Path) -> None:
    old = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    key_path, _ = eep_key_paths(tmp_path, "eep")
    key_path.unlink()
    new = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    assert new.public_key_der != old.public_key_der
    assert load_eep_signer(tmp_path, "eep").certificate_der == new.certificate_der


@posix_only
def test_malformed_or_wrong_curve_key_is_refused_without_echoing_the_file(tmp_path: Path) -> None:
    ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    key_path, _ = eep_key_paths(tmp_path, "eep")
    secret = _private_scalar_hex(key_path)
    damaged = key_path.read_bytes().replace(b"\n", b"\n#", 3)
    key_path.write_bytes(damaged)
    with pytest.raises(MalformedEepKey) as info:
        load_eep_signer(tmp_path, "eep")
    assert secret not in info.value.diagnostics()
    assert damaged.decode()[30:60] not in info.value.diagnostics()
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.write_bytes(p384)
    with pytest.raises(MalformedEepKey, match="P-256"):
        load_eep_signer(tmp_path, "eep")


def test_signer_repr_does_not_show_the_private_key(tmp_path: Path) -> None:
    signer = ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW)
    key_path, _ = eep_key_paths(tmp_path, "eep")
    text = repr(signer)
    assert "_private_key" not in text
    assert _private_scalar_hex(key_path) not in text
    assert str(signer.name) in text


def test_naive_time_or_empty_unit_is_a_caller_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ensure_eep_signer(tmp_path, "eep", unit=UNIT, now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="unit"):
        ensure_eep_signer(tmp_path, "eep", unit=" ", now=NOW)
    assert not any(tmp_path.iterdir())
