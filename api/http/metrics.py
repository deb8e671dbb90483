"""Prometheus metrics of the service: requests (by route template, not raw path) and catalog gauges.

Defined once per process on the default registry; the catalog gauges are refreshed when scraped.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive.catalog.models import AuditRun
from archive.catalog.queries import catalog_stats

REQUESTS = Counter("edossier_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "edossier_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CATALOG = Gauge("edossier_catalog", "Catalog totals", ["what"])
AUDIT_RUNS = Gauge("edossier_audit_runs", "Audit runs by status", ["status"])


def refresh_catalog_gauges(session: Session) -> None:
    """Set the catalog and audit gauges from the database."""
    stats = catalog_stats(session)
    for what in ("dossiers", "documents", "blobs", "blob_bytes", "ledger_size"):
        CATALOG.labels(what=what).set(stats[what])
    for status, count in session.execute(select(AuditRun.status, func.count()).group_by(AuditRun.status)):
        AUDIT_RUNS.labels(status=status).set(count)


class RequestMetrics:
    """Pure ASGI middleware: count and time every request by its route template.

    (Starlette's ``@app.middleware("http")`` wraps each request in extra tasks and streams; at a few
    hundred requests per second that overhead showed in the latency benchmark.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = getattr(scope.get("route"), "path", "<unmatched>")
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], template, str(status)).inc()


def install_request_metrics(app: FastAPI) -> None:
    """Count and time every request by its route template (``/api/v1/dossiers/{archive_id}``)."""
    app.add_middleware(RequestMetrics)
