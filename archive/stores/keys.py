"""Object keys: the rules every key must follow and the builders for the archive's key layout.

Layout (DESIGN.md "Object keys"): content blobs are content-addressed under
``blobs/sha256/<2 hex>/<2 hex>/<64 hex>``; an archival information package (AIP) version lives under
``aips/<archive id>/v<version>/`` with ``manifest.json`` and the original metadata files beside it.
This module is pure: it builds and checks strings and leaves storing to the backends.
"""

from __future__ import annotations

import re

from archive.stores.errors import InvalidKey

MAX_KEY_BYTES = 1024  # S3's limit on a key's UTF-8 length
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a valid object key.

    A key is ``/``-separated segments of printable UTF-8, at most 1024 bytes, with no leading ``/``, no
    empty, ``.`` or ``..`` segment, no backslash, and a first segment that does not start with ``.``
    (names starting with a dot at the top are reserved for store internals such as the fs ``.tmp/``).

    >>> validate_key("blobs/sha256/ab/cd/x")
    'blobs/sha256/ab/cd/x'

    Raises:
        InvalidKey: the key breaks one of the rules (the message names which).
    """
    if not isinstance(key, str):
        raise TypeError(f"object key must be str, found {type(key).__name__}")
    if not key:
        raise InvalidKey("object key: expected a non-empty key, found ''")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey(f"object key {key!r}: expected valid UTF-8, found an unencodable char") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKey(f"object key: expected at most {MAX_KEY_BYTES} UTF-8 bytes, found {len(encoded)}")
    if not key.isprintable():
        raise InvalidKey(f"object key {key!r}: expected printable characters only, found a control character")
    if "\\" in key:
        raise InvalidKey(f"object key {key!r}: expected no backslash, found one")
    if key.startswith("/"):
        raise InvalidKey(f"object key {key!r}: expected a relative key, found a leading '/'")
    segments = key.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidKey(f"object key {key!r}: expected no empty, '.' or '..' segment, found {segment!r}")
    if segments[0].startswith("."):
        raise InvalidKey(f"object key {key!r}: first segment must not start with '.', found {segments[0]!r}")
    return key


def blob_key(sha256_hex: str) -> str:
    """Content-addressed key of a blob: ``blobs/sha256/<2 hex>/<2 hex>/<64 hex>``.

    >>> blob_key("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    'blobs/sha256/e3/b0/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

    Raises:
        InvalidKey: ``sha256_hex`` is not 64 lowercase hex digits.
    """
    if not isinstance(sha256_hex, str) or not _SHA256_HEX.fullmatch(sha256_hex):
        raise InvalidKey(f"blob key: expected 64 lowercase hex digits of SHA-256, found {sha256_hex!r}")
    return f"blobs/sha256/{sha256_hex[:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def _aip_prefix(archive_id: str, version: int) -> str:
    if not isinstance(archive_id, str) or not archive_id or "/" in archive_id:
        raise InvalidKey(f"AIP key: expected an archive id without '/', found {archive_id!r}")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidKey(f"AIP key: expected a version >= 1, found {version!r}")
    prefix = f"aips/{archive_id}/v{version}/"
    validate_key(prefix + "x")  # checks the archive id segment (printable, not '.'/'..', length)
    return prefix


def manifest_key(archive_id: str, version: int) -> str:
    """Key of an AIP version's manifest: ``aips/<archive id>/v<version>/manifest.json``.

    Raises:
        InvalidKey: the archive id is empty, contains ``/`` or breaks the key rules, or version < 1.
    """
    return validate_key(_aip_prefix(archive_id, version) + "manifest.json")


def aip_file_key(archive_id: str, version: int, name: str) -> str:
    """Key of a file stored beside the manifest (original metadata): ``aips/<archive id>/v<version>/<name>``.

    ``name`` may contain ``/`` (e.g. ``元数据/0001.xml``); each segment must follow the key rules.

    Raises:
        InvalidKey: the archive id, version or name breaks the key rules.
    """
    return validate_key(_aip_prefix(archive_id, version) + name)
