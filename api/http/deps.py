"""Request dependencies: the installation, the caller (from the ``Authorization: Bearer`` token), role checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.exc import SQLAlchemyError

from api.http.errors import AuthenticationRequired, Forbidden
from api.wiring import Installation
from archive.catalog.errors import DatabaseUnavailable
from archive.tokens import Principal, Role, authenticate


async def installation(request: Request) -> Installation:
    """The installation the app opened at start-up (async: no I/O, so no hop to a worker thread)."""
    inst: Installation = request.app.state.inst
    return inst


Inst = Annotated[Installation, Depends(installation)]


def caller(
    inst: Inst, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Principal | None:
    """The principal of the bearer token, or ``None`` without one.

    Raises:
        TokenInvalid: a token that is malformed, unknown, revoked or expired.
        DatabaseUnavailable: the database failed.
    """
    if authorization is None:
        return None
    scheme, _, text = authorization.partition(" ")
    if scheme.lower() != "bearer" or not text:
        raise AuthenticationRequired("Authorization: expected 'Bearer <token>'")
    try:
        with inst.sessions() as session:
            return authenticate(session, text, dt.datetime.now(dt.UTC))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"token check: {type(exc).__name__}") from exc


Caller = Annotated[Principal | None, Depends(caller)]


def allow(*roles: Role) -> Callable[[Principal | None], Awaitable[Principal]]:
    """A dependency that lets only ``roles`` through (401 without a token, 403 with another role)."""

    async def check(who: Caller) -> Principal:  # async: no I/O, no thread hop
        if who is None:
            raise AuthenticationRequired("this endpoint needs a token: Authorization: Bearer <token>")
        if who.role not in roles:
            raise Forbidden(f"role {who.role} may not do this (allowed: {', '.join(roles)})")
        return who

    return check


READERS: tuple[Role, ...] = ("archivist", "auditor", "admin")
OPERATORS: tuple[Role, ...] = ("archivist", "admin")
