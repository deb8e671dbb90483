"""Alerts over HTTP: the ones recorded in the catalog (newest first) and acknowledging one.

Every alert the dispatcher raises (incidents, outages, overdue audits and archiving, signing
failures) is recorded by :mod:`integrity.alerts.catalog`; delivering it to the log, webhooks and
e-mail stays the dispatcher's. Acknowledging records who (the token id) and when; it changes nothing
about the finding itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import OPERATORS, READERS, Inst, allow
from archive.catalog.errors import DatabaseUnavailable
from archive.tokens import Principal
from integrity.alerts.catalog import acknowledge_alert, alert_view, list_alerts
from integrity.alerts.model import AlertKind

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, Depends(allow(*READERS))]
Operator = Annotated[Principal, Depends(allow(*OPERATORS))]
MAX_PAGE = 200
MAX_OFFSET = 10**9  # keeps OFFSET inside every backend's integer


@router.get("", summary="Recorded alerts, newest first (?acknowledged=false: the open ones)")
def alerts(
    inst: Inst,
    who: Reader,
    acknowledged: Annotated[bool | None, Query()] = None,
    kind: Annotated[AlertKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    try:
        with inst.sessions() as session:
            total, rows = list_alerts(
                session,
                acknowledged=acknowledged,
                kind=kind.value if kind is not None else None,
                limit=limit,
                offset=offset,
            )
            items = [alert_view(r) for r in rows]
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"alerts: {type(exc).__name__}") from exc
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.post("/{alert_id}/acknowledge", summary="Acknowledge an alert (records who and when)")
def acknowledge(
    alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)], inst: Inst, who: Operator
) -> dict[str, Any]:
    """Raises ``alert_not_found`` (404) or ``alert_already_acknowledged`` (409, naming who and when)."""
    try:
        with inst.write_sessions() as session, session.begin():
            row = acknowledge_alert(session, alert_id, who.token_id, dt.datetime.now(dt.UTC))
            body = alert_view(row)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"acknowledge alert: {type(exc).__name__}") from exc
    return body
