"""Backups of a whole installation to a second store, restore, and the DA/T 70 BC-3-9 restorability check.

``edossier backup`` (:func:`archive.backup.create.create_backup`) writes the catalog (every table, the
ledger included) as a dialect-neutral dump, the public key files, an inventory of every archive object and
the objects themselves to the store ``settings.backup`` configures (:func:`archive.backup.store.open_backup_store`),
``backup.json`` last. ``edossier restore`` (:func:`archive.backup.restore.restore_backup`) puts one backup into
an empty installation and verifies every digest and the ledger root. BC-3-9 restores a sample of the latest
backup during a full audit (:func:`archive.backup.sample_check.backup_restore_fact`). What a backup is, as
values and pure decisions, is :mod:`archive.backup.layout`.
"""
