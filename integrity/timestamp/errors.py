"""Errors of the RFC 3161 trusted-time code, one class per distinct failure.

Malformed DER is :class:`~standards.errors.BadInput`; a token that parses but does not prove what it
claims is :class:`~standards.errors.VerificationFailed`; a TSA that cannot be reached is
:class:`~standards.errors.StorageUnavailable` (an outage, never tampering) and a TSA that answers but
refuses to stamp is :class:`~standards.errors.StorageError`.
"""

from __future__ import annotations

from standards.errors import BadInput, StorageError, StorageUnavailable, VerificationFailed


class MalformedTimestamp(BadInput):
    """A token or reply is not DER of the RFC 3161 / RFC 5652 structures it claims to be."""

    code = "timestamp_malformed"


class TimestampContentTypeMismatch(VerificationFailed):
    """The token is not CMS SignedData over id-ct-TSTInfo (RFC 3161 §2.4.2), or its content-type
    signed attribute disagrees with the encapsulated content type (RFC 5652 §11.1)."""

    code = "timestamp_content_type_mismatch"


class UnsupportedTimestampAlgorithm(VerificationFailed):
    """The token uses a digest or signature algorithm this verifier does not accept."""

    code = "timestamp_unsupported_algorithm"


class MessageImprintMismatch(VerificationFailed):
    """The token's messageImprint is not the hash of the data it is said to stamp (RFC 3161 §2.4.2)."""

    code = "timestamp_imprint_mismatch"


class ContentDigestMismatch(VerificationFailed):
    """The message-digest signed attribute is not the hash of the encapsulated TSTInfo (RFC 5652 §5.4)."""

    code = "timestamp_content_digest_mismatch"


class TimestampSignerMissing(VerificationFailed):
    """The token does not carry exactly one SignerInfo, or not the certificate it names."""

    code = "timestamp_signer_missing"


class SigningCertificateMismatch(VerificationFailed):
    """The ESS signing-certificate(-v2) attribute does not identify the signer certificate
    (RFC 3161 §2.4.1, RFC 5035 / RFC 5816)."""

    code = "timestamp_signing_certificate_mismatch"


class BadTimestampSignature(VerificationFailed):
    """The signature over the DER signed attributes does not verify with the signer's key."""

    code = "timestamp_bad_signature"


class NotATimestampingCertificate(VerificationFailed):
    """The signer certificate lacks the one critical extendedKeyUsage id-kp-timeStamping (RFC 3161 §2.3)."""

    code = "timestamp_not_tsa_certificate"


class UntrustedTimestamp(VerificationFailed):
    """The signer certificate does not chain to any of the trusted roots."""

    code = "timestamp_untrusted"


class CertificateNotValidAtGenTime(VerificationFailed):
    """A certificate of the chain was not valid at the token's genTime."""

    code = "timestamp_certificate_not_valid"


class NonceMismatch(VerificationFailed):
    """The token's nonce is not the nonce of our request (RFC 3161 §2.4.2)."""

    code = "timestamp_nonce_mismatch"


class TsaUnavailable(StorageUnavailable):
    """The TSA could not be reached, timed out, or answered with an HTTP error."""

    code = "tsa_unavailable"


class TimestampNotGranted(StorageError):
    """The TSA answered with a PKIStatus other than granted / grantedWithMods (RFC 3161 §2.4.2)."""

    code = "tsa_not_granted"
