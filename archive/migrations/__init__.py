"""Alembic migrations of the catalog database; run through :mod:`archive.catalog.db` (no alembic.ini)."""
