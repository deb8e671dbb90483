"""Prometheus metrics of the service: requests (by route template, not raw path) and catalog gauges.

Defined once per process on the default registry; the catalog gauges are refreshed when scraped.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


def install_request_metrics(app: FastAPI) -> None:
    """Count and time every request by its route template (``/api/v1/dossiers/{archive_id}``)."""

    @app.middleware("http")
    async def _measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "<unmatched>")
        LATENCY.labels(request.method, template).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, template, str(response.status_code)).inc()
        return response
