"""The archive's own key for signing DA/T 48-2009 EEPs (电子档案封装包) it writes, e.g. for a transfer.

The ledger's Ed25519 keys (:mod:`integrity.keys`) cannot sign an EEP: :mod:`integrity.eep_signatures`
accepts RSA-SHA256, ECDSA P-256/SHA-256 and SM2/SM3 with an X.509 certificate in 证书块. So the archive
keeps a separate ECDSA P-256 key and a self-signed X.509 v3 certificate whose CN is the unit's name
(封装包创建单位). For a key name ``N`` the directory holds:

* ``<stem>.eep.key`` — the private key, PKCS#8 PEM, unencrypted, mode 0600, written atomically;
* ``<stem>.eep.crt`` — the certificate, PEM (public; give it to the receiving archive as trust root).

``<stem>`` is :func:`integrity.keys.key_stem` of ``N``. As for the ledger keys, a private key file that
group or others can read or write is refused (:class:`~integrity.keys.InsecureKeyFile`). The key never
appears in a message, a log line or ``repr``.

The certificate is valid from ``now`` − 1 day (clock skew between machines) for 30 years: archival
records are kept for decades (保管期限 长期 60 years, 永久 forever), and a verifier checks the certificate at
the 签名时间 recorded in the EEP, so a long validity keeps old EEPs verifiable without re-signing. Key
rotation, revocation and a PKI-issued certificate are left to the deployment: pass another key name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrity.keys import PRIVATE_MODE, InsecureKeyFile, KeyFileMismatch, KeyFileMissingError, key_stem
from standards.errors import BadInput, StorageError

ALGORITHM = "ecdsa-with-SHA256"  # 签名算法标识 (integrity.eep_signatures accepts it, OID 1.2.840.10045.4.3.2)
CERTIFICATE_MODE = 0o644
VALIDITY_YEARS = 30
BACKDATE = dt.timedelta(days=1)


class MalformedEepKey(BadInput):
    """The key or certificate file is not a P-256 PKCS#8 PEM key / a PEM X.509 certificate."""

    code = "eep_key_malformed"


@dataclass(frozen=True)
class EepSigner:
    """The archive's EEP signing key: sign bytes, hand out the certificate.

    ``certificate_der`` is the self-signed X.509 v3 certificate (ECDSA P-256 / SHA-256, CN = the unit's
    name); ``algorithm`` is the 签名算法标识 to write beside a signature. The private key is held in a
    field that is left out of ``repr`` and comparisons.
    """

    name: str
    certificate_der: bytes
    algorithm: str
    _private_key: ec.EllipticCurvePrivateKey = field(repr=False, compare=False)

    def sign(self, message: bytes) -> bytes:
        """A DER ECDSA-Sig-Value over ``message`` (SHA-256; RFC 6979 deterministic nonce)."""
        return self._private_key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))

    @property
    def certificate_pem(self) -> bytes:
        """The certificate in PEM form (what ``<stem>.eep.crt`` holds)."""
        return x509.load_der_x509_certificate(self.certificate_der).public_bytes(serialization.Encoding.PEM)

    @property
    def public_key_der(self) -> bytes:
        """The SubjectPublicKeyInfo DER of the key."""
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def eep_key_paths(keys_dir: Path, name: str) -> tuple[Path, Path]:
    """``(<dir>/<stem>.eep.key, <dir>/<stem>.eep.crt)`` for key ``name``."""
    stem = key_stem(name)
    return keys_dir / f"{stem}.eep.key", keys_dir / f"{stem}.eep.crt"


def self_signed_certificate(key: ec.EllipticCurvePrivateKey, *, unit: str, now: dt.datetime) -> bytes:
    """A self-signed X.509 v3 certificate (DER) for ``key`` with CN ``unit``, valid now − 1 day + 30 years.

    Raises:
        ValueError: ``now`` is naive or ``unit`` is empty.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not unit.strip():
        raise ValueError("unit must be a non-empty name")
    not_before = (now - BACKDATE).astimezone(dt.UTC).replace(microsecond=0)
    try:
        not_after = not_before.replace(year=not_before.year + VALIDITY_YEARS)
    except ValueError:  # 29 February
        not_after = not_before.replace(year=not_before.year + VALIDITY_YEARS, day=28)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, unit)])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: the archive vouches for the package
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


# ---------------------------------------------------------------- files
def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to a temporary sibling (``mode``, fsync) and link it to ``path``; never overwrite.

    Raises:
        FileExistsError: ``path`` appeared meanwhile (another process created it).
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # atomic and, unlike rename, refuses to replace an existing file
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyFileMissingError(f"{what} file {path} does not exist", path=str(path)) from None
    except OSError as exc:
        raise StorageError(f"{what} file {path} cannot be read: {exc.strerror}", path=str(path)) from None


def _load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if os.name == "posix":
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            raise KeyFileMissingError(f"EEP key file {path} does not exist", path=str(path)) from None
        if mode & 0o077:
            raise InsecureKeyFile(
                f"EEP private key file mode: expected 0600 (no group/other access), found {mode:04o}",
                path=str(path),
            )
    data = _read(path, "EEP key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # never echo the file: it is (or was meant to be) a private key
        raise MalformedEepKey(
            f"EEP key file: expected an unencrypted PKCS#8 PEM private key, found {len(data)} unusable bytes",
            path=str(path),
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise MalformedEepKey(
            f"EEP key file: expected an ECDSA P-256 key, found {type(key).__name__}", path=str(path)
        )
    return key


def _load_certificate(path: Path) -> x509.Certificate:
    data = _read(path, "EEP certificate")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise MalformedEepKey(
            f"EEP certificate file: expected a PEM X.509 certificate, found {len(data)} unusable bytes",
            path=str(path),
        ) from None


def _public_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _signer(name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, cert_path: Path) -> EepSigner:
    cert_key = cert.public_key()
    if not isinstance(cert_key, ec.EllipticCurvePublicKey) or not hmac.compare_digest(
        _public_der(cert_key), _public_der(key.public_key())
    ):
        raise KeyFileMismatch(
            "EEP certificate: expected the public key of the EEP key file, found another key",
            path=str(cert_path),
        )
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        raise KeyFileMismatch(
            "EEP certificate: expected a self-signed certificate signed by the EEP key, found another issuer "
            "or a broken signature",
            path=str(cert_path),
        ) from None
    return EepSigner(
        name=name,
        certificate_der=cert.public_bytes(serialization.Encoding.DER),
        algorithm=ALGORITHM,
        _private_key=key,
    )


def load_eep_signer(keys_dir: Path, name: str) -> EepSigner:
    """Load the EEP key ``name`` and its certificate.

    Raises:
        KeyFileMissingError: ``<stem>.eep.key`` or ``<stem>.eep.crt`` does not exist.
        InsecureKeyFile: (POSIX) the key file's mode allows group or other access.
        MalformedEepKey: the key is not an unencrypted P-256 PEM key, or the certificate not PEM X.509.
        KeyFileMismatch: the certificate is not for this key, or not self-signed by it.
        StorageError: a file cannot be read.
    """
    key_path, cert_path = eep_key_paths(keys_dir, name)
    key = _load_private_key(key_path)
    return _signer(name, key, _load_certificate(cert_path), cert_path)


def ensure_eep_signer(keys_dir: Path, name: str, *, unit: str, now: dt.datetime) -> EepSigner:
    """Load the EEP key ``name``, creating the key and its certificate (CN ``unit``) if absent.

    A key file without a certificate (a crash between the two writes) gets a new certificate for that
    key. An existing certificate must name ``unit`` as CN: a package's 封装包创建单位 and its signer's
    certificate would disagree otherwise (use a new key name when the unit's name changes).

    Raises:
        ValueError: ``now`` is naive or ``unit`` is empty.
        InsecureKeyFile, MalformedEepKey, KeyFileMismatch, StorageError: see :func:`load_eep_signer`;
            KeyFileMismatch also when the certificate's CN is not ``unit``.
        OSError: the directory or a file cannot be created.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not unit.strip():
        raise ValueError("unit must be a non-empty name")
    keys_dir.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = eep_key_paths(keys_dir, name)
    if not key_path.exists():
        new_key = ec.generate_private_key(ec.SECP256R1())
        pem = new_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            _write_atomically(key_path, pem, PRIVATE_MODE)
        except FileExistsError:
            pass  # another process won the race: use its key (and its certificate)
        else:
            cert_path.unlink(missing_ok=True)  # a leftover certificate is for no key we hold
    key = _load_private_key(key_path)
    if not cert_path.exists():
        der = self_signed_certificate(key, unit=unit, now=now)
        pem_cert = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        with contextlib.suppress(FileExistsError):  # another process wrote it meanwhile: load that one
            _write_atomically(cert_path, pem_cert, CERTIFICATE_MODE)
    signer = _signer(name, key, _load_certificate(cert_path), cert_path)
    found = _common_name(x509.load_der_x509_certificate(signer.certificate_der))
    if found != unit:
        raise KeyFileMismatch(f"EEP certificate CN: expected {unit!r}, found {found!r}", path=str(cert_path))
    return signer


__all__ = [
    "ALGORITHM",
    "EepSigner",
    "MalformedEepKey",
    "eep_key_paths",
    "ensure_eep_signer",
    "load_eep_signer",
    "self_signed_certificate",
]
