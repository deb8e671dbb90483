"""Generate the embedded-PDF-signature vectors of DA/T 70 x-1-1 (固化信息有效性检测).

Run from the repository root (it rewrites the files beside it)::

    .venv/bin/python tests/vectors/pdfsig/make_pdfsig.py

The output is byte-for-byte reproducible: keys are Ed25519 derived from fixed seeds (Ed25519
signatures are deterministic, RFC 8032), certificates have fixed serials and dates, the base PDF is
written by pikepdf with a static /ID, and while pyHanko signs we pin its two sources of variation —
``datetime.now()`` (signing time, /ModDate, xmp:ModifyDate) and ``os.urandom`` (the second /ID entry
of an incremental update) — to fixed values. Outputs, sorted by what a verifier must say:

* ``ca.pem``, ``signer.pem``, ``other-ca.pem`` — test CA, signer (issued by the CA), an unrelated CA;
* ``valid/signed.pdf`` — one approval signature by the signer, covering the entire file;
* ``valid/unsigned.pdf`` — no signature field (nothing to verify);
* ``invalid/signed-byte-flipped.pdf`` — ``signed.pdf`` with one byte changed inside the first
  signed /ByteRange (expected: not intact → fail);
* ``warning/signed-then-updated.pdf`` — ``signed.pdf`` with an incremental update appended after
  signing that changes the document /Info (expected: intact and valid, coverage only the signed
  revision → warn).

``expected.json`` records, per PDF, what :func:`integrity.pdf_signatures.verify_pdf_signatures`
must answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pikepdf
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

HERE = Path(__file__).resolve().parent
SIGNING_TIME = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2099, 12, 31, tzinfo=dt.UTC)
FIELD = "Signature1"


def _key(label: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edossier test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ca(cn: str, key: ed25519.Ed25519PrivateKey, serial: int) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, None)
    )


def _signer(
    ca: x509.Certificate, ca_key: ed25519.Ed25519PrivateKey, key: ed25519.Ed25519PrivateKey
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name("某某人民法院 测试签名人"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(0x1001)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # digitalSignature + contentCommitment (non-repudiation)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, None)
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def unsigned_pdf() -> bytes:
    """A one-page PDF with a line of text, no AcroForm (pikepdf, static /ID → reproducible)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    content = pdf.make_stream(b"BT /F1 18 Tf 72 720 Td (edossier test dossier page 1) Tj ET\n")
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=content,
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.docinfo[pikepdf.Name.Title] = "edossier test"
    out = io.BytesIO()
    pdf.save(out, static_id=True, object_stream_mode=pikepdf.ObjectStreamMode.disable, compress_streams=False)
    return out.getvalue()


@contextmanager
def _pinned() -> Iterator[None]:
    """Pin pyHanko's clock and /ID randomness so the signed outputs are reproducible."""

    class _FixedDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> _FixedDatetime:
            return cls.fromtimestamp(SIGNING_TIME.timestamp(), tz or dt.UTC)

    counter = itertools.count()

    def _urandom(n: int) -> bytes:
        return hashlib.sha256(f"edossier-pdfsig-{next(counter)}".encode()).digest()[:n]

    with (
        mock.patch("pyhanko.sign.signers.pdf_signer.datetime", _FixedDatetime),
        mock.patch("pyhanko.sign.signers.pdf_cms.datetime", _FixedDatetime),
        mock.patch("pyhanko.pdf_utils.metadata.info.datetime", _FixedDatetime),  # /ModDate
        mock.patch("pyhanko.pdf_utils.metadata.xmp_xml.datetime", _FixedDatetime),  # xmp:ModifyDate
        mock.patch.object(os, "urandom", _urandom),
    ):
        yield


def sign(pdf: bytes, cert: x509.Certificate, key: ed25519.Ed25519PrivateKey, ca: x509.Certificate) -> bytes:
    """Sign ``pdf`` with pyHanko's PdfSigner (adbe.pkcs7.detached, Ed25519 + SHA-512 per ISO 32002, signing time)."""
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(cert),
        signing_key=key_info,
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(ca)]),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, md_algorithm="sha512", reason="归档固化", location="测试"
    )
    with _pinned():
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = signers.PdfSigner(meta, signer=signer).sign_pdf(writer)
    data: bytes = out.getvalue()
    return data


def flip_signed_byte(pdf: bytes) -> bytes:
    """Change one byte inside the first signed /ByteRange (in the page content: 'page 1' → 'page 2')."""
    at = pdf.index(b"page 1)")
    return pdf[: at + 5] + b"2" + pdf[at + 6 :]


def append_update(pdf: bytes) -> bytes:
    """Append an incremental update after signing that changes the document /Info title."""
    with _pinned():
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        info = writer.trailer["/Info"].get_object()
        info[generic.NameObject("/Title")] = generic.TextStringObject("changed after signing")
        writer.update_container(info)
        out = io.BytesIO()
        writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def main() -> None:
    ca_key, signer_key, other_key = _key("edossier test CA"), _key("edossier test signer"), _key("other CA")
    ca = _ca("edossier 测试根证书", ca_key, 0x100)
    other = _ca("unrelated test CA", other_key, 0x200)
    cert = _signer(ca, ca_key, signer_key)
    for sub in ("valid", "invalid", "warning"):
        (HERE / sub).mkdir(exist_ok=True)
    (HERE / "ca.pem").write_bytes(_pem(ca))
    (HERE / "other-ca.pem").write_bytes(_pem(other))
    (HERE / "signer.pem").write_bytes(_pem(cert))

    base = unsigned_pdf()
    signed = sign(base, cert, signer_key, ca)
    outputs = {
        "valid/unsigned.pdf": base,
        "valid/signed.pdf": signed,
        "invalid/signed-byte-flipped.pdf": flip_signed_byte(signed),
        "warning/signed-then-updated.pdf": append_update(signed),
    }
    for rel, data in outputs.items():
        (HERE / rel).write_bytes(data)

    # the signer's subject as pyHanko's human_friendly renders it
    signer_cn = "Common Name: 某某人民法院 测试签名人, Organization: edossier test, Country: CN"
    ok = {"field": FIELD, "signer": signer_cn, "intact": True, "valid": True, "coverage": "entire_file"}
    expected = {
        "valid/unsigned.pdf": {"signatures": []},
        "valid/signed.pdf": {"signatures": [ok]},
        "invalid/signed-byte-flipped.pdf": {
            "signatures": [{**ok, "intact": False}],  # the CMS signature itself still verifies
            "error_class": "PdfSignatureNotIntact",
        },
        "warning/signed-then-updated.pdf": {
            "signatures": [{**ok, "coverage": "entire_revision"}],
            "error_class": "PdfSignatureNotCoveringFile",
        },
    }
    (HERE / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
