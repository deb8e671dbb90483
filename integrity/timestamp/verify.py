"""Verify RFC 3161 time-stamp tokens: pure, over bytes and trusted root certificates.

A token (RFC 3161 §2.4.2) is a CMS ContentInfo holding SignedData (RFC 5652 §5) whose encapsulated
content is a DER TSTInfo. :func:`verify_token` checks, in this order, each failure its own class:

1. the structure parses (else :class:`MalformedTimestamp`), is SignedData over id-ct-TSTInfo and the
   content-type signed attribute agrees (RFC 5652 §11.1);
2. TSTInfo version 1 and its messageImprint equals the hash of ``data`` (SHA-256/384/512);
3. the nonce, when the caller gives one;
4. exactly one SignerInfo, whose certificate is in the token (we request ``certReq``);
5. the message-digest signed attribute equals the hash of the encapsulated TSTInfo (RFC 5652 §5.4);
6. the ESS signing-certificate-v2 (RFC 5816) or signing-certificate (RFC 2634 §5.4) attribute names
   the signer certificate (RFC 3161 §2.4.1 requires one of them);
7. the signature over the DER signed attributes (tag rewritten to SET OF, RFC 5652 §5.4) with the
   signer's key — RSA PKCS#1 v1.5, ECDSA and Ed25519 (RSA-PSS is refused as unsupported);
8. the signer certificate carries exactly one, critical, extendedKeyUsage id-kp-timeStamping (§2.3);
9. it chains to one of ``roots``: every signature up the chain verified, intermediates taken from the
   token's certificates and required to be CAs, and every certificate valid at genTime.

``roots`` are ``cryptography`` :class:`~cryptography.x509.Certificate` objects (see
:func:`parse_roots_pem`). Revocation (CRL/OCSP) is not checked: an archive re-verifies tokens for
decades, long after the TSA's revocation services are gone; trust comes from the configured roots.
Fetching tokens is :mod:`integrity.timestamp.client`'s job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from integrity.timestamp.errors import (
    BadTimestampSignature,
    CertificateNotValidAtGenTime,
    ContentDigestMismatch,
    MalformedTimestamp,
    MessageImprintMismatch,
    NonceMismatch,
    NotATimestampingCertificate,
    SigningCertificateMismatch,
    TimestampContentTypeMismatch,
    TimestampSignerMissing,
    UnsupportedTimestampAlgorithm,
    UntrustedTimestamp,
)

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"  # RFC 5652 §5.1
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"  # RFC 3161 §2.4.2 id-ct-TSTInfo
MAX_CHAIN_DEPTH = 8

_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha256": lambda b: hashlib.sha256(b).digest(),
    "sha384": lambda b: hashlib.sha384(b).digest(),
    "sha512": lambda b: hashlib.sha512(b).digest(),
}
_SIG_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


@dataclass(frozen=True)
class TimestampInfo:
    """What a verified token says: when, which serial, which TSA, under which policy, over which hash.

    ``tsa_name`` is the RFC 4514 subject of the verified signer certificate (the optional TSTInfo
    ``tsa`` field is a hint and is not used).
    """

    gen_time: dt.datetime
    serial: int
    tsa_name: str
    policy: str
    hash_algorithm: str
    nonce: int | None = None


@dataclass(frozen=True)
class _Parsed:
    content_type: str
    econtent_type: str
    econtent: bytes
    tst: Any  # asn1crypto tsp.TSTInfo
    certificates: list[x509.Certificate]
    signer_infos: list[Any]  # asn1crypto cms.SignerInfo


def _digest(name: str, data: bytes, what: str) -> bytes:
    fn = _DIGESTS.get(name)
    if fn is None:
        raise UnsupportedTimestampAlgorithm(f"{what}: expected one of {', '.join(_DIGESTS)}, found {name!r}")
    return fn(data)


def parse_roots_pem(data: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM bundle (the ``tsa_roots`` file).

    Raises:
        MalformedTimestamp: the data holds no PEM certificate or a broken one.
    """
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise MalformedTimestamp(f"TSA roots: not a PEM certificate bundle ({exc})") from None


def _parse(token: bytes) -> _Parsed:
    """Decode every part the checks read, so a DER error surfaces here and only here."""
    try:
        ci = cms.ContentInfo.load(token, strict=True)
        content_type = ci["content_type"].dotted
        if content_type != OID_SIGNED_DATA:
            return _Parsed(content_type, "", b"", None, [], [])
        sd = ci["content"]
        eci = sd["encap_content_info"]
        econtent_type = eci["content_type"].dotted
        econtent = eci["content"].contents if eci["content"] else b""
        tst = tsp.TSTInfo.load(econtent, strict=True) if econtent_type == OID_TST_INFO else None
        if tst is not None:
            tst.native  # noqa: B018 - force a full parse of the TSTInfo now
        certs = [
            x509.load_der_x509_certificate(choice.chosen.dump())
            for choice in (sd["certificates"] or [])
            if choice.name == "certificate"
        ]
        infos = list(sd["signer_infos"])
        for si in infos:
            si.native  # noqa: B018 - force a full parse of each SignerInfo now
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise MalformedTimestamp(
            f"time-stamp token: not DER CMS SignedData ({type(exc).__name__}: {exc})"
        ) from None
    return _Parsed(content_type, econtent_type, econtent, tst, certs, infos)


def _signed_attrs(si: Any) -> tuple[bytes, dict[str, Any]]:
    """The DER signed attributes as signed (implicit [0] rewritten to SET OF, RFC 5652 §5.4) and a map."""
    attrs = si["signed_attrs"]
    if not attrs:
        raise MalformedTimestamp("time-stamp token: SignerInfo has no signed attributes (RFC 3161 §2.4.1)")
    raw = attrs.dump()
    found: dict[str, Any] = {}
    for attr in attrs:
        values = attr["values"]
        if len(values) != 1:
            raise MalformedTimestamp(
                f"signed attribute {attr['type'].dotted}: expected 1 value, found {len(values)}"
            )
        found[attr["type"].dotted] = values[0]
    return b"\x31" + raw[1:], found


def _find_signer(si: Any, certs: Sequence[x509.Certificate]) -> x509.Certificate:
    sid = si["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            want = sid.chosen
            if (
                cert.serial_number == want["serial_number"].native
                and cert.issuer.public_bytes() == want["issuer"].dump()
            ):
                return cert
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if hmac.compare_digest(ski, sid.chosen.native):
                return cert
    raise TimestampSignerMissing("time-stamp token: the certificate of the signer is not in the token")


def _check_ess(attrs: dict[str, Any], signer: x509.Certificate) -> None:
    """RFC 3161 §2.4.1 / RFC 5816: the ESS attribute's first ESSCertID hashes the signer certificate."""
    der = signer.public_bytes(Encoding.DER)
    v2 = attrs.get("1.2.840.113549.1.9.16.2.47")
    v1 = attrs.get("1.2.840.113549.1.9.16.2.12")
    if v2 is not None:
        first = v2["certs"][0]
        alg = first["hash_algorithm"]["algorithm"].native
        expected, found = _digest(alg, der, "ESSCertIDv2 hash"), first["cert_hash"].native
    elif v1 is not None:
        expected, found = hashlib.sha1(der).digest(), v1["certs"][0]["cert_hash"].native  # noqa: S324 - RFC 2634
    else:
        raise SigningCertificateMismatch("time-stamp token: no ESS signing-certificate(-v2) attribute")
    if not hmac.compare_digest(expected, found):
        raise SigningCertificateMismatch(
            f"ESS signing certificate hash: expected {expected.hex()} (signer), found {found.hex()}"
        )


def _check_signature(si: Any, message: bytes, signer: x509.Certificate) -> None:
    algo = si["signature_algorithm"].signature_algo
    hash_name = si["digest_algorithm"]["algorithm"].native
    signature = si["signature"].native
    key = signer.public_key()
    try:
        if algo == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
            return
        hash_alg = _SIG_HASHES.get(hash_name)
        if hash_alg is None:
            raise UnsupportedTimestampAlgorithm(
                f"signature digest: expected sha256/384/512, found {hash_name!r}"
            )
        if algo == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hash_alg)
        elif algo == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hash_alg))
        elif algo in ("rsassa_pkcs1v15", "ecdsa", "ed25519"):
            raise BadTimestampSignature(
                f"signature algorithm {algo} does not fit the signer's {type(key).__name__}"
            )
        else:
            raise UnsupportedTimestampAlgorithm(
                f"signature algorithm: expected RSA PKCS#1 v1.5, ECDSA or Ed25519, found {algo!r}"
            )
    except InvalidSignature:
        raise BadTimestampSignature(
            f"time-stamp signature ({algo}, {hash_name}) does not verify with {signer.subject.rfc4514_string()}"
        ) from None


def verify_tsa_certificate(cert: x509.Certificate) -> None:
    """RFC 3161 §2.3: exactly one EKU, id-kp-timeStamping, and the extension MUST be critical.

    Raises:
        NotATimestampingCertificate: the extension is missing, not critical or names other purposes.
    """
    subject = cert.subject.rfc4514_string()
    try:
        ext = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise NotATimestampingCertificate(
            f"TSA certificate {subject}: no extendedKeyUsage extension"
        ) from None
    purposes = list(ext.value)
    if not ext.critical or purposes != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise NotATimestampingCertificate(
            f"TSA certificate {subject}: extendedKeyUsage expected critical [timeStamping],"
            f" found {'critical' if ext.critical else 'non-critical'} {[p.dotted_string for p in purposes]}"
        )


def _check_valid_at(cert: x509.Certificate, at: dt.datetime) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise CertificateNotValidAtGenTime(
            f"certificate {cert.subject.rfc4514_string()}: valid {cert.not_valid_before_utc.isoformat()}"
            f" to {cert.not_valid_after_utc.isoformat()}, genTime {at.isoformat()}"
        )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def verify_chain(
    signer: x509.Certificate,
    pool: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    at: dt.datetime,
) -> list[x509.Certificate]:
    """The chain from ``signer`` to a root (signer first), every link's signature and validity checked.

    Intermediates come from ``pool`` and must be CAs (basicConstraints cA); a root is a trust anchor
    and ends the chain (``signer`` may itself be one of ``roots``).

    Raises:
        CertificateNotValidAtGenTime: a certificate of the chain was not valid at ``at``.
        UntrustedTimestamp: no chain of verified signatures from ``signer`` reaches a root.
    """
    chain = [signer]
    current = signer
    for _ in range(MAX_CHAIN_DEPTH):
        _check_valid_at(current, at)
        for root in roots:
            if root == current or _issued_by(current, root):
                if root != current:
                    _check_valid_at(root, at)
                    chain.append(root)
                return chain
        parent = next(
            (c for c in pool if c not in chain and _is_ca(c) and _issued_by(current, c)),
            None,
        )
        if parent is None:
            break
        chain.append(parent)
        current = parent
    names = "; ".join(r.subject.rfc4514_string() for r in roots) or "none"
    raise UntrustedTimestamp(
        f"TSA certificate {signer.subject.rfc4514_string()}: no verified chain to a trusted root"
        f" (stopped at {current.subject.rfc4514_string()}; roots: {names})"
    )


def verify_token(
    token: bytes, data: bytes, roots: Sequence[x509.Certificate], nonce: int | None = None
) -> TimestampInfo:
    """Check that ``token`` is a valid RFC 3161 time-stamp over ``data`` by a TSA chaining to ``roots``.

    Raises:
        MalformedTimestamp: the token is not DER CMS SignedData / TSTInfo, or lacks signed attributes.
        TimestampContentTypeMismatch: not SignedData over id-ct-TSTInfo, or the content-type attribute differs.
        UnsupportedTimestampAlgorithm: a digest or signature algorithm this verifier does not accept.
        MessageImprintMismatch: the imprint is not the hash of ``data``.
        NonceMismatch: ``nonce`` given and the token's differs or is absent.
        TimestampSignerMissing: not exactly one SignerInfo, or its certificate is not in the token.
        ContentDigestMismatch: the message-digest attribute is not the hash of the TSTInfo.
        SigningCertificateMismatch: the ESS attribute is missing or names another certificate.
        BadTimestampSignature: the signature over the signed attributes does not verify.
        NotATimestampingCertificate: the signer lacks the critical id-kp-timeStamping EKU.
        CertificateNotValidAtGenTime: a chain certificate was not valid at genTime.
        UntrustedTimestamp: the signer does not chain to ``roots``.
    """
    p = _parse(token)
    if p.content_type != OID_SIGNED_DATA or p.econtent_type != OID_TST_INFO or p.tst is None:
        raise TimestampContentTypeMismatch(
            f"token content: expected SignedData ({OID_SIGNED_DATA}) over TSTInfo ({OID_TST_INFO}),"
            f" found {p.content_type} over {p.econtent_type or 'nothing'}"
        )
    tst = p.tst
    if tst["version"].native != "v1":
        raise MalformedTimestamp(f"TSTInfo version: expected v1, found {tst['version'].native!r}")
    imprint = tst["message_imprint"]
    hash_name = imprint["hash_algorithm"]["algorithm"].native
    expected = _digest(hash_name, data, "messageImprint hash")
    found = imprint["hashed_message"].native
    if not hmac.compare_digest(expected, found):
        raise MessageImprintMismatch(
            f"messageImprint ({hash_name}): expected {expected.hex()}, found {found.hex()}"
        )
    token_nonce = tst["nonce"].native
    if nonce is not None and token_nonce != nonce:
        raise NonceMismatch(f"TSTInfo nonce: expected {nonce}, found {token_nonce}")
    if len(p.signer_infos) != 1:
        raise TimestampSignerMissing(
            f"SignedData signerInfos: expected exactly 1 (RFC 3161), found {len(p.signer_infos)}"
        )
    si = p.signer_infos[0]
    signer = _find_signer(si, p.certificates)
    message, attrs = _signed_attrs(si)
    attr_type = attrs.get("1.2.840.113549.1.9.3")
    if attr_type is None or attr_type.dotted != OID_TST_INFO:
        raise TimestampContentTypeMismatch(
            f"content-type signed attribute: expected {OID_TST_INFO}, found {attr_type.dotted if attr_type else 'none'}"
        )
    attr_digest = attrs.get("1.2.840.113549.1.9.4")
    content_digest = _digest(si["digest_algorithm"]["algorithm"].native, p.econtent, "SignerInfo digest")
    if attr_digest is None or not hmac.compare_digest(content_digest, attr_digest.native):
        raise ContentDigestMismatch(
            f"message-digest attribute: expected {content_digest.hex()},"
            f" found {attr_digest.native.hex() if attr_digest is not None else 'none'}"
        )
    _check_ess(attrs, signer)
    _check_signature(si, message, signer)
    verify_tsa_certificate(signer)
    gen_time: dt.datetime = tst["gen_time"].native
    verify_chain(signer, p.certificates, roots, gen_time)
    return TimestampInfo(
        gen_time=gen_time,
        serial=int(tst["serial_number"].native),
        tsa_name=signer.subject.rfc4514_string(),
        policy=tst["policy"].dotted,
        hash_algorithm=hash_name,
        nonce=token_nonce,
    )
