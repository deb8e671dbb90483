"""``create_app(settings)``: the HTTP API under ``/api/v1`` (OpenAPI at ``/openapi.json``, docs at ``/docs``).

The app opens one :class:`~api.wiring.Installation` at start-up (database migrated and checked,
keys loaded) and closes it at shutdown; routes take it from :func:`api.http.deps.installation`.
Errors go through :mod:`api.http.errors` only.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from api.http.dispatch import dispatcher_for
from api.http.errors import ERROR_RESPONSES, install_handlers, publish_error_shape
from api.http.metrics import install_request_metrics
from api.http.routes import alerts, audits, cases, dossiers, health, ledger, reports, submissions
from api.http.ui.pages import router as ui_router
from api.wiring import Installation, open_installation
from archive.settings import Settings
from integrity.reports.header import installed_version

ROUTE_THREADS = 8


def create_app(settings: Settings, *, installation: Installation | None = None) -> FastAPI:
    """The API for ``settings`` (or for an already open ``installation``, which the caller closes)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run on worker threads; more threads than this only fight over the GIL and the
        # connection pool, which shows as a long latency tail under load (bench/api.py).
        anyio.to_thread.current_default_thread_limiter().total_tokens = ROUTE_THREADS
        own = installation is None
        app.state.inst = open_installation(settings) if own else installation
        app.state.dispatcher = dispatcher_for(app.state.inst)
        gc.freeze()  # start-up objects (settings, schemas, code tables) leave the collector's scans
        try:
            yield
        finally:
            await app.state.dispatcher.close()
            if own:
                app.state.inst.close()

    app = FastAPI(
        title="edossier",
        version=installed_version(),
        description="电子卷宗归档与四性检测服务 — court e-dossier archive and integrity monitor",
        lifespan=lifespan,
    )
    install_handlers(app)
    install_request_metrics(app)
    for module in (health, ledger, dossiers, submissions, audits, cases, reports, alerts):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.include_router(ui_router)
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = publish_error_shape(plain_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
