"""API tokens: shown once, stored hashed, refused when malformed, unknown, wrong, revoked or expired."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy.orm import Session

from archive.catalog.models import ApiToken
from archive.tokens import (
    TokenInvalid,
    TokenNotFound,
    authenticate,
    create_token,
    list_tokens,
    parse_token,
    revoke_token,
)
from standards.errors import BadInput

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_created_token_authenticates_and_only_its_hash_is_stored(db_session: Session) -> None:
    issued = create_token(db_session, "案件系统", "submitter", NOW)
    db_session.flush()
    token_id, secret = parse_token(issued.text)
    row = db_session.get(ApiToken, token_id)
    assert row is not None and row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row.__dict__)
    who = authenticate(db_session, issued.text, NOW)
    assert (who.token_id, who.role, who.name) == (token_id, "submitter", "案件系统")


def test_wrong_secret_revoked_and_expired_tokens_are_refused_alike(db_session: Session) -> None:
    good = create_token(db_session, "a", "archivist", NOW)
    short = create_token(db_session, "b", "auditor", NOW, expires_in=dt.timedelta(hours=1))
    gone = create_token(db_session, "c", "admin", NOW)
    revoke_token(db_session, gone.principal.token_id, NOW)
    db_session.flush()
    token_id, secret = parse_token(good.text)
    other = ("B" if secret[0] == "A" else "A") + secret[1:]
    attempts = [f"edt_{token_id}_{other}", gone.text, "edt_ffffffffffffffff_" + "A" * 43]
    for text in attempts:
        with pytest.raises(TokenInvalid) as caught:
            authenticate(db_session, text, NOW)
        assert caught.value.message == "token: not valid (unknown, revoked or expired)"
    authenticate(db_session, short.text, NOW + dt.timedelta(minutes=59))
    with pytest.raises(TokenInvalid):
        authenticate(db_session, short.text, NOW + dt.timedelta(hours=1))


@pytest.mark.parametrize("text", ["", "edt_", "edt_0123_abc", "Bearer x", "edt_0123456789ABCDEF_" + "A" * 43])
def test_malformed_tokens_are_refused(text: str) -> None:
    with pytest.raises(TokenInvalid):
        parse_token(text)


def test_unknown_role_and_blank_name_are_refused(db_session: Session) -> None:
    with pytest.raises(BadInput, match="role"):
        create_token(db_session, "x", "root", NOW)
    with pytest.raises(BadInput, match="name"):
        create_token(db_session, "  ", "admin", NOW)


def test_revoke_is_idempotent_and_unknown_ids_are_named(db_session: Session) -> None:
    issued = create_token(db_session, "x", "admin", NOW)
    db_session.flush()
    revoke_token(db_session, issued.principal.token_id, NOW)
    revoke_token(db_session, issued.principal.token_id, NOW + dt.timedelta(days=1))
    [row] = list_tokens(db_session)
    assert row.revoked_at == NOW
    with pytest.raises(TokenNotFound):
        revoke_token(db_session, "0000000000000000", NOW)
