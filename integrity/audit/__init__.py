"""Periodic integrity audits: policy, fixity, ledger checks and the audit runner."""
