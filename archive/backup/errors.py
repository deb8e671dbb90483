"""Errors of ``edossier backup`` / ``edossier restore`` (:mod:`archive.backup`).

Each failure has its own class in a family of :mod:`standards.errors`: a missing configuration or a
target that must not be written is bad input; a backup whose bytes do not match what ``backup.json``
recorded is a failed verification; store and database outages keep the storage family of the stores.
"""

from __future__ import annotations

from standards.errors import BadInput, VerificationFailed


class BackupNotConfigured(BadInput):
    """No backup store is configured (``EDOSSIER_BACKUP__STORE``), or its settings are incomplete."""

    code = "backup_not_configured"


class BackupStoreIsMainStore(BadInput):
    """The configured backup store is the main object store, or one folder holds the other."""

    code = "backup_store_is_main_store"


class BackupNotFound(BadInput):
    """No complete backup (one with ``backup.json``) has the requested id, or none exists yet."""

    code = "backup_not_found"


class TargetNotEmpty(BadInput):
    """The restore target database already holds rows: restore never writes over an archive."""

    code = "restore_target_not_empty"


class BackupSchemaUnknown(BadInput):
    """The catalog dump was written at a schema revision this edossier does not know (a newer one)."""

    code = "backup_schema_unknown"


class BackupCorrupt(VerificationFailed):
    """A part of a backup does not match the size or SHA-256 ``backup.json`` records, or cannot be parsed."""

    code = "backup_corrupt"
