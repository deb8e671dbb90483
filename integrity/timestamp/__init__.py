"""RFC 3161 trusted time: build requests, fetch tokens from a TSA over HTTP, verify tokens offline.

* :mod:`.request` – TimeStampReq for SHA-256 of the data, random nonce, certReq (RFC 3161 §2.4.1).
* :mod:`.client`  – :class:`TsaClient` posts it (RFC 3161 §3.4) and returns only verified tokens.
* :mod:`.verify`  – :func:`verify_token`, pure: CMS structure, imprint, signed attributes, signature,
  TSA certificate EKU and chain to the configured roots at genTime.
* :mod:`.errors`  – one class per failure.

Storing tokens beside checkpoints is :mod:`integrity.ledger.timestamps`'s business.
"""

from integrity.timestamp.client import TsaClient, VerifiedStamp, load_roots, token_from_reply
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
    TimestampNotGranted,
    TimestampSignerMissing,
    TsaUnavailable,
    UnsupportedTimestampAlgorithm,
    UntrustedTimestamp,
)
from integrity.timestamp.request import TimestampRequest, build_request
from integrity.timestamp.verify import (
    TimestampInfo,
    parse_roots_pem,
    verify_chain,
    verify_token,
    verify_tsa_certificate,
)

__all__ = [
    "BadTimestampSignature",
    "CertificateNotValidAtGenTime",
    "ContentDigestMismatch",
    "MalformedTimestamp",
    "MessageImprintMismatch",
    "NonceMismatch",
    "NotATimestampingCertificate",
    "SigningCertificateMismatch",
    "TimestampContentTypeMismatch",
    "TimestampInfo",
    "TimestampNotGranted",
    "TimestampRequest",
    "TimestampSignerMissing",
    "TsaClient",
    "TsaUnavailable",
    "UnsupportedTimestampAlgorithm",
    "UntrustedTimestamp",
    "VerifiedStamp",
    "build_request",
    "load_roots",
    "parse_roots_pem",
    "token_from_reply",
    "verify_chain",
    "verify_token",
    "verify_tsa_certificate",
]
