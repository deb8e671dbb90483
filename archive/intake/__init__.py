"""Intake: open a submitted ZIP or folder without trusting it and stage a hashed copy.

``open_package(source, staging_root, limits=...)`` is the entry point; it returns a
:class:`standards.package.StagedPackage`. Every refusal is an :class:`IntakeError` subclass
(see :mod:`archive.intake.errors`). Validating what is *inside* the package is left to others.
"""

from __future__ import annotations

from archive.intake.errors import *  # noqa: F403 - the error classes are part of the public API
from archive.intake.errors import __all__ as _error_names
from archive.intake.opening import detect_kind, open_package

__all__ = ["detect_kind", "open_package", *_error_names]
