"""Ingest: from a staged, validated court package to an archived dossier bound into the ledger."""
