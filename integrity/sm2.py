"""SM2 (GB/T 32918) signatures for C2SP signed notes, a second checkpoint signer beside Ed25519.

Deployments bound to national cryptography sign each checkpoint with SM2 as well as Ed25519; the
note carries both signature lines and a verifier may trust either key (signed-note §Signatures).

Algorithm: SM2 digital signature (GB/T 32918.2-2016) on the recommended 256-bit curve
(GB/T 32918.5-2017), message digest SM3 (GB/T 32905) over ``Z_A || M`` where ``Z_A`` is computed
with the default user id ``"1234567812345678"`` (ENTL = 0x0080) as GM/T 0009-2012 §10 prescribes
when no other id is agreed. The arithmetic is the ``gmssl`` package's; this module adds what it
leaves out: a cryptographic nonce (``secrets``, never gmssl's ``random.choice``), key generation,
public key validation (the point is on the curve), range checks of ``r`` and ``s`` (GB/T 32918.2
§7.1 B1–B2) and strict DER.

Encodings (our choices, fixed here and in docs/ledger.md):

* signature type: signed-note assigns no byte to SM2, so we use ``0xff`` ("signature types without
  an identifier byte assigned by this specification") followed, as the spec recommends, by a longer
  identifier: the DER encoding of the OID of SM2-with-SM3, 1.2.156.10197.1.501 (GM/T 0006), i.e.
  ``ff 06 08 2a 81 1c cf 55 01 83 75`` (:data:`SIG_TYPE_SM2`). The DER length byte makes it
  self-delimiting.
* public key: the 65-byte uncompressed point ``0x04 || X || Y`` (GB/T 32918.1 §4.2.9).
* key id: ``SHA-256(name || 0x0A || SIG_TYPE_SM2 || public key)[:4]`` (signed-note recommendation).
* key strings: ``<name>+<hex id>+<base64(SIG_TYPE_SM2 || public key)>`` and
  ``PRIVATE+KEY+<name>+<hex id>+<base64(SIG_TYPE_SM2 || 32-byte private scalar d)>``.
* signature bytes after the key id: DER ``SEQUENCE { r INTEGER, s INTEGER }`` (GM/T 0009-2012
  SM2Signature), so ``openssl pkeyutl -verify -digest sm3`` accepts them as they are.

SM2 signatures are randomised: signing the same note twice gives different, equally valid lines.
Key files are kept like the Ed25519 ones (``<stem>.key`` mode 0600, ``<stem>.pub``); the key name
must differ from the Ed25519 key's so the files do not collide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto.algos import DSASignature
from gmssl.sm2 import CryptSM2

from integrity.keys import KeyFileMismatch, key_paths, read_private_key_file, write_key_pair
from integrity.signed_note import (
    ALG_ED25519,
    Ed25519Verifier,
    KeyIdMismatch,
    MalformedKey,
    NoteVerifier,
    UnsupportedKeyAlgorithm,
    is_valid_name,
)

# signed-note §Signature types: 0xff + a longer identifier = DER(OID 1.2.156.10197.1.501, SM2-with-SM3).
SIG_TYPE_SM2 = bytes.fromhex("ff06082a811ccf55018375")
DEFAULT_USER_ID = b"1234567812345678"  # GM/T 0009-2012 §10 default distinguishing identifier

# GB/T 32918.5-2017 recommended curve parameters.
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
PUBLIC_KEY_SIZE = 65
PRIVATE_KEY_SIZE = 32


def sm2_key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || SIG_TYPE_SM2 || public key)[:4]`` (signed-note key id rule)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + SIG_TYPE_SM2 + public_key).digest()[:4]


def is_on_curve(public_key: bytes) -> bool:
    """Whether ``public_key`` is ``0x04 || X || Y`` with (X, Y) a point of the SM2 curve."""
    if len(public_key) != PUBLIC_KEY_SIZE or public_key[0] != 0x04:
        return False
    x = int.from_bytes(public_key[1:33], "big")
    y = int.from_bytes(public_key[33:], "big")
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def _engine(private_scalar: int | None, public_key: bytes) -> CryptSM2:
    """A gmssl engine; the public key is set after construction (its constructor ``lstrip``s "04")."""
    engine = CryptSM2(private_key=f"{private_scalar:064x}" if private_scalar else "", public_key="")
    engine.public_key = public_key[1:].hex()
    return engine


def _split_key(text: str, parts_expected: int, what: str) -> tuple[str, bytes, bytes]:
    """Parse ``[PRIVATE+KEY+]<name>+<hex id>+<base64(type || key)>``; return (name, id, key)."""
    parts = text.split("+", parts_expected - 1)
    if len(parts) != parts_expected or (parts_expected == 5 and parts[:2] != ["PRIVATE", "KEY"]):
        form = (
            "PRIVATE+KEY+<name>+<hex id>+<base64 key>" if parts_expected == 5 else "<name>+<hex id>+<base64>"
        )
        raise MalformedKey(f"{what}: expected '{form}'")
    name, hex_id, b64 = parts[-3:]
    if not is_valid_name(name):
        raise MalformedKey(f"{what}: invalid key name {name[:60]!r} (non-empty, no spaces, no '+')")
    if len(hex_id) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hex_id):
        raise MalformedKey(f"{what}: key id must be 8 hex digits, found {hex_id[:20]!r}")
    try:
        raw = base64.b64decode(b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedKey(f"{what}: expected standard base64, found {b64[:60]!r}") from None
    if not raw.startswith(SIG_TYPE_SM2):
        raise UnsupportedKeyAlgorithm(
            f"{what}: key type expected {SIG_TYPE_SM2.hex()} (SM2), found {raw[: len(SIG_TYPE_SM2)].hex()}"
        )
    return name, bytes.fromhex(hex_id), raw[len(SIG_TYPE_SM2) :]


# ---------------------------------------------------------------- verifier
@dataclass(frozen=True)
class Sm2Verifier:
    """A named SM2 public key that checks note signatures.

    Raises:
        ValueError: (on construction) invalid name, or the key is not a point on the curve.
    """

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise ValueError(f"invalid key name {self.name!r} (non-empty, no spaces, no '+')")
        if not is_on_curve(self.public_key):
            raise ValueError("SM2 public key must be 0x04 || X || Y, a point on the SM2 curve")
        object.__setattr__(self, "key_id", sm2_key_id(self.name, self.public_key))

    @classmethod
    def from_key_string(cls, vkey: str) -> Sm2Verifier:
        """Parse ``<name>+<hex id>+<base64(SIG_TYPE_SM2 || 0x04 || X || Y)>``.

        Raises:
            MalformedKey: not in that form, or the key is not a point on the SM2 curve.
            UnsupportedKeyAlgorithm: the key type is not SM2.
            KeyIdMismatch: the key id does not match the name and key.
        """
        name, kid, pub = _split_key(vkey, 3, "SM2 verifier key")
        if not is_on_curve(pub):
            raise MalformedKey(f"SM2 verifier key {name}: not an uncompressed point on the SM2 curve")
        v = cls(name, pub)
        if not hmac.compare_digest(v.key_id, kid):
            raise KeyIdMismatch(
                f"SM2 verifier key {name}: key id expected {v.key_id.hex()}, found {kid.hex()}"
            )
        return v

    def to_key_string(self) -> str:
        """The verifier key string (safe to publish)."""
        b64 = base64.b64encode(SIG_TYPE_SM2 + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (DER SM2Signature) is this key's SM2-with-SM3 signature of ``message``."""
        try:
            parsed = DSASignature.load(signature, strict=True)
            r, s = int(parsed["r"].native), int(parsed["s"].native)
            if parsed.dump(force=True) != signature:  # strict DER: one encoding per signature
                return False
        except (ValueError, TypeError, KeyError):
            return False
        if not (1 <= r < N and 1 <= s < N):  # GB/T 32918.2 §7.1 B1, B2
            return False
        try:
            return bool(_engine(None, self.public_key).verify_with_sm3(f"{r:064x}{s:064x}", message))
        except (TypeError, ValueError):  # gmssl fails on the point at infinity
            return False


# ---------------------------------------------------------------- signer
class Sm2Signer:
    """A named SM2 private key that signs notes. Its ``repr`` never shows the key."""

    def __init__(self, name: str, private_key: bytes) -> None:
        if not is_valid_name(name):
            raise ValueError(f"invalid key name {name!r} (non-empty, no spaces, no '+')")
        d = int.from_bytes(private_key, "big")
        if len(private_key) != PRIVATE_KEY_SIZE or not 1 <= d <= N - 2:  # GB/T 32918.1 §6.1
            raise ValueError("SM2 private key must be 32 bytes encoding d in [1, n-2]")
        self.name = name
        self._d = d
        engine = CryptSM2(private_key="", public_key="")
        point = engine._kg(d, engine.ecc_table["g"])  # Q = [d]G, GB/T 32918.1 §6.1
        self._verifier = Sm2Verifier(name, b"\x04" + bytes.fromhex(point))

    @classmethod
    def generate(cls, name: str) -> Sm2Signer:
        """A fresh random key for ``name`` (d uniform in [1, n-2]).

        Raises:
            ValueError: ``name`` is not a valid key name.
        """
        return cls(name, (secrets.randbelow(N - 2) + 1).to_bytes(PRIVATE_KEY_SIZE, "big"))

    @classmethod
    def from_key_string(cls, skey: str) -> Sm2Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(SIG_TYPE_SM2 || d)>``.

        Raises:
            MalformedKey: not in that form, or ``d`` out of range.
            UnsupportedKeyAlgorithm: the key type is not SM2.
            KeyIdMismatch: the key id does not match the name and derived public key.
        """
        name, kid, raw = _split_key(skey, 5, "SM2 signer key")
        try:
            s = cls(name, raw)
        except ValueError as exc:
            raise MalformedKey(f"SM2 signer key {name}: {exc}") from None
        if not hmac.compare_digest(s.key_id, kid):
            raise KeyIdMismatch(f"SM2 signer key {name}: key id expected {s.key_id.hex()}, found {kid.hex()}")
        return s

    @property
    def key_id(self) -> bytes:
        return self._verifier.key_id

    def verifier(self) -> Sm2Verifier:
        """The matching public verifier."""
        return self._verifier

    def to_key_string(self) -> str:
        """The signer key string — a secret."""
        b64 = base64.b64encode(SIG_TYPE_SM2 + self._d.to_bytes(PRIVATE_KEY_SIZE, "big")).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64}"

    def sign(self, message: bytes) -> bytes:
        """A DER SM2Signature of ``SM3(Z_A || message)`` with a fresh nonce from :mod:`secrets`."""
        engine = _engine(self._d, self._verifier.public_key)
        while True:
            k = secrets.randbelow(N - 1) + 1
            rs = engine.sign_with_sm3(message, f"{k:064x}")
            if rs is not None:  # gmssl returns None when r = 0, r + k = n or s = 0: draw again
                return bytes(DSASignature.from_p1363(bytes.fromhex(rs)).dump())

    def __repr__(self) -> str:
        return f"Sm2Signer(name={self.name!r}, key_id={self.key_id.hex()!r})"


# ---------------------------------------------------------------- any key string
def parse_verifier_key(vkey: str) -> NoteVerifier:
    """Parse a verifier key string of either supported type (Ed25519 0x01 or SM2 0xff+OID).

    Raises:
        MalformedKey: the string is not a signed-note verifier key.
        UnsupportedKeyAlgorithm: another signature type.
        KeyIdMismatch: the key id does not match the name and key.
    """
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise MalformedKey("verifier key: expected '<name>+<hex id>+<base64 key>'")
    try:
        first = base64.b64decode(parts[2][:4].encode("ascii"), validate=True)[:1]
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedKey(f"verifier key: expected standard base64, found {parts[2][:60]!r}") from None
    if first == bytes([ALG_ED25519]):
        return Ed25519Verifier.from_key_string(vkey)
    return Sm2Verifier.from_key_string(vkey)


# ---------------------------------------------------------------- key files
def write_sm2_key(directory: Path, signer: Sm2Signer) -> tuple[Path, Path]:
    """Write ``signer`` as a new ``.key`` (0600) and ``.pub`` (0644) pair under ``directory``.

    Raises:
        FileExistsError: either file already exists (keys are never overwritten).
    """
    return write_key_pair(directory, signer.name, signer.to_key_string(), signer.verifier().to_key_string())


def load_sm2_signer(directory: Path, name: str) -> Sm2Signer:
    """Load the SM2 private key for ``name``.

    Raises:
        KeyFileMissingError: there is no ``.key`` file.
        InsecureKeyFile: (POSIX) the file's mode allows group or other access.
        KeyFileMismatch: the file holds a key for a different name.
        MalformedKey, UnsupportedKeyAlgorithm, KeyIdMismatch: the key string is invalid.
        StorageError: the file cannot be read.
    """
    text, key_path = read_private_key_file(directory, name)
    signer = Sm2Signer.from_key_string(text)
    if signer.name != name:
        raise KeyFileMismatch(f"key name: expected {name!r}, found {signer.name!r}", path=str(key_path))
    return signer


def ensure_sm2_key(directory: Path, name: str) -> Sm2Signer:
    """Load the SM2 key for ``name``, generating and writing a new pair if there is none.

    Raises:
        ValueError: ``name`` is not a valid key name.
        FileExistsError: a ``.pub`` exists without its ``.key``.
        InsecureKeyFile, KeyFileMismatch, MalformedKey, UnsupportedKeyAlgorithm, KeyIdMismatch,
        StorageError: see :func:`load_sm2_signer`.
    """
    key_path, _ = key_paths(directory, name)
    if key_path.exists():
        return load_sm2_signer(directory, name)
    signer = Sm2Signer.generate(name)
    write_sm2_key(directory, signer)
    return signer
