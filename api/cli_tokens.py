"""``edossier tokens create|list|revoke``: API tokens (the secret is shown once, stored hashed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from api import cli_output as ui
from api.cli_common import DataDirOption, JsonOption, exit_unavailable, fail_usage, open_or_exit, settings_for
from archive.catalog.errors import DatabaseUnavailable
from archive.tokens import ROLES, create_token, list_tokens, revoke_token, usable
from standards.errors import BadInput

tokens_app = typer.Typer(help="API tokens and their roles.", no_args_is_help=True)


@tokens_app.command("create")
def create(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option(help="Who or what uses it (shown in lists and logs).")],
    expires_days: Annotated[
        int | None, typer.Option(min=1, help="Days until it expires (default never).")
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token; its text is printed once and cannot be shown again."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    now = dt.datetime.now(dt.UTC)
    try:
        with inst.write_sessions() as session, session.begin():
            issued = create_token(
                session, name, role, now, expires_in=dt.timedelta(days=expires_days) if expires_days else None
            )
    except BadInput as error:
        fail_usage(error.message)
    except SQLAlchemyError as exc:
        exit_unavailable(DatabaseUnavailable(f"tokens create: {type(exc).__name__}"), as_json)
    finally:
        inst.close()
    body = {
        "id": issued.principal.token_id,
        "name": issued.principal.name,
        "role": issued.principal.role,
        "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
        "token": issued.text,
    }
    if as_json:
        ui.emit_json(body)
        return
    ui.out.print(issued.text, markup=False)
    ui.err.print(f"token {body['id']} ({role}) created; keep it now, it is not shown again", markup=False)


@tokens_app.command("list")
def list_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """List tokens (ids, names, roles, state; never the secrets)."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    now = dt.datetime.now(dt.UTC)
    try:
        with inst.sessions() as session:
            rows = [
                {
                    "id": t.id,
                    "name": t.name,
                    "role": t.role,
                    "created_at": t.created_at.isoformat(),
                    "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                    "revoked": t.revoked_at is not None,
                    "usable": usable(t, now),
                }
                for t in list_tokens(session)
            ]
    except SQLAlchemyError as exc:
        exit_unavailable(DatabaseUnavailable(f"tokens list: {type(exc).__name__}"), as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json({"tokens": rows})
        return
    for r in rows:
        state = "usable" if r["usable"] else ("revoked" if r["revoked"] else "expired")
        ui.out.print(f"{r['id']}  {r['role']:<10} {state:<8} {r['name']}", markup=False)


@tokens_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token id (the 16 hex digits after edt_).")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a token at once (idempotent)."""
    settings = settings_for(data_dir)
    inst = open_or_exit(settings, as_json)
    try:
        with inst.write_sessions() as session, session.begin():
            revoke_token(session, token_id, dt.datetime.now(dt.UTC))
    except BadInput as error:
        fail_usage(error.message)
    except SQLAlchemyError as exc:
        exit_unavailable(DatabaseUnavailable(f"tokens revoke: {type(exc).__name__}"), as_json)
    finally:
        inst.close()
    if as_json:
        ui.emit_json({"id": token_id, "revoked": True})
    else:
        ui.out.print(f"token {token_id} revoked", markup=False)
