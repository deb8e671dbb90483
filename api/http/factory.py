"""The app for uvicorn worker processes (``edossier serve --workers N``): settings from the environment.

``edossier serve`` exports ``EDOSSIER_DATA_DIR`` (and keeps every other ``EDOSSIER_*`` variable), so
each worker process builds the same settings and opens its own installation in the app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.http.app import create_app
from archive.settings import Settings


def app_from_environment() -> FastAPI:
    """``create_app(Settings())`` — called once in each worker process by uvicorn (``factory=True``)."""
    return create_app(Settings())
