"""Who may use which volume of a dossier, and how (利用 rules; pure, no I/O).

The rules, in the order they are applied (the first that refuses decides):

1. an unknown 卷别 is refused (fail closed: only 正卷 and 副卷 are known);
2. an ``auditor`` never receives document content, only metadata (DESIGN.md: auditors verify
   checkpoints, proofs and evidence without reading the records);
3. 副卷 content *and* metadata go only to ``archivist`` and ``admin`` — 副卷 (合议庭评议笔录, 审委会讨论
   记录, 审理报告, 签发稿 …) is internal and not open to parties or lawyers (法释〔2002〕39号 第5条:
   agents may read the 正卷 only; standards-reference.md §11);
4. every 副卷 access states a non-blank 利用目的 (purpose);
5. a purpose longer than ``max_purpose_chars`` is refused (it goes into the ledger verbatim).

:func:`decide_access` returns an :class:`AccessDecision` (with the Chinese reason of a refusal);
:func:`verify_access` raises instead, and :func:`refusal` turns a refused decision into its exception.
Looking up the document and logging the access are left to :mod:`archive.access.service`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from archive.access.errors import AccessDenied, AccessRefused, PurposeRequired, PurposeTooLong

Role = Literal["submitter", "archivist", "auditor", "admin"]
ROLES: tuple[Role, ...] = ("submitter", "archivist", "auditor", "admin")
MAIN_VOLUME = "正卷"
INTERNAL_VOLUME = "副卷"
VOLUMES = (MAIN_VOLUME, INTERNAL_VOLUME)
#: Uses of document content; the same values as ``access`` in the ``dossier.accessed`` ledger event.
CONTENT_ACCESS = ("view", "download", "print", "export")
#: Every kind of access the policy decides: metadata (catalogue entry) or content.
ACCESS_KINDS = ("metadata", *CONTENT_ACCESS)
INTERNAL_ROLES: tuple[Role, ...] = ("archivist", "admin")
#: Longest 利用目的 accepted (characters); a default for callers without a configured limit.
MAX_PURPOSE_CHARS = 500

REASON_UNKNOWN_VOLUME = "卷别“{volume}”无法识别（应为正卷或副卷），不予利用"
REASON_AUDITOR_CONTENT = "审计人员只能查阅元数据、审计报告和证明材料，不能获取文件内容"
REASON_INTERNAL_ROLE = "副卷为内部卷宗，其文件内容和元数据仅限档案管理员或系统管理员利用"
REASON_PURPOSE_REQUIRED = "利用副卷文件必须填写利用目的"
REASON_PURPOSE_TOO_LONG = "利用目的过长：最多 {limit} 个字符，实际 {found} 个字符"


@dataclass(frozen=True)
class AccessRequest:
    """One request to use a document: who (role), which volume, how, and why (may be blank)."""

    role: str
    volume: str
    purpose: str | None
    access: str = "download"


@dataclass(frozen=True)
class AccessDecision:
    """The verdict on a request.

    ``allowed`` with ``code`` ``None`` and ``reason`` ``""``, or refused with ``code``
    (``access_denied``, ``purpose_required`` or ``purpose_too_long``) and a Chinese ``reason``.
    ``purpose`` is the request's purpose stripped of surrounding blanks, ``None`` when blank.
    """

    request: AccessRequest
    allowed: bool
    code: str | None
    reason: str
    purpose: str | None


def normalise_purpose(purpose: str | None) -> str | None:
    """``purpose`` without surrounding blanks (including full-width spaces); ``None`` when nothing is left.

    >>> normalise_purpose("　 审判监督 ")
    '审判监督'
    >>> normalise_purpose("  ") is None
    True
    """
    if purpose is None:
        return None
    stripped = purpose.strip()
    return stripped or None


def decide(request: AccessRequest, *, max_purpose_chars: int = MAX_PURPOSE_CHARS) -> AccessDecision:
    """Apply the rules of the module docstring to ``request``.

    Raises:
        ValueError: an unknown role or access kind (the caller's bug: roles come from the token
            layer, access kinds from the route), or a ``max_purpose_chars`` below 1.
    """
    if request.role not in ROLES:
        raise ValueError(f"role: expected one of {', '.join(ROLES)}, found {request.role!r}")
    if request.access not in ACCESS_KINDS:
        raise ValueError(f"access: expected one of {', '.join(ACCESS_KINDS)}, found {request.access!r}")
    if max_purpose_chars < 1:
        raise ValueError(f"max_purpose_chars must be >= 1, found {max_purpose_chars}")
    purpose = normalise_purpose(request.purpose)

    def refuse(code: str, reason: str) -> AccessDecision:
        return AccessDecision(request, False, code, reason, purpose)

    if request.volume not in VOLUMES:
        return refuse(AccessDenied.code, REASON_UNKNOWN_VOLUME.format(volume=request.volume[:20]))
    if request.role == "auditor" and request.access in CONTENT_ACCESS:
        return refuse(AccessDenied.code, REASON_AUDITOR_CONTENT)
    if request.volume == INTERNAL_VOLUME:
        if request.role not in INTERNAL_ROLES:
            return refuse(AccessDenied.code, REASON_INTERNAL_ROLE)
        if purpose is None:
            return refuse(PurposeRequired.code, REASON_PURPOSE_REQUIRED)
    if purpose is not None and len(purpose) > max_purpose_chars:
        reason = REASON_PURPOSE_TOO_LONG.format(limit=max_purpose_chars, found=len(purpose))
        return refuse(PurposeTooLong.code, reason)
    return AccessDecision(request, True, None, "", purpose)


def decide_access(
    role: str,
    volume: str,
    purpose: str | None,
    access: str = "download",
    *,
    max_purpose_chars: int = MAX_PURPOSE_CHARS,
) -> AccessDecision:
    """:func:`decide` for the request ``(role, volume, purpose, access)``.

    >>> decide_access("submitter", "副卷", "查阅").reason
    '副卷为内部卷宗，其文件内容和元数据仅限档案管理员或系统管理员利用'
    >>> decide_access("archivist", "副卷", "再审审查").allowed
    True

    Raises:
        ValueError: as :func:`decide`.
    """
    return decide(AccessRequest(role, volume, purpose, access), max_purpose_chars=max_purpose_chars)


_REFUSALS: dict[str, type[AccessRefused]] = {
    cls.code: cls for cls in (AccessDenied, PurposeRequired, PurposeTooLong)
}


def refusal(decision: AccessDecision, *, subject: str | None = None) -> AccessRefused:
    """The exception for a refused ``decision``; ``subject`` (e.g. ``"(2024)京01民初1号 第7件"``)
    prefixes the Chinese reason and names the document in the message.

    Raises:
        ValueError: ``decision`` allowed the request.
    """
    if decision.allowed or decision.code is None:
        raise ValueError("refusal: the decision allowed the request")
    req = decision.request
    where = f" to {subject}" if subject else ""
    message = (
        f"access refused{where}: role {req.role!r}, volume {req.volume!r}, access {req.access!r}"
        f" ({decision.code})"
    )
    reason = f"{subject}：{decision.reason}" if subject else decision.reason
    return _REFUSALS[decision.code](message, reason=reason, path=subject)


def verify_access(
    request: AccessRequest, *, subject: str | None = None, max_purpose_chars: int = MAX_PURPOSE_CHARS
) -> None:
    """:func:`decide`, raising when the request is refused.

    Raises:
        AccessDenied: the role may not have this access to this volume, or the volume is unknown.
        PurposeRequired: a 副卷 access without a 利用目的.
        PurposeTooLong: the purpose is longer than ``max_purpose_chars``.
        ValueError: as :func:`decide`.
    """
    decision = decide(request, max_purpose_chars=max_purpose_chars)
    if not decision.allowed:
        raise refusal(decision, subject=subject)
