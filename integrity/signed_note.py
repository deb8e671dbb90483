"""C2SP signed notes (https://c2sp.org/signed-note, as golang.org/x/mod/sumdb/note) with Ed25519.

A note is UTF-8 text ending in ``"\\n"``, a blank line, then one or more signature lines
``"— <key name> <base64(key id || signature)>\\n"`` (U+2014 EM DASH). The key id is the first four
bytes of ``SHA-256(name || "\\n" || 0x01 || public key)``; keys travel as strings:

* verifier key: ``<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>``
* signer key:   ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>``

Signing and opening work with any key that follows the :class:`NoteSigner` / :class:`NoteVerifier`
protocols, so other signature types (SM2, :mod:`integrity.sm2`) sign the same notes.
This module signs and opens notes; what the text means (a checkpoint) is :mod:`integrity.checkpoint`'s
business, and where keys are kept is :mod:`integrity.keys`'s.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from standards.errors import BadInput, VerificationFailed

ALG_ED25519 = 0x01  # signed-note: signature type 0x01 = Ed25519
SIG_PREFIX = "— "  # U+2014 EM DASH, U+0020 SPACE
MAX_SIGNATURES = 100  # as the Go implementation: stop parsing hostile notes early


# ---------------------------------------------------------------- errors
class MalformedKey(BadInput):
    """A signer or verifier key string does not follow the signed-note key encoding."""

    code = "note_malformed_key"


class UnsupportedKeyAlgorithm(BadInput):
    """A key string names a signature type other than Ed25519 (0x01)."""

    code = "note_unsupported_key_algorithm"


class KeyIdMismatch(BadInput):
    """The key id written in a key string is not the hash of its name and public key."""

    code = "note_key_id_mismatch"


class MalformedNote(BadInput):
    """The note text or its signature block is not a well-formed signed note."""

    code = "note_malformed"


class NoVerifiedSignature(VerificationFailed):
    """No signature on the note was made by a trusted key."""

    code = "note_no_verified_signature"


class UnknownKey(NoVerifiedSignature):
    """Every signature on the note is by a key the verifier does not know."""

    code = "note_unknown_key"


class BadSignature(VerificationFailed):
    """A signature by a known key does not verify over the note text."""

    code = "note_bad_signature"


# ---------------------------------------------------------------- key protocols
class NoteVerifier(Protocol):
    """A named public key that checks note signatures (signed-note: name + key id pick the key)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...

    def to_key_string(self) -> str: ...


class NoteSigner(Protocol):
    """A named private key that signs note texts."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...

    def verifier(self) -> NoteVerifier: ...


# ---------------------------------------------------------------- keys
def is_valid_name(name: str) -> bool:
    """signed-note key name rule: non-empty, no Unicode whitespace, no ``+``."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name) and _is_utf8(name)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id: ``SHA-256(name || "\\n" || 0x01 || public_key)[:4]``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedKey(f"{what}: expected standard base64, found {text[:60]!r}") from None


def _split_key(name: str, hex_id: str, b64: str, what: str) -> tuple[str, bytes, bytes]:
    """Check the common ``name+hexid+base64`` parts; return (name, key id, raw 32-byte key)."""
    if not is_valid_name(name):
        raise MalformedKey(f"{what}: invalid key name {name[:60]!r} (non-empty, no spaces, no '+')")
    if len(hex_id) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hex_id):
        raise MalformedKey(f"{what}: key id must be 8 hex digits, found {hex_id[:20]!r}")
    raw = _b64decode(b64, what)
    if not raw:
        raise MalformedKey(f"{what}: empty key material")
    if raw[0] != ALG_ED25519:
        raise UnsupportedKeyAlgorithm(f"{what}: key type expected 0x01 (Ed25519), found 0x{raw[0]:02x}")
    if len(raw) != 33:
        raise MalformedKey(f"{what}: Ed25519 key must be 32 bytes, found {len(raw) - 1}")
    return name, bytes.fromhex(hex_id), raw[1:]


@dataclass(frozen=True)
class Ed25519Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise ValueError(f"invalid key name {self.name!r} (non-empty, no spaces, no '+')")
        if len(self.public_key) != 32:
            raise ValueError(f"Ed25519 public key must be 32 bytes (found {len(self.public_key)})")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))

    @classmethod
    def from_key_string(cls, vkey: str) -> Ed25519Verifier:
        """Parse ``<name>+<hex id>+<base64(0x01 || key)>``.

        Raises:
            MalformedKey: the string is not in that form.
            UnsupportedKeyAlgorithm: the key type is not Ed25519.
            KeyIdMismatch: the key id does not match the name and key.
        """
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise MalformedKey("verifier key: expected '<name>+<hex id>+<base64 key>'")
        name, kid, pub = _split_key(parts[0], parts[1], parts[2], "verifier key")
        v = cls(name, pub)
        if not hmac.compare_digest(v.key_id, kid):
            raise KeyIdMismatch(f"verifier key {name}: key id expected {v.key_id.hex()}, found {kid.hex()}")
        return v

    def to_key_string(self) -> str:
        """The verifier key string (safe to publish)."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Ed25519Signer:
    """A named Ed25519 private key that signs notes. Its ``repr`` never shows the key."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_name(name):
            raise ValueError(f"invalid key name {name!r} (non-empty, no spaces, no '+')")
        if len(seed) != 32:
            raise ValueError(f"Ed25519 seed must be 32 bytes (found {len(seed)})")
        self.name = name
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(self._seed)
        pub = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._verifier = Ed25519Verifier(name, pub)

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        """A fresh random key for ``name``.

        Raises:
            ValueError: ``name`` is not a valid key name.
        """
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def from_key_string(cls, skey: str) -> Ed25519Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``.

        Raises:
            MalformedKey: the string is not in that form.
            UnsupportedKeyAlgorithm: the key type is not Ed25519.
            KeyIdMismatch: the key id does not match the name and derived public key.
        """
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise MalformedKey("signer key: expected 'PRIVATE+KEY+<name>+<hex id>+<base64 key>'")
        name, kid, seed = _split_key(parts[2], parts[3], parts[4], "signer key")
        s = cls(name, seed)
        if not hmac.compare_digest(s.key_id, kid):
            raise KeyIdMismatch(f"signer key {name}: key id expected {s.key_id.hex()}, found {kid.hex()}")
        return s

    @property
    def key_id(self) -> bytes:
        return self._verifier.key_id

    def verifier(self) -> Ed25519Verifier:
        """The matching public verifier."""
        return self._verifier

    def to_key_string(self) -> str:
        """The signer key string — a secret."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self._seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64}"

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Ed25519Signer(name={self.name!r}, key_id={self.key_id.hex()!r})"


# ---------------------------------------------------------------- notes
class OpenedNote(NamedTuple):
    """The text of a note and the names of the keys whose signatures verified."""

    text: str
    verified: tuple[str, ...]


def _check_text(text: str, what: str) -> None:
    """UTF-8, no ASCII control characters other than newline (signed-note)."""
    if not _is_utf8(text):
        raise MalformedNote(f"{what}: not valid UTF-8")
    for i, c in enumerate(text):
        if c < " " and c != "\n":
            raise MalformedNote(f"{what}: control character U+{ord(c):04X} at offset {i}")


def sign_note(text: str, *signers: NoteSigner) -> str:
    """Sign ``text`` with each signer and return the note.

    >>> s = Ed25519Signer("example.com/log", bytes(32))
    >>> open_note(sign_note("hello\\n", s), [s.verifier()]).verified
    ('example.com/log',)

    Raises:
        ValueError: no signer given.
        MalformedNote: ``text`` does not end with a newline or holds control characters.
    """
    if not signers:
        raise ValueError("sign_note needs at least one signer")
    if not text.endswith("\n"):
        raise MalformedNote("note text: must end with a newline")
    _check_text(text, "note text")
    message = text.encode("utf-8")
    lines = []
    for s in signers:
        blob = base64.b64encode(s.key_id + s.sign(message)).decode("ascii")
        lines.append(f"{SIG_PREFIX}{s.name} {blob}\n")
    return text + "\n" + "".join(lines)


def open_note(note: str, verifiers: Iterable[NoteVerifier]) -> OpenedNote:
    """Parse ``note`` and check its signatures against the trusted ``verifiers``.

    Signatures by unknown keys are ignored as long as one trusted signature verifies; a bad
    signature by a trusted key fails the whole note (as golang.org/x/mod/sumdb/note ``Open``).

    Raises:
        ValueError: two verifiers share a name and key id (a caller bug).
        MalformedNote: the note is not a well-formed signed note.
        BadSignature: a trusted key's signature does not verify.
        UnknownKey: no signature is by a trusted key.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known:
            raise ValueError(f"ambiguous verifier list: key {v.name}+{v.key_id.hex()} given twice")
        known[(v.name, v.key_id)] = v
    _check_text(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("note: no blank line before the signature block")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNote("note: signature block missing or not newline-terminated")
    message = text.encode("utf-8")
    verified: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    unknown: list[str] = []
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"note: more than {MAX_SIGNATURES} signature lines (found {len(lines)})")
    for n, line in enumerate(lines, 1):
        if not line.startswith(SIG_PREFIX):
            raise MalformedNote(f"note: signature line {n} does not start with '— '")
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(b64.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise MalformedNote(f"note: signature line {n}: signature is not standard base64") from None
        if not is_valid_name(name) or not b64 or len(raw) < 5:
            raise MalformedNote(
                f"note: signature line {n}: expected '— <name> <base64>', found {line[:80]!r}"
            )
        kid, sig = raw[:4], raw[4:]
        verifier = known.get((name, kid))
        if verifier is None:
            unknown.append(f"{name}+{kid.hex()}")
            continue
        if (name, kid) in seen:
            continue
        seen.add((name, kid))
        if not verifier.verify(message, sig):
            raise BadSignature(f"note: signature by key {name}+{kid.hex()} does not verify over the text")
        verified.append(name)
    if not verified:
        trusted = ", ".join(f"{n}+{k.hex()}" for n, k in known) or "none"
        raise UnknownKey(
            f"note: no signature by a trusted key; signed by {', '.join(unknown)}; trusted: {trusted}"
        )
    return OpenedNote(text, tuple(verified))
