"""Verify the electronic signatures of a DA/T 48-2009 EEP (DA/T 70-2018 BC-1-16).

Each 电子签名 is checked over the canonical bytes of 被签名对象 and the 锁定签名 over the canonical bytes
of the 电子签名 it names (exclusive C14N 1.0 without comments; :mod:`standards.eep` produces them and
documents the choice). The key is the first 证书 of the signature's 证书块 (base64 DER X.509).

Algorithms (签名算法标识 is a free string in DA/T 48; we accept these names/OIDs, case-insensitive):

* RSA PKCS#1 v1.5 with SHA-256 — ``sha256WithRSAEncryption`` / ``1.2.840.113549.1.1.11``;
* ECDSA P-256 with SHA-256 — ``ecdsa-with-SHA256`` / ``1.2.840.10045.4.3.2`` (DER ECDSA-Sig-Value);
* SM2 with SM3 (GB/T 32918.2, GM/T 0009 default user id) — ``SM3withSM2`` / ``SM2-with-SM3`` /
  ``1.2.156.10197.1.501`` (DER SM2Signature). ``e = SM3(Z_A || M)`` is hashed with OpenSSL
  (``hashlib.new("sm3")``, ~1,300× faster than gmssl's pure-Python SM3, measurements.md) and gmssl's
  point arithmetic checks ``(r, s)``.

SHA-1 identifiers (``sha1WithRSAEncryption``, seen in implementations) are refused as unsupported.

Trust (optional): given ``roots`` (DER certificates), the signer's certificate must chain to one of them
through the other 证书 of the block — issuer name match plus issuer signature (same three algorithms;
RSA/ECDSA certificate signatures via ``cryptography``, SM2 via the code here) — and every certificate on
the path must be valid at the signature's 签名时间 (or, without one, at ``at``). Not checked: key usage,
basic constraints, revocation (CRL/OCSP) and certificate policies — that is a PKI's job, not the package's.

Results come in two forms (STYLE): :func:`check_eep_signatures` lists an outcome per signature, and
:func:`verify_eep_signatures` raises the first failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from asn1crypto.algos import DSASignature
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from gmssl.sm2 import CryptSM2

from integrity.sm2 import A, B, N, is_on_curve
from standards.eep import EepPackage, EepSignature
from standards.errors import BadInput, VerificationFailed

DEFAULT_USER_ID = b"1234567812345678"  # GM/T 0009-2012 §10
SM2_CURVE_OID = "1.2.156.10197.1.301"
# GB/T 32918.5 base point G
_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

RSA_SHA256, ECDSA_SHA256, SM2_SM3 = "rsa-pkcs1v15-sha256", "ecdsa-p256-sha256", "sm2-sm3"
_ALGORITHMS = {
    "sha256withrsaencryption": RSA_SHA256,
    "sha256withrsa": RSA_SHA256,
    "rsa-sha256": RSA_SHA256,
    "1.2.840.113549.1.1.11": RSA_SHA256,
    "ecdsa-with-sha256": ECDSA_SHA256,
    "sha256withecdsa": ECDSA_SHA256,
    "1.2.840.10045.4.3.2": ECDSA_SHA256,
    "sm3withsm2": SM2_SM3,
    "sm2-with-sm3": SM2_SM3,
    "sm2sign-with-sm3": SM2_SM3,
    "1.2.156.10197.1.501": SM2_SM3,
}


# ---------------------------------------------------------------- errors
class EepSignatureError(VerificationFailed):
    """Root of every EEP signature failure (BC-1-16)."""

    code = "eep_signature_error"


class NoSignatures(EepSignatureError):
    """The EEP has no 电子签名块 (nothing to verify)."""

    code = "eep_no_signatures"


class SignatureInvalid(EepSignatureError):
    """A 电子签名 does not verify over 被签名对象 with its certificate's key."""

    code = "eep_signature_invalid"


class LockSignatureInvalid(EepSignatureError):
    """The 锁定签名 does not verify over the 电子签名 it locks."""

    code = "eep_lock_signature_invalid"


class LockTargetMissing(EepSignatureError):
    """被锁定签名标识符 names no 电子签名 of the package."""

    code = "eep_lock_target_missing"


class CertificateUntrusted(EepSignatureError):
    """The signer's certificate does not chain to a configured root."""

    code = "eep_certificate_untrusted"


class CertificateNotValidAtSigning(EepSignatureError):
    """A certificate on the path was not valid at 签名时间."""

    code = "eep_certificate_not_valid"


class MalformedSignature(BadInput):
    """签名结果 or 证书 is not Base64, the certificate is not DER X.509, or 证书 is missing."""

    code = "eep_signature_malformed"


class UnsupportedSignatureAlgorithm(BadInput):
    """签名算法标识 names an algorithm we do not verify (or a weak one such as SHA-1)."""

    code = "eep_signature_algorithm_unsupported"


class KeyAlgorithmMismatch(BadInput):
    """签名算法标识 does not fit the certificate's key (e.g. ECDSA declared, RSA key found)."""

    code = "eep_signature_key_mismatch"


# ---------------------------------------------------------------- outcomes
@dataclass(frozen=True, slots=True)
class SignatureOutcome:
    """The answer for one 电子签名 (``is_lock`` False) or the 锁定签名."""

    identifier: str
    is_lock: bool
    algorithm: str
    subject: str | None
    error: Exception | None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.identifier,
            "kind": "锁定签名" if self.is_lock else "电子签名",
            "algorithm": self.algorithm,
            "subject": self.subject,
            "ok": self.ok,
            "error": type(self.error).__name__ if self.error else None,
            "code": getattr(self.error, "code", None) if self.error else None,
            "message": str(self.error) if self.error else None,
        }


# ---------------------------------------------------------------- primitives
def algorithm_of(identifier: str) -> str:
    """Our name for 签名算法标识 ``identifier``.

    Raises:
        UnsupportedSignatureAlgorithm: not one of the accepted names/OIDs.
    """
    found = _ALGORITHMS.get(identifier.strip().lower())
    if found is None:
        raise UnsupportedSignatureAlgorithm(
            f"签名算法标识: expected one of sha256WithRSAEncryption, ecdsa-with-SHA256, SM3withSM2 "
            f"(or their OIDs), found {identifier[:80]!r}"
        )
    return found


def sm2_digest(public_key: bytes, message: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """``SM3(Z_A || M)`` (GB/T 32918.2 §6.1) with OpenSSL SM3; ``public_key`` is ``04 || X || Y``."""
    entl = (len(user_id) * 8).to_bytes(2, "big")
    z = hashlib.new(
        "sm3",
        entl
        + user_id
        + A.to_bytes(32, "big")
        + B.to_bytes(32, "big")
        + _GX.to_bytes(32, "big")
        + _GY.to_bytes(32, "big")
        + public_key[1:],
    ).digest()
    h = hashlib.new("sm3", z)
    h.update(message)
    return h.digest()


def sm2_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (strict DER SM2Signature) is an SM2-with-SM3 signature of ``message``."""
    if not is_on_curve(public_key):
        return False
    try:
        parsed = DSASignature.load(signature, strict=True)
        r, s = int(parsed["r"].native), int(parsed["s"].native)
        if parsed.dump(force=True) != signature:
            return False
    except (ValueError, TypeError, KeyError):
        return False
    if not (1 <= r < N and 1 <= s < N):  # GB/T 32918.2 §7.1 B1, B2
        return False
    engine = CryptSM2(private_key="", public_key="")
    engine.public_key = public_key[1:].hex()
    try:
        return bool(engine.verify(f"{r:064x}{s:064x}", sm2_digest(public_key, message)))
    except (TypeError, ValueError):  # gmssl fails on the point at infinity
        return False


def _load_certificate(der: bytes | None, what: str) -> asn1_x509.Certificate:
    if der is None:
        raise MalformedSignature(f"{what}/证书: expected base64 DER X.509, found text that is not base64")
    try:
        cert = asn1_x509.Certificate.load(der, strict=True)
        # asn1crypto parses lazily: read every field now, or a malformed one raises ValueError later
        # (the SM2 key's bit string in verify_raw, the issuer name in _issued_by) — found by fuzzing
        _ = cert.native
        _ = cert.public_key["algorithm"]["algorithm"].native
        _ = cert.subject.human_friendly
    except (ValueError, TypeError, KeyError):
        raise MalformedSignature(
            f"{what}/证书: expected DER X.509, found {len(der)} undecodable bytes"
        ) from None
    return cert


def _key_kind(cert: asn1_x509.Certificate) -> str:
    info = cert.public_key
    alg = info["algorithm"]["algorithm"].native
    if alg == "rsa":
        return "rsa"
    if alg == "ec":
        params = info["algorithm"]["parameters"]
        curve = params.chosen.dotted if params.name == "named" else ""
        if curve == SM2_CURVE_OID:
            return "sm2"
        if params.name == "named" and params.chosen.native == "secp256r1":
            return "p256"
        return f"ec:{curve or 'explicit'}"
    return str(alg)


def verify_raw(algorithm: str, cert: asn1_x509.Certificate, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``message`` verifies with ``cert``'s key under ``algorithm``.

    Raises:
        KeyAlgorithmMismatch: the key type does not fit ``algorithm``.
    """
    kind = _key_kind(cert)
    expected = {RSA_SHA256: "rsa", ECDSA_SHA256: "p256", SM2_SM3: "sm2"}[algorithm]
    if kind != expected:
        raise KeyAlgorithmMismatch(f"签名算法标识 {algorithm}: expected a {expected} key, found {kind}")
    if algorithm == SM2_SM3:
        return sm2_verify(bytes(cert.public_key["public_key"].native), message, signature)
    try:
        key = serialization.load_der_public_key(cert.public_key.dump())
    except (ValueError, UnsupportedAlgorithm):
        raise MalformedSignature("证书: public key cannot be loaded") from None
    try:
        if algorithm == RSA_SHA256 and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        if algorithm == ECDSA_SHA256 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            return True
    except InvalidSignature:
        return False
    return False


# ---------------------------------------------------------------- certificate path
_CERT_SIG_ALGORITHMS = {
    "1.2.840.113549.1.1.11": RSA_SHA256,
    "1.2.840.10045.4.3.2": ECDSA_SHA256,
    "1.2.156.10197.1.501": SM2_SM3,
}


def _same_name(a: asn1_x509.Name, b: asn1_x509.Name) -> bool:
    """RFC 5280 name match; asn1crypto's string preparation (RFC 4518) raises ValueError on some values
    (a malformed bidirectional sequence — found by fuzzing): such names match only byte for byte."""
    try:
        return bool(a == b)
    except ValueError:
        return bytes(a.dump()) == bytes(b.dump())


def _issued_by(child: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> bool:
    if not _same_name(child.issuer, issuer.subject):
        return False
    alg = _CERT_SIG_ALGORITHMS.get(child["signature_algorithm"]["algorithm"].dotted)
    if alg is None:
        return False
    try:
        return verify_raw(
            alg, issuer, child["tbs_certificate"].dump(), bytes(child["signature_value"].native)
        )
    except (KeyAlgorithmMismatch, MalformedSignature):
        return False


def _valid_at(cert: asn1_x509.Certificate, at: dt.datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    not_before: dt.datetime = validity["not_before"].native
    not_after: dt.datetime = validity["not_after"].native
    return not_before <= at <= not_after


def verify_certificate_path(
    leaf: asn1_x509.Certificate,
    intermediates: Sequence[asn1_x509.Certificate],
    roots: Sequence[bytes],
    at: dt.datetime,
) -> None:
    """The leaf chains to one of ``roots`` via ``intermediates`` and every link is valid at ``at``.

    Raises:
        CertificateUntrusted: no path to a root (at most 8 links).
        CertificateNotValidAtSigning: a certificate on the found path is not valid at ``at``.
    """
    trusted = [asn1_x509.Certificate.load(r) for r in roots]
    path = [leaf]
    current = leaf
    for _ in range(8):
        if any(hmac.compare_digest(current.dump(), t.dump()) for t in trusted):
            break
        issuer = next((t for t in trusted if _issued_by(current, t)), None)
        if issuer is not None:
            path.append(issuer)
            break
        nxt = next((c for c in intermediates if c not in path and _issued_by(current, c)), None)
        if nxt is None:
            raise CertificateUntrusted(
                f"证书 {leaf.subject.human_friendly!r}: expected a chain to a configured root, "
                f"found none above {current.subject.human_friendly!r}"
            )
        path.append(nxt)
        current = nxt
    else:
        raise CertificateUntrusted(f"证书 {leaf.subject.human_friendly!r}: chain longer than 8")
    for cert in path:
        if not _valid_at(cert, at):
            raise CertificateNotValidAtSigning(
                f"证书 {cert.subject.human_friendly!r}: expected valid at {at.isoformat()}, found validity "
                f"{cert['tbs_certificate']['validity']['not_before'].native.isoformat()} – "
                f"{cert['tbs_certificate']['validity']['not_after'].native.isoformat()}"
            )


# ---------------------------------------------------------------- one signature, all signatures
def _signing_time(sig: EepSignature, default: dt.datetime) -> dt.datetime:
    if not sig.time:
        return default
    try:
        at = dt.datetime.fromisoformat(sig.time.strip().replace("Z", "+00:00"))
    except ValueError:
        return default
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def verify_signature(
    sig: EepSignature, *, roots: Sequence[bytes] = (), at: dt.datetime | None = None
) -> asn1_x509.Certificate:
    """Verify one 电子签名 or the 锁定签名; return the signer's certificate.

    ``at`` is the time certificates must be valid at when the signature has no 签名时间 (default: now).

    Raises:
        UnsupportedSignatureAlgorithm: 签名算法标识 not accepted.
        MalformedSignature: 签名结果/证书 not Base64 or not DER, or no 证书.
        KeyAlgorithmMismatch: the certificate's key does not fit 签名算法标识.
        LockTargetMissing: (lock) 被锁定签名标识符 names no 电子签名.
        SignatureInvalid / LockSignatureInvalid: the signature does not verify.
        CertificateUntrusted, CertificateNotValidAtSigning: (with ``roots``) trust fails.
    """
    label = f"锁定签名[{sig.identifier}]" if sig.locks is not None else f"电子签名[{sig.identifier}]"
    algorithm = algorithm_of(sig.algorithm)
    if sig.locks is not None and sig.message is None:
        raise LockTargetMissing(
            f"{label}/被锁定签名标识符: expected the 签名标识符 of a 电子签名, found {sig.locks!r}"
        )
    if sig.value is None:
        raise MalformedSignature(f"{label}/签名结果: expected base64, found text that is not base64")
    if not sig.certificates:
        raise MalformedSignature(f"{label}/证书块: expected at least one 证书, found none")
    leaf = _load_certificate(sig.certificates[0], label)
    assert sig.message is not None
    if not verify_raw(algorithm, leaf, sig.message, sig.value):
        cls = LockSignatureInvalid if sig.locks is not None else SignatureInvalid
        raise cls(
            f"{label}: {sig.algorithm} signature by {leaf.subject.human_friendly!r} does not verify over "
            f"{'the locked 电子签名' if sig.locks is not None else '被签名对象'} "
            f"(SHA-256 of the signed bytes {hashlib.sha256(sig.message).hexdigest()})"
        )
    if roots:
        others = [_load_certificate(c, label) for c in sig.certificates[1:]]
        verify_certificate_path(leaf, others, roots, _signing_time(sig, at or dt.datetime.now(dt.UTC)))
    return leaf


def check_eep_signatures(
    pkg: EepPackage, *, roots: Sequence[bytes] = (), at: dt.datetime | None = None
) -> list[SignatureOutcome]:
    """One outcome per 电子签名, then the 锁定签名 (empty list: the EEP carries no signature)."""
    out: list[SignatureOutcome] = []
    for sig in (*pkg.signatures, *((pkg.lock,) if pkg.lock is not None else ())):
        subject: str | None = None
        error: Exception | None = None
        try:
            subject = verify_signature(sig, roots=roots, at=at).subject.human_friendly
        except (
            EepSignatureError,
            MalformedSignature,
            UnsupportedSignatureAlgorithm,
            KeyAlgorithmMismatch,
        ) as exc:
            error = exc
        out.append(SignatureOutcome(sig.identifier, sig.locks is not None, sig.algorithm, subject, error))
    return out


def verify_eep_signatures(
    pkg: EepPackage, *, roots: Sequence[bytes] = (), at: dt.datetime | None = None
) -> None:
    """Every 电子签名 and the 锁定签名 verify (the control-flow form of :func:`check_eep_signatures`).

    Raises:
        NoSignatures: the EEP has no 电子签名.
        EepSignatureError, MalformedSignature, UnsupportedSignatureAlgorithm, KeyAlgorithmMismatch:
            the first failing signature's error (see :func:`verify_signature`).
    """
    if not pkg.signatures:
        raise NoSignatures("电子签名块: expected at least one 电子签名, found none")
    for outcome in check_eep_signatures(pkg, roots=roots, at=at):
        if outcome.error is not None:
            raise outcome.error
