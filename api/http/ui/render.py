"""Render the dashboard's Jinja2 templates (``templates/*.j2``, shipped as package data) into HTML responses.

Every page gets the same security headers: a Content-Security-Policy that allows only this page's
own inline ``<style>``/``<script>`` (a fresh nonce per response; nothing is loaded from elsewhere),
no framing, no referrer to other sites, no caching (pages show catalog data to a logged-in person). Templates are
autoescaped and fail on an undefined name. Choosing what to show is left to the pages.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.http.ui import views
from archive.register.model import percent
from archive.tokens import Principal

TEMPLATES = Path(__file__).parent / "templates"
ROLE_NAMES: Mapping[str, str] = {
    "archivist": "档案管理员",
    "auditor": "审计员",
    "admin": "系统管理员",
    "submitter": "提交人",
}


@cache
def environment() -> Environment:
    """The one template environment (autoescaped, strict about undefined names)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["bytes"] = views.format_bytes
    env.filters["when"] = views.when
    env.filters["segment"] = lambda value: quote(str(value), safe="")
    env.globals["percent"] = percent
    env.globals["ROLE_NAMES"] = ROLE_NAMES
    env.globals["RUN_STATUS_NAMES"] = views.RUN_STATUS_NAMES
    env.globals["OUTCOME_NAMES"] = views.OUTCOME_NAMES
    env.globals["SCOPE_NAMES"] = views.SCOPE_NAMES
    return env


def security_headers(nonce: str) -> dict[str, str]:
    """Headers of every dashboard response."""
    policy = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",  # "no-referrer" would make browsers send Origin: null on the login post
        "Cache-Control": "no-store",
    }


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    who: Principal | None,
    status_code: int = 200,
) -> HTMLResponse:
    """``template`` rendered with ``context`` plus the viewer, the current path and the CSP nonce."""
    nonce = secrets.token_urlsafe(16)
    body = environment().get_template(template).render(**context, who=who, path=request.url.path, nonce=nonce)
    return HTMLResponse(body, status_code=status_code, headers=security_headers(nonce))
