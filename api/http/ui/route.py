"""How a dashboard request fails: as a page for people, never as the API's JSON error shape.

:class:`UiRoute` is the route class of every ``/ui`` route. It catches our errors (and request
validation errors) raised by a page or its dependencies: no or an invalid session cookie sends the
browser to ``/ui/login`` (clearing a stale cookie); every other error becomes the error page with
the status :func:`api.http.errors.status_for` gives (403 无权访问, 404 未找到, 503 …). The session
cookie's name and path live here so both the login and this guard use them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from api.http.errors import AuthenticationRequired, NotFound, status_for
from api.http.ui.render import page
from archive.tokens import Principal, TokenInvalid
from standards.errors import BadInput, EdossierError

log = logging.getLogger(__name__)

COOKIE = "edossier_ui"
COOKIE_PATH = "/ui"
LOGIN_PATH = "/ui/login"
TITLES = {400: "请求有误", 401: "需要登录", 403: "无权访问", 404: "未找到", 409: "状态冲突"}
NOTICES = {
    400: "请求的参数不正确，请返回上一页修改后重试。",
    403: "您的账号角色无权查看此页面。提交人角色请使用归档提交接口；如需查看档案，请联系档案管理员。",
    404: "没有找到您要查看的内容。",
    409: "该对象当前的状态不允许此操作。",
}
UNAVAILABLE = "服务暂时不可用（数据库或存储无法访问），请稍后重试；如持续出现请联系系统管理员。"


class PageNotFound(NotFound):
    """A page names something that does not exist; ``notice`` is the Chinese sentence shown to people."""

    def __init__(self, message: str, *, notice: str) -> None:
        super().__init__(message)
        self.notice = notice


def viewer_of(request: Request) -> Principal | None:
    """Who the page was for, when the guard got that far (for the navigation of an error page)."""
    who = getattr(request.state, "ui_viewer", None)
    return who if isinstance(who, Principal) else None


def login_redirect(request: Request, *, expired: bool) -> RedirectResponse:
    """To the login form, remembering where the person wanted to go."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    suffix = "&expired=1" if expired else ""
    response = RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}{suffix}", status_code=303)
    if expired:
        response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


def error_page(request: Request, error: EdossierError) -> Response:
    """The page for ``error``: a login redirect for a missing or invalid session, else the error page."""
    if isinstance(error, AuthenticationRequired | TokenInvalid):
        return login_redirect(request, expired=isinstance(error, TokenInvalid))
    status = status_for(error)
    if status >= 500:
        log.error("%s %s -> %d %s: %s", request.method, request.url.path, status, error.code, error.message)
    notice = getattr(error, "notice", None) or NOTICES.get(status, UNAVAILABLE)
    context = {
        "status": status,
        "title": TITLES.get(status, "服务暂不可用"),
        "notice": notice,
        "code": error.code,
    }
    return page(request, "error.j2", context, who=viewer_of(request), status_code=status)


class UiRoute(APIRoute):
    """An API route whose errors are rendered as dashboard pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except EdossierError as error:
                return error_page(request, error)
            except RequestValidationError:
                return error_page(request, BadInput(f"{request.url.path}: request parameters invalid"))

        return guarded
