"""API tokens: created once, shown once, stored hashed, checked in constant time (issue 6, item 2).

A token is ``edt_<id>_<secret>``: ``id`` (16 hex digits) names the row and may appear in logs and
ledger events; ``secret`` (32 random bytes, URL-safe base64) is never stored — only its SHA-256,
which is enough for a secret of 256 random bits (no password stretching needed) — and is compared
with :func:`hmac.compare_digest`. Roles: ``submitter`` (submit, read own submissions),
``archivist`` (everything operational), ``auditor`` (reports, checkpoints, proofs, evidence; no
document content), ``admin`` (tokens, settings).

Pure part: :func:`parse_token`, :func:`secret_digest`, :func:`usable`. I/O part (takes a session,
never commits): :func:`create_token`, :func:`authenticate`, :func:`list_tokens`, :func:`revoke_token`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog.models import ApiToken
from standards.errors import BadInput

Role = Literal["submitter", "archivist", "auditor", "admin"]
ROLES: tuple[Role, ...] = ("submitter", "archivist", "auditor", "admin")
PREFIX = "edt"
_TOKEN = re.compile(r"edt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


class TokenInvalid(BadInput):
    """The presented token is malformed, unknown, revoked or expired (one class: never say which)."""

    code = "token_invalid"


class TokenNotFound(BadInput):
    """``revoke`` names no token."""

    code = "token_not_found"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token id (public), its name and role."""

    token_id: str
    name: str
    role: Role


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``text`` is shown to the person once and never again."""

    text: str
    principal: Principal
    expires_at: dt.datetime | None


def secret_digest(secret: str) -> str:
    """SHA-256 (hex) of a token's secret part."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def parse_token(text: str) -> tuple[str, str]:
    """``(id, secret)`` of a token's text.

    >>> parse_token("edt_0123456789abcdef_" + "A" * 43)[0]
    '0123456789abcdef'

    Raises:
        TokenInvalid: not a token of ours.
    """
    found = _TOKEN.fullmatch(text.strip())
    if found is None:
        raise TokenInvalid("token: expected edt_<16 hex>_<43 base64url characters>")
    return found.group(1), found.group(2)


def usable(row: ApiToken, now: dt.datetime) -> bool:
    """Not revoked and not expired at ``now``."""
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


def create_token(
    session: Session, name: str, role: str, now: dt.datetime, *, expires_in: dt.timedelta | None = None
) -> IssuedToken:
    """Add a token row; the returned text is the only copy of the secret.

    Raises:
        BadInput: an unknown role or a blank/too long name.
    """
    if role not in ROLES:
        raise BadInput(f"role: expected one of {', '.join(ROLES)}, found {role!r}")
    name = name.strip()
    if not name or len(name) > 128:
        raise BadInput("name: expected 1 to 128 characters")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    expires_at = now + expires_in if expires_in is not None else None
    session.add(
        ApiToken(
            id=token_id,
            name=name,
            role=role,
            secret_sha256=secret_digest(secret),
            created_at=now,
            expires_at=expires_at,
        )
    )
    principal = Principal(token_id, name, role)
    return IssuedToken(f"{PREFIX}_{token_id}_{secret}", principal, expires_at)


def authenticate(session: Session, text: str, now: dt.datetime) -> Principal:
    """The principal a token stands for.

    Raises:
        TokenInvalid: malformed, unknown, wrong secret, revoked or expired (the message never says which).
    """
    token_id, secret = parse_token(text)
    row = session.get(ApiToken, token_id)
    presented = secret_digest(secret)
    stored = row.secret_sha256 if row is not None else "0" * 64
    matches = hmac.compare_digest(presented, stored)
    if row is None or not matches or not usable(row, now):
        raise TokenInvalid("token: not valid (unknown, revoked or expired)")
    return Principal(row.id, row.name, cast(Role, row.role))


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token row (secrets are not there to show)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def revoke_token(session: Session, token_id: str, now: dt.datetime) -> None:
    """Revoke a token (idempotent).

    Raises:
        TokenNotFound: no such token.
    """
    row = session.get(ApiToken, token_id)
    if row is None:
        raise TokenNotFound(f"token {token_id!r}: no such token")
    if row.revoked_at is None:
        row.revoked_at = now
