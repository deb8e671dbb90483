"""RFC 3161 trusted time against a real OpenSSL TSA (``openssl ts -reply`` behind loopback HTTP)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from archive.catalog.models import Checkpoint as CheckpointRow
from integrity.checkpoint import format_checkpoint
from integrity.ledger.timestamps import CheckpointNotFound, signed_body, timestamp_checkpoint, timestamps_for
from integrity.signed_note import Ed25519Signer, open_note, sign_note
from integrity.timestamp import (
    BadTimestampSignature,
    CertificateNotValidAtGenTime,
    ContentDigestMismatch,
    MalformedTimestamp,
    MessageImprintMismatch,
    NonceMismatch,
    NotATimestampingCertificate,
    TimestampContentTypeMismatch,
    TimestampNotGranted,
    TsaClient,
    TsaUnavailable,
    UntrustedTimestamp,
    build_request,
    load_roots,
    token_from_reply,
    verify_chain,
    verify_token,
    verify_tsa_certificate,
)
from integrity.timestamp import errors as timestamp_errors
from integrity.timestamp.verify import parse_roots_pem
from tests.support.s3 import free_port
from tests.support.tsa import TestTsa

DATA = b"court.example/ledger\n7\nq6zVhHb9Lz8bP8a3Hk3e8bOe1y2fA7x0b6m4u8pQmKE=\n"
NOW = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------- helpers
def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edossier test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    *,
    ca: bool = True,
    eku: list[x509.ObjectIdentifier] | None = None,
    eku_critical: bool = True,
) -> x509.Certificate:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def roots(tsa: TestTsa) -> list[x509.Certificate]:
    return load_roots(tsa.roots_pem)


@pytest.fixture(scope="module")
def rsa_token(tsa: TestTsa, roots: list[x509.Certificate]) -> bytes:
    return TsaClient(tsa.url, 5.0, roots).stamp(DATA)


def _signer_info(token: bytes) -> cms.SignerInfo:
    return cms.ContentInfo.load(token)["content"]["signer_infos"][0]


def _flip_unique(token: bytes, part: bytes, at: int = -1) -> bytes:
    assert token.count(part) == 1
    start = token.index(part)
    pos = start + (at % len(part))
    return token[:pos] + bytes([token[pos] ^ 0x01]) + token[pos + 1 :]


# ---------------------------------------------------------------- verification of real tokens
@pytest.mark.parametrize("which", ["url", "ec_url"])
def test_token_from_openssl_tsa_verifies_for_rsa_and_ecdsa_signers(tsa: TestTsa, roots, which):
    request = build_request(DATA)
    client = TsaClient(getattr(tsa, which), 5.0, roots)
    info = verify_token(token_from_reply(client._post(request.der)), DATA, roots, nonce=request.nonce)
    assert info.nonce == request.nonce
    assert info.hash_algorithm == "sha256"
    assert info.policy == "1.3.6.1.4.1.99999.1.1"
    assert ("RSA" if which == "url" else "EC") in info.tsa_name
    assert abs(info.gen_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert info.serial > 0


def test_stamp_returns_token_that_verifies_over_the_data(rsa_token, roots):
    info = verify_token(rsa_token, DATA, roots)
    assert info.gen_time.tzinfo is not None


def test_verify_token_rejects_other_data_as_imprint_mismatch(rsa_token, roots):
    with pytest.raises(MessageImprintMismatch, match="messageImprint"):
        verify_token(rsa_token, DATA + b"x", roots)


def test_verify_token_rejects_wrong_nonce(rsa_token, roots):
    info = verify_token(rsa_token, DATA, roots)
    assert info.nonce is not None
    with pytest.raises(NonceMismatch):
        verify_token(rsa_token, DATA, roots, nonce=info.nonce + 1)


def test_verify_token_rejects_ca_not_in_roots(rsa_token):
    key = _ec_key()
    with pytest.raises(UntrustedTimestamp):
        verify_token(rsa_token, DATA, [_cert(_name("some other root"), key)])


def test_verify_token_rejects_impostor_root_with_the_same_name(rsa_token, roots):
    # Same subject as the real root, another key: names match, signatures must not.
    impostor = _cert(roots[0].subject, _ec_key())
    with pytest.raises(UntrustedTimestamp):
        verify_token(rsa_token, DATA, [impostor])


def test_verify_token_rejects_corrupted_signature(rsa_token, roots):
    signature = _signer_info(rsa_token)["signature"].native
    with pytest.raises(BadTimestampSignature):
        verify_token(_flip_unique(rsa_token, signature), DATA, roots)


def test_verify_token_rejects_edited_tstinfo_by_its_content_digest(rsa_token, roots):
    econtent = cms.ContentInfo.load(rsa_token)["content"]["encap_content_info"]["content"].contents
    with pytest.raises(ContentDigestMismatch):
        verify_token(_flip_unique(rsa_token, econtent), DATA, roots)


def test_verify_token_rejects_a_validity_window_that_excludes_gen_time(rsa_token, roots):
    token_certs = [
        x509.load_der_x509_certificate(c.chosen.dump())
        for c in cms.ContentInfo.load(rsa_token)["content"]["certificates"]
    ]
    signer = next(c for c in token_certs if "TSA (RSA)" in c.subject.rfc4514_string())
    assert len(verify_chain(signer, token_certs, roots, dt.datetime.now(dt.UTC))) == 3
    with pytest.raises(CertificateNotValidAtGenTime):
        verify_chain(signer, token_certs, roots, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    "token",
    [b"", b"\x30\x03\x02\x01", b"not der at all", cms.ContentInfo({"content_type": "data"}).dump()[:-1]],
    ids=["empty", "truncated", "garbage", "truncated-contentinfo"],
)
def test_verify_token_reports_malformed_der_as_bad_input(token, roots):
    with pytest.raises(MalformedTimestamp):
        verify_token(token, DATA, roots)


def test_verify_token_rejects_content_that_is_not_signed_data(roots):
    plain = cms.ContentInfo({"content_type": "data", "content": b"hello"}).dump()
    with pytest.raises(TimestampContentTypeMismatch):
        verify_token(plain, DATA, roots)


# ---------------------------------------------------------------- recorded OpenSSL vectors
VECTORS = json.loads((Path(__file__).parents[1] / "vectors/ledger/rfc3161_openssl.json").read_text("utf-8"))
ERRORS_BY_CODE = {
    cls.code: cls
    for cls in vars(timestamp_errors).values()
    if isinstance(cls, type) and cls.__module__ == timestamp_errors.__name__
}


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_recorded_openssl_token_verifies_or_fails_with_its_recorded_error(case):
    roots = parse_roots_pem(VECTORS["roots_pem"].encode())
    token, data = base64.b64decode(case["token"]), VECTORS["data"].encode()
    if case["expect"] is None:
        assert verify_token(token, data, roots, nonce=case["nonce"]).nonce == case["nonce"]
    else:
        with pytest.raises(ERRORS_BY_CODE[case["expect"]]):
            verify_token(token, data, roots, nonce=case["nonce"])


def test_recorded_vectors_cover_valid_and_invalid_tokens_of_both_key_types():
    expects = {c["expect"] for c in VECTORS["cases"]}
    assert None in expects
    assert len(expects) >= 5
    assert {c["name"] for c in VECTORS["cases"]} >= {"valid-rsa", "valid-ec"}


# ---------------------------------------------------------------- TSA certificate rules (RFC 3161 §2.3)
def test_tsa_certificate_needs_critical_timestamping_eku():
    key = _ec_key()
    verify_tsa_certificate(_cert(_name("tsa"), key, ca=False, eku=[ExtendedKeyUsageOID.TIME_STAMPING]))
    for bad in (
        _cert(_name("tsa"), key, ca=False),
        _cert(_name("tsa"), key, ca=False, eku=[ExtendedKeyUsageOID.TIME_STAMPING], eku_critical=False),
        _cert(
            _name("tsa"),
            key,
            ca=False,
            eku=[ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING],
        ),
    ):
        with pytest.raises(NotATimestampingCertificate):
            verify_tsa_certificate(bad)


def test_chain_refuses_an_intermediate_that_is_not_a_ca():
    root_key, mid_key, leaf_key = _ec_key(), _ec_key(), _ec_key()
    root = _cert(_name("root"), root_key)
    mid = _cert(_name("mid"), mid_key, root.subject, root_key, ca=False)
    leaf = _cert(
        _name("tsa"), leaf_key, mid.subject, mid_key, ca=False, eku=[ExtendedKeyUsageOID.TIME_STAMPING]
    )
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(UntrustedTimestamp):
        verify_chain(leaf, [mid], [root], now)
    good_mid = _cert(_name("mid"), mid_key, root.subject, root_key, ca=True)
    assert verify_chain(leaf, [good_mid], [root], now) == [leaf, good_mid, root]


# ---------------------------------------------------------------- client
def test_client_returns_only_tokens_that_chain_to_its_roots(tsa: TestTsa):
    stranger = _cert(_name("stranger"), _ec_key())
    with pytest.raises(UntrustedTimestamp):
        TsaClient(tsa.url, 5.0, [stranger]).stamp(DATA)


def test_client_reports_rejection_status_as_not_granted(tsa: TestTsa, roots):
    with pytest.raises(TimestampNotGranted, match="rejection"):
        TsaClient(tsa.rejecting_url, 5.0, roots).stamp(DATA)


def test_client_reports_http_error_as_unavailable(tsa: TestTsa, roots):
    with pytest.raises(TsaUnavailable, match="HTTP 404"):
        TsaClient(tsa.url.rsplit("/", 1)[0] + "/nowhere", 5.0, roots).stamp(DATA)


def test_client_reports_tsa_down_as_unavailable_fast(roots):
    started = time.monotonic()
    with pytest.raises(TsaUnavailable, match="unreachable"):
        TsaClient(f"http://127.0.0.1:{free_port()}/", 5.0, roots).stamp(DATA)
    assert time.monotonic() - started < 2.0


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()


def test_client_reports_a_silent_tsa_as_unavailable_after_its_timeout(silent_server, roots):
    started = time.monotonic()
    with pytest.raises(TsaUnavailable):
        TsaClient(silent_server, 0.3, roots).stamp(DATA)
    assert time.monotonic() - started < 2.0


def test_client_without_roots_refuses_to_stamp(tsa: TestTsa):
    with pytest.raises(ValueError, match="roots"):
        TsaClient(tsa.url, 5.0).stamp(DATA)


def test_request_carries_sha256_imprint_nonce_and_cert_req():
    req = tsp.TimeStampReq.load(build_request(DATA, nonce=12345).der)
    assert req["version"].native == "v1"
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert req["nonce"].native == 12345
    assert req["cert_req"].native is True
    assert build_request(DATA).nonce != build_request(DATA).nonce


# ---------------------------------------------------------------- checkpoints
def _checkpoint(session) -> tuple[int, str]:
    signer = Ed25519Signer("court.example/ledger", bytes(range(32)))
    root = bytes(32)
    note = sign_note(format_checkpoint("court.example/ledger", 7, root), signer)
    row = CheckpointRow(
        origin="court.example/ledger",
        size=7,
        root_hash=root,
        note=note,
        key_id=signer.key_id.hex(),
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    assert open_note(note, [signer.verifier()]).text.encode() == signed_body(note)
    return row.id, note


def test_timestamp_checkpoint_stores_a_token_over_the_signed_body(ledger_session, tsa: TestTsa, roots):
    checkpoint_id, note = _checkpoint(ledger_session)
    stored = timestamp_checkpoint(ledger_session, checkpoint_id, TsaClient(tsa.url, 5.0), roots, now=NOW)
    assert (stored.checkpoint_id, stored.tsa_url, stored.created_at) == (checkpoint_id, tsa.url, NOW)
    info = verify_token(stored.token, signed_body(note), roots)
    assert (info.gen_time, info.serial) == (stored.gen_time, stored.serial)
    with pytest.raises(MessageImprintMismatch):
        verify_token(stored.token, note.encode(), roots)  # the whole note is not what was stamped
    assert timestamps_for(ledger_session, checkpoint_id) == [stored]
    assert timestamps_for(ledger_session, checkpoint_id + 1) == []


def test_timestamp_checkpoint_refuses_unknown_checkpoint(ledger_session, tsa: TestTsa, roots):
    with pytest.raises(CheckpointNotFound):
        timestamp_checkpoint(ledger_session, 999, TsaClient(tsa.url, 5.0), roots)


def test_timestamp_checkpoint_on_migrated_database(db_session, tsa: TestTsa, roots):
    checkpoint_id, _ = _checkpoint(db_session)
    stored = timestamp_checkpoint(db_session, checkpoint_id, TsaClient(tsa.url, 5.0), roots, now=NOW)
    db_session.expire_all()
    assert timestamps_for(db_session, checkpoint_id) == [stored]
