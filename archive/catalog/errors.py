"""Errors of the catalog database plumbing (engine, readiness, schema revision).

Each class is one distinct failure with its own ``code``; all are in the storage family of
:mod:`standards.errors`. Backend exceptions (SQLAlchemy ``OperationalError``, ``ArgumentError``) are
translated into these at the edge, in :mod:`archive.catalog.db`. Failures of queries and of the ingest
transaction itself are left to their callers.
"""

from __future__ import annotations

from standards.errors import BadInput, StorageError, StorageUnavailable


class DatabaseUnavailable(StorageUnavailable):
    """The catalog database cannot be reached (server down, wrong host, unreadable SQLite file)."""

    code = "database_unavailable"


class UnsupportedDatabaseUrl(BadInput):
    """The configured database URL is malformed or names a backend edossier does not support."""

    code = "unsupported_database_url"


class DatabaseNotMigrated(StorageError):
    """The catalog schema is not at the revision this code expects (run ``upgrade``)."""

    code = "database_not_migrated"
