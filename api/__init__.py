"""Interfaces of edossier: the command-line interface (and, later, the HTTP API and dashboard)."""
