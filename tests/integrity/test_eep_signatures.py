"""integrity.eep_signatures: every 电子签名 and the 锁定签名 of an EEP (DA/T 70 BC-1-16).

expected.json (tests/vectors/eep) names the error class verify_eep_signatures raises per vector.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from integrity import eep_signatures
from integrity.eep_signatures import (
    CertificateNotValidAtSigning,
    CertificateUntrusted,
    KeyAlgorithmMismatch,
    LockTargetMissing,
    MalformedSignature,
    UnsupportedSignatureAlgorithm,
    check_eep_signatures,
    sm2_verify,
    verify_eep_signatures,
    verify_signature,
)
from integrity.sm2 import Sm2Signer
from standards.eep import EepPackage, parse_eep
from standards.limits import Limits

VECTORS = Path(__file__).parents[1] / "vectors" / "eep"
EXPECTED: dict[str, dict[str, Any]] = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
ROOT_P256 = (VECTORS / "certs" / "root-p256.der").read_bytes()
ROOT_SM2 = (VECTORS / "certs" / "sm2-self-signed.der").read_bytes()
PARSEABLE = sorted(r for r in EXPECTED if not EXPECTED[r]["parse"])


def _pkg(rel: str) -> EepPackage:
    return parse_eep((VECTORS / rel).read_bytes(), Limits())


@pytest.mark.parametrize("rel", PARSEABLE)
def test_verify_eep_signatures_vector_gives_expected_error(rel: str) -> None:
    expected = EXPECTED[rel]["signatures"]
    if expected:
        with pytest.raises(getattr(eep_signatures, expected)):
            verify_eep_signatures(_pkg(rel), roots=[ROOT_P256, ROOT_SM2])
    else:
        verify_eep_signatures(_pkg(rel), roots=[ROOT_P256, ROOT_SM2])


def test_check_lists_each_signature_then_the_lock() -> None:
    outcomes = check_eep_signatures(_pkg("valid/signed-rsa-sm2-lock-ecdsa.xml"))
    assert [(o.identifier, o.is_lock, o.ok) for o in outcomes] == [
        ("S1", False, True),
        ("S2", False, True),
        ("S1", True, True),
    ]
    assert outcomes[1].subject is not None
    assert "EEP SM2 signer" in outcomes[1].subject
    assert json.dumps([o.as_dict() for o in outcomes], ensure_ascii=False)


def test_tampered_content_fails_signature_but_lock_still_holds() -> None:
    outcomes = check_eep_signatures(_pkg("invalid/changed-content-byte.xml"))
    assert [(o.is_lock, type(o.error).__name__ if o.error else None) for o in outcomes] == [
        (False, "SignatureInvalid"),
        (True, None),  # the lock covers the 电子签名 element, which is unchanged
    ]


def test_certificate_outside_configured_roots_is_untrusted() -> None:
    with pytest.raises(CertificateUntrusted):
        verify_eep_signatures(_pkg("valid/signed-rsa.xml"), roots=[ROOT_SM2])


def test_certificate_must_be_valid_at_signing_time() -> None:
    sig = _pkg("valid/signed-rsa.xml").signatures[0]
    late = dataclasses.replace(sig, time="2050-01-01T00:00:00Z")
    with pytest.raises(CertificateNotValidAtSigning):
        verify_signature(late, roots=[ROOT_P256])
    verify_signature(late)  # without roots only the signature itself is checked


def test_certificate_validity_uses_given_time_without_signing_time() -> None:
    sig = dataclasses.replace(_pkg("valid/signed-sm2.xml").signatures[0], time=None)
    verify_signature(sig, roots=[ROOT_SM2], at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(CertificateNotValidAtSigning):
        verify_signature(sig, roots=[ROOT_SM2], at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))


def test_sha1_identifier_is_refused_as_unsupported() -> None:
    sig = dataclasses.replace(_pkg("valid/signed-rsa.xml").signatures[0], algorithm="sha1WithRSAEncryption")
    with pytest.raises(UnsupportedSignatureAlgorithm):
        verify_signature(sig)


def test_algorithm_that_does_not_fit_the_key_is_refused() -> None:
    sig = dataclasses.replace(_pkg("valid/signed-rsa.xml").signatures[0], algorithm="SM3withSM2")
    with pytest.raises(KeyAlgorithmMismatch):
        verify_signature(sig)


def test_certificate_that_is_not_der_is_malformed() -> None:
    sig = dataclasses.replace(
        _pkg("valid/signed-rsa.xml").signatures[0], certificates=(b"not a certificate",)
    )
    with pytest.raises(MalformedSignature):
        verify_signature(sig)


def test_lock_without_target_is_reported() -> None:
    pkg = _pkg("valid/signed-rsa.xml")
    assert pkg.lock is not None
    with pytest.raises(LockTargetMissing):
        verify_signature(dataclasses.replace(pkg.lock, message=None))


def test_sm2_verify_agrees_with_gmssl_signer_over_z_a() -> None:
    signer = Sm2Signer.generate("eep-test")
    message = "被签名对象".encode() * 1000
    signature = signer.sign(message)  # gmssl computes Z_A and SM3 in pure Python
    assert sm2_verify(signer.verifier().public_key, message, signature)  # we use OpenSSL SM3
    assert not sm2_verify(signer.verifier().public_key, message + b"x", signature)
    assert not sm2_verify(signer.verifier().public_key, message, signature + b"\x00")
