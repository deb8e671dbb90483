"""RFC 3161 over HTTP (RFC 3161 §3.4): POST a TimeStampReq, read a TimeStampResp, verify the token.

``TsaClient(url, timeout_s, roots)`` sends ``application/timestamp-query`` with :mod:`urllib` and
returns the DER token only after :func:`~integrity.timestamp.verify.verify_token` accepted it for the
data and the request's nonce. Transport failures (refused, timeout, HTTP error, wrong content type)
are :class:`TsaUnavailable`; a reply whose PKIStatus is not granted is :class:`TimestampNotGranted`.
Storing tokens is :mod:`integrity.ledger.timestamps`'s job.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, core, tsp
from cryptography import x509

from integrity.timestamp.errors import MalformedTimestamp, TimestampNotGranted, TsaUnavailable
from integrity.timestamp.request import build_request
from integrity.timestamp.verify import TimestampInfo, parse_roots_pem, verify_token

QUERY_TYPE = "application/timestamp-query"  # RFC 3161 §3.4
REPLY_TYPE = "application/timestamp-reply"
MAX_REPLY_BYTES = 1 << 20  # a token with its chain is a few KiB; refuse to buffer a runaway reply
GRANTED = ("granted", "granted_with_mods")  # RFC 3161 §2.4.2: a token is present only for these


class _TimeStampResp(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 3161 §2.4.2 TimeStampResp. asn1crypto 1.5's ``tsp.TimeStampResp`` forgets that
    ``timeStampToken`` is OPTIONAL, so it cannot parse a rejection; this copy marks it so."""

    _fields = [  # noqa: RUF012 - asn1crypto's class-level schema
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class VerifiedStamp:
    """A DER time-stamp token and what verifying it established."""

    token: bytes
    info: TimestampInfo


def load_roots(path: Path) -> list[x509.Certificate]:
    """The trusted TSA roots from a PEM file (``settings.tsa_roots``).

    Raises:
        MalformedTimestamp: the file holds no PEM certificate or a broken one.
        OSError: the file cannot be read.
    """
    return parse_roots_pem(path.read_bytes())


def token_from_reply(reply: bytes) -> bytes:
    """The DER token of a granted TimeStampResp (RFC 3161 §2.4.2).

    Raises:
        MalformedTimestamp: the reply is not a DER TimeStampResp, or granted without a token.
        TimestampNotGranted: the status is rejection, waiting or a revocation notice.
    """
    try:
        resp = _TimeStampResp.load(reply, strict=True)
        status_info = resp["status"]
        status = status_info["status"].native
        fail = status_info["fail_info"].native if status_info["fail_info"] else None
        text = status_info["status_string"].native if status_info["status_string"] else None
        token = resp["time_stamp_token"]
        token_der: bytes | None = token.dump() if token else None
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedTimestamp(
            f"TSA reply: not a DER TimeStampResp ({type(exc).__name__}: {exc})"
        ) from None
    if status not in GRANTED:
        detail = f"; failInfo {sorted(fail)}" if fail else ""
        detail += f"; {' '.join(text)}" if text else ""
        raise TimestampNotGranted(f"TSA reply status: expected granted, found {status}{detail}")
    if not token_der:
        raise MalformedTimestamp(f"TSA reply: status {status} but no timeStampToken")
    return token_der


class TsaClient:
    """One Time-Stamp Authority reached over HTTP, with the roots its tokens must chain to."""

    def __init__(self, url: str, timeout_s: float = 10.0, roots: Sequence[x509.Certificate] = ()) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"TSA url: expected http:// or https://, found {url[:60]!r}")
        if timeout_s <= 0:
            raise ValueError(f"TSA timeout: must be positive, found {timeout_s}")
        self.url = url
        self.timeout_s = timeout_s
        self.roots = tuple(roots)

    def __repr__(self) -> str:
        return f"TsaClient(url={self.url!r}, timeout_s={self.timeout_s}, roots={len(self.roots)})"

    def _post(self, query: bytes) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url, data=query, method="POST", headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                kind = response.headers.get_content_type()
                body: bytes = response.read(MAX_REPLY_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise TsaUnavailable(f"TSA {self.url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TsaUnavailable(f"TSA {self.url}: unreachable ({reason})") from None
        if kind != REPLY_TYPE:
            raise TsaUnavailable(f"TSA {self.url}: content type expected {REPLY_TYPE}, found {kind}")
        if len(body) > MAX_REPLY_BYTES:
            raise TsaUnavailable(f"TSA {self.url}: reply larger than {MAX_REPLY_BYTES} bytes")
        return body

    def stamp_verified(self, data: bytes, roots: Sequence[x509.Certificate] | None = None) -> VerifiedStamp:
        """Time-stamp SHA-256 of ``data``; return the token and its verified contents.

        ``roots`` defaults to the client's own.

        Raises:
            ValueError: no roots given here nor to the client (nothing could be trusted).
            TsaUnavailable: the TSA could not be reached or answered badly at the HTTP level.
            TimestampNotGranted: the TSA refused the request.
            MalformedTimestamp: the reply or token is not well-formed DER.
            VerificationFailed: any failure of :func:`verify_token` (its own subclasses).
        """
        trusted = self.roots if roots is None else tuple(roots)
        if not trusted:
            raise ValueError("TsaClient needs trusted roots to verify what the TSA returns")
        request = build_request(data)
        token = token_from_reply(self._post(request.der))
        info = verify_token(token, data, trusted, nonce=request.nonce)
        return VerifiedStamp(token=token, info=info)

    def stamp(self, data: bytes, roots: Sequence[x509.Certificate] | None = None) -> bytes:
        """The verified DER time-stamp token over SHA-256 of ``data`` (see :meth:`stamp_verified`).

        Raises:
            ValueError, TsaUnavailable, TimestampNotGranted, MalformedTimestamp, VerificationFailed:
                as :meth:`stamp_verified`.
        """
        return self.stamp_verified(data, roots).token
