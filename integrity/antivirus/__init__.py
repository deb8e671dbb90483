"""Virus scanning for DA/T 70 items x-4-1 (杀毒软件) and x-4-2 (病毒感染检测) through a real clamd.

:mod:`integrity.antivirus.clamd` is a plain-socket client of the ClamAV daemon; the checks that turn
its answers into detection results live in :mod:`integrity.checks.antivirus`.
"""

from integrity.antivirus.clamd import (
    ClamdAddress,
    ClamdClient,
    ScannerError,
    ScannerUnavailable,
    ScannerVersion,
    ScanResult,
    parse_address,
    parse_scan_reply,
    parse_version,
)

__all__ = [
    "ClamdAddress",
    "ClamdClient",
    "ScanResult",
    "ScannerError",
    "ScannerUnavailable",
    "ScannerVersion",
    "parse_address",
    "parse_scan_reply",
    "parse_version",
]
