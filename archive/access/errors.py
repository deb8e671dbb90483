"""Errors of access (利用): refused requests, unknown documents and bytes that are not what was archived.

Each failure has its own class in a family of :mod:`standards.errors`: a refusal or an unknown document
is bad input (the request must change); bytes that differ from the catalog digest are a failed
verification (evidence of tampering or loss, never an outage). Messages for logs and exceptions are
English; :attr:`AccessRefused.reason` carries the Chinese text shown to the person who asked.
"""

from __future__ import annotations

from standards.errors import BadInput, VerificationFailed


class DocumentNotFound(BadInput):
    """No document with this archive id and 顺序号 is catalogued."""

    code = "document_not_found"


class AccessRefused(BadInput):
    """The access policy refused the request; ``reason`` is the Chinese text for the requester."""

    code = "access_refused"

    def __init__(self, message: str, *, reason: str, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.reason = reason


class AccessDenied(AccessRefused):
    """The requester's role may not have this access to this volume (正卷/副卷)."""

    code = "access_denied"


class PurposeRequired(AccessRefused):
    """The 利用目的 (purpose) is blank where the policy requires one (every 副卷 access)."""

    code = "purpose_required"


class PurposeTooLong(AccessRefused):
    """The 利用目的 is longer than the policy allows (it is written into the ledger verbatim)."""

    code = "purpose_too_long"


class AccessDigestMismatch(VerificationFailed):
    """The bytes read for a download do not have the catalogued SHA-256 and size; the stream was stopped."""

    code = "access_digest_mismatch"

    def __init__(
        self,
        message: str,
        *,
        expected_sha256: str,
        found_sha256: str,
        expected_size: int,
        found_size: int,
        path: str | None = None,
    ) -> None:
        super().__init__(message, path=path)
        self.expected_sha256 = expected_sha256
        self.found_sha256 = found_sha256
        self.expected_size = expected_size
        self.found_size = found_size

    def diagnostics(self) -> str:
        """The base diagnosis plus both digests and sizes."""
        return "\n".join(
            [
                super().diagnostics(),
                f"  expected: sha256 {self.expected_sha256}, {self.expected_size} bytes",
                f"  found:    sha256 {self.found_sha256}, {self.found_size} bytes",
            ]
        )
