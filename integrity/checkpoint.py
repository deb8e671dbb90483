"""C2SP tlog-checkpoint note bodies (https://c2sp.org/tlog-checkpoint): format and strict parse.

A checkpoint body is at least three non-empty lines, each ending in ``"\\n"``::

    <origin>
    <tree size, ASCII decimal, no leading zeros>
    <base64 (RFC 4648 §4) of the root hash>
    [<extension line>...]

This module only formats and parses that text; signing it is :mod:`integrity.signed_note`'s job and
deciding which checkpoint to trust (keys, consistency with earlier ones) belongs to the verifiers.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from standards.errors import BadInput

# Tree sizes are uint64 in the C2SP/Go tooling; we stay within int64 (the catalog's BigInteger).
MAX_TREE_SIZE = 2**63 - 1


class MalformedCheckpoint(BadInput):
    """The text is not a well-formed C2SP tlog-checkpoint body."""

    code = "checkpoint_malformed"


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint body: log origin, tree size, root hash and opaque extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def _check_line(line: str, what: str) -> None:
    if not line:
        raise MalformedCheckpoint(f"checkpoint {what}: empty line")
    for c in line:
        if c < " " or c == "\x7f":
            raise MalformedCheckpoint(f"checkpoint {what}: control character U+{ord(c):04X}")


def format_checkpoint(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...] | list[str] = ()
) -> str:
    """The checkpoint body for ``origin`` at ``size`` with root hash ``root``.

    >>> format_checkpoint("example.com/log", 1, bytes(32))
    'example.com/log\\n1\\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\\n'

    Raises:
        ValueError: the origin or an extension line is empty or holds a newline/control
            character, the size is out of range, or the root is empty.
    """
    try:
        _check_line(origin, "origin")
        for ext in extensions:
            _check_line(ext, "extension line")
    except MalformedCheckpoint as exc:
        raise ValueError(exc.message) from None
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError(f"checkpoint size must be in [0, {MAX_TREE_SIZE}] (found {size})")
    if not root:
        raise ValueError("checkpoint root hash must not be empty")
    lines = [origin, str(size), base64.b64encode(root).decode("ascii"), *extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str, *, hash_size: int = 32) -> Checkpoint:
    """Strictly parse a checkpoint body (the text of an opened signed note).

    Raises:
        MalformedCheckpoint: fewer than three lines, a missing final newline, an empty line, a
            size that is not canonical decimal, a root that is not canonical base64 of
            ``hash_size`` bytes.
    """
    if not text.endswith("\n"):
        raise MalformedCheckpoint("checkpoint: text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpoint(f"checkpoint: expected at least 3 lines, found {len(lines)}")
    origin, size_text, root_text, *extensions = lines
    _check_line(origin, "origin")
    for ext in extensions:
        _check_line(ext, "extension line")
    if not size_text.isascii() or not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise MalformedCheckpoint(
            f"checkpoint size: expected decimal without leading zeros, found {size_text[:30]!r}"
        )
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise MalformedCheckpoint(f"checkpoint size: at most {MAX_TREE_SIZE}, found {size_text[:30]}")
    try:
        root = base64.b64decode(root_text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedCheckpoint(
            f"checkpoint root: expected standard base64, found {root_text[:60]!r}"
        ) from None
    if len(root) != hash_size:
        raise MalformedCheckpoint(f"checkpoint root: expected {hash_size} bytes, found {len(root)}")
    if base64.b64encode(root).decode("ascii") != root_text:
        raise MalformedCheckpoint(f"checkpoint root: non-canonical base64 {root_text!r}")
    return Checkpoint(origin, size, root, tuple(extensions))
