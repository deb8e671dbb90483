"""Format identification by content and full parsing of content files (DA/T 70 x-3-3, x-3-4, x-3-8).

:func:`identify_file` says what a file is (magic bytes and structure, never the extension);
:func:`parse_file` opens and decodes it and returns a :class:`ParseResult`. Deciding what the
results mean for a detection item is left to :mod:`integrity.checks.formats`.
"""

from integrity.formats.identify import MIMES, Identified, identify_file, identify_head
from integrity.formats.parse import DEFAULT_MAX_IMAGE_PIXELS, parse_file
from integrity.formats.result import ParseResult

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "MIMES",
    "Identified",
    "ParseResult",
    "identify_file",
    "identify_head",
    "parse_file",
]
