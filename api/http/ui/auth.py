"""Browser login for the dashboard: paste an API token once, keep it in an HttpOnly cookie.

``GET /ui/login`` shows the form; ``POST /ui/login`` checks the token with
:func:`archive.tokens.authenticate` and sets the cookie (HttpOnly, SameSite=Strict, path ``/ui``,
Secure when the request came over https); ``/ui/logout`` clears it. Every page depends on
:func:`session_viewer`, which checks the cookie's token again on each request (a revoked token
stops working at once) and applies the API's role rules: archivist, auditor and admin may read;
a submitter gets the 403 page. What each reader may see (副卷) is
:func:`api.http.routes.dossiers.sees_secondary`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import READERS, Inst
from api.http.errors import AuthenticationRequired, Forbidden
from api.http.ui.render import page
from api.http.ui.route import COOKIE, COOKIE_PATH, LOGIN_PATH, UiRoute
from archive.catalog.errors import DatabaseUnavailable
from archive.tokens import Principal, TokenInvalid, authenticate

router = APIRouter(route_class=UiRoute)
HOME = "/ui"
MAX_TOKEN_CHARS = 200
INVALID_TOKEN = "令牌无效、已吊销或已过期，请检查后重新粘贴。"  # noqa: S105 - a message, not a secret


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path under ``/ui`` only (never another site), else ``/ui``.

    >>> safe_next("/ui/dossiers?year=2024"), safe_next("https://evil.example/ui"), safe_next("//evil/ui")
    ('/ui/dossiers?year=2024', '/ui', '/ui')
    """
    if not target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or target.startswith("//"):
        return HOME
    if parts.path != HOME and not parts.path.startswith(HOME + "/"):
        return HOME
    return target


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether a form post's ``Origin`` names this host (no ``Origin``: a non-browser client, allowed).

    >>> same_origin("http://127.0.0.1:8000", "127.0.0.1:8000"), same_origin("https://evil.example", "a:1")
    (True, False)
    """
    if origin is None:
        return True
    return host is not None and urlsplit(origin).netloc == host


def _authenticate(inst: Inst, token: str) -> Principal:
    try:
        with inst.sessions() as session:
            return authenticate(session, token, dt.datetime.now(dt.UTC))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"dashboard token check: {type(exc).__name__}") from exc


def _require_reader(who: Principal) -> Principal:
    if who.role not in READERS:
        raise Forbidden(f"dashboard: role {who.role} may not read (allowed: {', '.join(READERS)})")
    return who


def session_viewer(request: Request, inst: Inst) -> Principal:
    """The reader the session cookie stands for.

    Raises:
        AuthenticationRequired: no cookie (the page sends the browser to the login form).
        TokenInvalid: the cookie's token is malformed, unknown, revoked or expired.
        Forbidden: a role that may not read (submitter).
        DatabaseUnavailable: the database failed.
    """
    token = request.cookies.get(COOKIE)
    if not token:
        raise AuthenticationRequired("dashboard: no session cookie; log in at /ui/login")
    who = _authenticate(inst, token)
    request.state.ui_viewer = who
    return _require_reader(who)


Viewer = Annotated[Principal, Depends(session_viewer)]


def _form(request: Request, target: str, *, error: str | None, status_code: int) -> HTMLResponse:
    context = {"next": safe_next(target), "error": error}
    return page(request, "login.j2", context, who=None, status_code=status_code)


@router.get("/login")
def login_form(request: Request, next: str | None = None, expired: str | None = None) -> HTMLResponse:
    notice = "登录已失效，请重新登录。" if expired else None
    return _form(request, next or HOME, error=notice, status_code=200)


@router.post("/login")
def login(
    request: Request,
    inst: Inst,
    token: Annotated[str, Form(max_length=MAX_TOKEN_CHARS)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    """Check the pasted token; on success set the session cookie and go on to ``next``."""
    if not same_origin(request.headers.get("origin"), request.headers.get("host")):
        raise Forbidden("dashboard login: Origin does not match Host (cross-site form post)")
    text = token.strip()
    if not text:
        return _form(request, next, error="请粘贴 API 令牌。", status_code=400)
    try:
        _require_reader(_authenticate(inst, text))
    except TokenInvalid:
        return _form(request, next, error=INVALID_TOKEN, status_code=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        text,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout() -> RedirectResponse:
    """Clear the session cookie and show the login form."""
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response
