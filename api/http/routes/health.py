"""Liveness, readiness and Prometheus metrics (no token needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from api.http.deps import Inst
from api.http.metrics import refresh_catalog_gauges
from archive.catalog import db
from archive.catalog.errors import DatabaseUnavailable
from integrity.reports.header import installed_version

router = APIRouter(tags=["health"])


@router.get("/api/v1/health", summary="Liveness: the process answers")
def health() -> dict[str, Any]:
    return {"status": "ok", "version": installed_version()}


@router.get("/api/v1/ready", summary="Readiness: the database and the object store answer")
def ready(inst: Inst) -> dict[str, Any]:
    """200 when both answer; 503 in the error shape when either does not (StorageUnavailable)."""
    db.check_ready(inst.engine)
    inst.store.check_ready()
    return {"status": "ready", "database": db.describe(inst.engine), "store": inst.store.name}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(inst: Inst) -> Response:
    try:
        with inst.sessions() as session:
            refresh_catalog_gauges(session)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"metrics: {type(exc).__name__}") from exc
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
