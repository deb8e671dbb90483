"""Build RFC 3161 TimeStampReq messages (RFC 3161 §2.4.1).

Always SHA-256 over the data, version 1, a fresh 64-bit random nonce and ``certReq`` true, so the TSA
puts its certificate in the token and the token can be verified with only the trusted roots. Sending
the request is :mod:`integrity.timestamp.client`'s job; checking the answer is
:mod:`integrity.timestamp.verify`'s.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from asn1crypto import tsp

NONCE_BITS = 64  # RFC 3161 §2.4.1: "a large random number with a high probability" of uniqueness


@dataclass(frozen=True)
class TimestampRequest:
    """A DER TimeStampReq and the nonce it carries (needed to check the reply)."""

    der: bytes
    nonce: int


def build_request(data: bytes, nonce: int | None = None) -> TimestampRequest:
    """A TimeStampReq for SHA-256 of ``data``; ``nonce`` is random unless given (tests).

    Raises:
        ValueError: ``nonce`` is negative.
    """
    if nonce is None:
        nonce = secrets.randbits(NONCE_BITS) | 1  # never 0, which some TSAs treat as absent
    if nonce < 0:
        raise ValueError(f"nonce must be non-negative, found {nonce}")
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return TimestampRequest(der=req.dump(), nonce=nonce)
