"""One JSON shape for every error, from one mapping table (issue 6, item 1).

Every error answer is ``{"error": {"code": ..., "message": ..., "status": N}}``. Routes raise our
exceptions (:class:`standards.errors.EdossierError` and its families) and never build an HTTP error
by hand; :func:`status_for` maps them: first the error's ``code`` in :data:`STATUS_BY_CODE`, then
its family in :data:`STATUS_BY_FAMILY` (the most specific class in the error's MRO wins). Framework
errors (unknown route, wrong method, a request that fails validation) get the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from standards.errors import BadInput, EdossierError, StorageError, StorageUnavailable, VerificationFailed

log = logging.getLogger(__name__)


class Forbidden(BadInput):
    """The token is valid but its role may not do this."""

    code = "forbidden"


class AuthenticationRequired(BadInput):
    """No token was presented where one is needed."""

    code = "authentication_required"


class NotFound(BadInput):
    """The resource named in the path does not exist."""

    code = "not_found"


#: Error codes with their own status (the rest follow their family).
STATUS_BY_CODE: dict[str, int] = {
    "authentication_required": 401,
    "token_invalid": 401,
    "forbidden": 403,
    "access_denied": 403,
    "not_found": 404,
    "token_not_found": 404,
    "ledger_archive_unknown": 404,
    "document_not_found": 404,
    "submission_not_found": 404,
    "audit_run_not_found": 404,
    "audit_run_finished": 409,
    "audit_run_incomplete": 409,
    "package_too_large": 413,
    "file_too_large": 413,
    "request_too_large": 413,
    "ledger_size_out_of_range": 404,  # no tree of that size (yet): the resource does not exist
    "audit_dossier_not_found": 404,
    "report_not_found": 404,
    "malformed_report": 500,  # a stored report that cannot be rebuilt: the server's fault, not the caller's
    "alert_not_found": 404,
    "alert_already_acknowledged": 409,
    "cases_file_too_large": 413,
}
#: Families, most specific first.
STATUS_BY_FAMILY: tuple[tuple[type[EdossierError], int], ...] = (
    (StorageUnavailable, 503),
    (StorageError, 500),
    (VerificationFailed, 409),
    (BadInput, 400),
    (EdossierError, 500),
)


class ErrorDetail(BaseModel):
    code: str
    message: str
    status: int


class ErrorBody(BaseModel):
    """The one error shape, as published in the OpenAPI document."""

    error: ErrorDetail


#: Documented on every route: the error answers any route may give, all in the one shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Bad input"),
        (401, "No token, or a token that is not valid"),
        (403, "The token's role may not do this"),
        (404, "Not found"),
        (409, "Stored data failed verification, or the state forbids it"),
        (413, "Request body over the limit"),
        (422, "Request parameters invalid"),
        (500, "Internal error"),
        (503, "Database or object store unavailable"),
    )
}


def publish_error_shape(document: dict[str, Any]) -> dict[str, Any]:
    """Make every documented error answer ``application/json`` with :class:`ErrorBody` in the OpenAPI document.

    FastAPI files an extra response under the route's own media type (``text/plain`` for the
    checkpoint, a byte stream for downloads); errors are JSON whatever the route returns.
    """
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) in ERROR_RESPONSES:
                    response["content"] = {"application/json": {"schema": ref}}
    return document


def status_for(error: EdossierError) -> int:
    """The HTTP status of one of our errors.

    >>> status_for(StorageUnavailable("db down")), status_for(Forbidden("no"))
    (503, 403)
    """
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    for family, status in STATUS_BY_FAMILY:
        if isinstance(error, family):
            return status
    return 500  # pragma: no cover - EdossierError is last in the table


def error_body(code: str, message: str, status: int) -> dict[str, object]:
    """The one error shape."""
    return {"error": {"code": code, "message": message, "status": status}}


def _respond(code: str, message: str, status: int) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(code, message, status), status_code=status, headers=headers)


def install_handlers(app: FastAPI) -> None:
    """Route every error raised while handling a request into the one shape."""

    @app.exception_handler(EdossierError)
    async def _ours(request: Request, error: EdossierError) -> JSONResponse:
        status = status_for(error)
        if status >= 500:
            log.error(
                "%s %s -> %d %s: %s", request.method, request.url.path, status, error.code, error.message
            )
        return _respond(error.code, error.message, status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _respond("request_invalid", f"{where}: {first.get('msg', 'invalid request')}", 422)

    @app.exception_handler(StarletteHTTPException)
    async def _framework(request: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        return _respond(codes.get(error.status_code, "http_error"), str(error.detail), error.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("%s %s: unexpected %s", request.method, request.url.path, type(error).__name__)
        return _respond("internal_error", "internal error (logged)", 500)
