"""Ledger signing keys on disk: generate, write and load Ed25519 signed-note keys.

For a key name ``N`` the directory holds ``<stem>.key`` (the signer key string, mode 0600) and
``<stem>.pub`` (the verifier key string, safe to publish), where ``<stem>`` is ``N`` with every
character outside ``[A-Za-z0-9._-]`` replaced by ``_`` (names such as ``court.example/ledger``
contain ``/``). The files hold exactly the C2SP signed-note key strings plus a newline, so the Go
``note`` tooling can read them.

Policy on permissions (POSIX only): a private key file that group or others can read or write is
refused with :class:`InsecureKeyFile` rather than used — a leaked ledger key lets anyone forge
checkpoints. Key rotation (and its ``key.rotated`` ledger event) is left to the ledger service.
"""

from __future__ import annotations

import hmac
import os
import re
import stat
from pathlib import Path

from integrity.signed_note import Ed25519Signer, Ed25519Verifier
from standards.errors import BadInput, StorageError

PRIVATE_MODE = 0o600


class KeyFileMissingError(StorageError):
    """The key file does not exist."""

    code = "key_not_found"


class InsecureKeyFile(BadInput):
    """A private key file is readable or writable by group or others."""

    code = "key_file_insecure"


class KeyFileMismatch(BadInput):
    """A key file holds a key for another name, or the .pub does not match the .key."""

    code = "key_file_mismatch"


def key_stem(name: str) -> str:
    """The file name stem for key ``name`` (unsafe characters replaced by ``_``)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return "_" + stem if stem.startswith(".") else stem


def key_paths(directory: Path, name: str) -> tuple[Path, Path]:
    """``(<dir>/<stem>.key, <dir>/<stem>.pub)`` for key ``name``."""
    stem = key_stem(name)
    return directory / f"{stem}.key", directory / f"{stem}.pub"


def _write_new(path: Path, text: str, mode: int) -> None:
    """Create ``path`` with ``mode`` (never overwriting), write ``text`` and make it durable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, mode)  # the umask may have narrowed or (for .pub) we want it exactly


def write_key_pair(directory: Path, name: str, private: str, public: str) -> tuple[Path, Path]:
    """Write a new ``.key`` (0600) and ``.pub`` (0644) pair for key ``name`` (any algorithm).

    Raises:
        FileExistsError: either file already exists (keys are never overwritten).
    """
    directory.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = key_paths(directory, name)
    if pub_path.exists():
        raise FileExistsError(f"public key file {pub_path} already exists")
    _write_new(key_path, private, PRIVATE_MODE)
    _write_new(pub_path, public, 0o644)
    return key_path, pub_path


def read_private_key_file(directory: Path, name: str) -> tuple[str, Path]:
    """The private key string of ``name`` and its path, refusing a file others can read.

    Raises:
        KeyFileMissingError: there is no ``.key`` file.
        InsecureKeyFile: (POSIX) the file's mode allows group or other access.
        StorageError: the file cannot be read.
    """
    key_path, _ = key_paths(directory, name)
    text = _read_key_file(key_path)
    if os.name == "posix":
        mode = stat.S_IMODE(key_path.stat().st_mode)
        if mode & 0o077:
            raise InsecureKeyFile(
                f"private key file mode: expected 0600 (no group/other access), found {mode:04o}",
                path=str(key_path),
            )
    return text, key_path


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise KeyFileMissingError(f"key file {path} does not exist", path=str(path)) from None
    except OSError as exc:
        raise StorageError(f"key file {path} cannot be read: {exc.strerror}", path=str(path)) from None


def write_key(directory: Path, signer: Ed25519Signer) -> tuple[Path, Path]:
    """Write ``signer`` as a new ``.key`` (0600) and ``.pub`` (0644) pair under ``directory``.

    Raises:
        FileExistsError: either file already exists (keys are never overwritten).
    """
    return write_key_pair(directory, signer.name, signer.to_key_string(), signer.verifier().to_key_string())


def load_signer(directory: Path, name: str) -> Ed25519Signer:
    """Load the private key for ``name``.

    Raises:
        KeyFileMissingError: there is no ``.key`` file.
        InsecureKeyFile: (POSIX) the file's mode allows group or other access.
        KeyFileMismatch: the file holds a key for a different name.
        MalformedKey, UnsupportedKeyAlgorithm, KeyIdMismatch: the key string is invalid.
        StorageError: the file cannot be read.
    """
    text, key_path = read_private_key_file(directory, name)
    signer = Ed25519Signer.from_key_string(text)
    if signer.name != name:
        raise KeyFileMismatch(f"key name: expected {name!r}, found {signer.name!r}", path=str(key_path))
    return signer


def load_verifier(directory: Path, name: str) -> Ed25519Verifier:
    """Load the public key for ``name``.

    Raises:
        KeyFileMissingError: there is no ``.pub`` file.
        KeyFileMismatch: the file holds a key for a different name.
        MalformedKey, UnsupportedKeyAlgorithm, KeyIdMismatch: the key string is invalid.
        StorageError: the file cannot be read.
    """
    _, pub_path = key_paths(directory, name)
    verifier = Ed25519Verifier.from_key_string(_read_key_file(pub_path))
    if verifier.name != name:
        raise KeyFileMismatch(f"key name: expected {name!r}, found {verifier.name!r}", path=str(pub_path))
    return verifier


def ensure_key(directory: Path, name: str) -> Ed25519Signer:
    """Load the key for ``name``, generating and writing a new pair if there is no ``.key`` file.

    A missing ``.pub`` beside an existing ``.key`` is rewritten from the private key. A ``.pub``
    without its ``.key`` (a data directory restored from a backup, which holds public parts only) is
    refused: generating a new key there would silently fork the archive's signing identity.

    Raises:
        KeyFileMissingError: the ``.pub`` exists but the ``.key`` does not.
        ValueError: ``name`` is not a valid signed-note key name.
        InsecureKeyFile, KeyFileMismatch, MalformedKey, KeyIdMismatch: see :func:`load_signer`;
            KeyFileMismatch also when the ``.pub`` does not match the ``.key``.
        StorageError: a file cannot be read.
    """
    key_path, pub_path = key_paths(directory, name)
    if not key_path.exists() and pub_path.exists():
        raise KeyFileMissingError(
            f"private key {key_path.name} is missing but its public key {pub_path.name} exists "
            "(a restored data directory?): put the private key file back from the offline key backup "
            "(docs/operations.md, Keys) instead of generating a new one",
            path=str(key_path),
        )
    if not key_path.exists():
        signer = Ed25519Signer.generate(name)
        write_key(directory, signer)
        return signer
    signer = load_signer(directory, name)
    if not pub_path.exists():
        _write_new(pub_path, signer.verifier().to_key_string(), 0o644)
        return signer
    verifier = load_verifier(directory, name)
    if not hmac.compare_digest(verifier.public_key, signer.verifier().public_key):
        raise KeyFileMismatch(
            f"public key: expected {signer.verifier().to_key_string()}, found {verifier.to_key_string()}",
            path=str(pub_path),
        )
    return signer
