"""Alembic revision scripts of the catalog; one file per schema change, never edited once released."""
