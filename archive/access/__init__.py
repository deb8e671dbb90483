"""Access (利用) to archived documents: a pure policy, verified streaming and a logged service.

* :mod:`.policy` – who may use which volume (正卷/副卷) and how, with Chinese reasons for refusals;
* :mod:`.verify` – :func:`~.verify.verified_chunks`, re-hashing while streaming, last chunk held back;
* :mod:`.incidents` – the alert for a failed download (incident or outage);
* :mod:`.service` – :func:`~.service.open_document` (policy → ``dossier.accessed`` + checkpoint →
  verified stream) and :func:`~.service.report_mismatch`.

The HTTP routes and their authentication are left to ``api``.
"""

from archive.access.errors import (
    AccessDenied,
    AccessDigestMismatch,
    AccessRefused,
    DocumentNotFound,
    PurposeRequired,
    PurposeTooLong,
)
from archive.access.policy import AccessDecision, AccessRequest, decide_access, verify_access
from archive.access.verify import verified_chunks

__all__ = [
    "AccessDecision",
    "AccessDenied",
    "AccessDigestMismatch",
    "AccessRefused",
    "AccessRequest",
    "DocumentNotFound",
    "PurposeRequired",
    "PurposeTooLong",
    "decide_access",
    "verified_chunks",
    "verify_access",
]
