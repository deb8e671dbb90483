"""RFC 3161 test fixture: OpenSSL's ``openssl ts -reply`` behind a loopback HTTP server.

``tsa`` (session scope) makes, with the ``openssl`` command line, a test PKI

    root CA ──▶ intermediate CA ──▶ RSA TSA certificate    (extendedKeyUsage = critical,timeStamping)
                                └─▶ ECDSA TSA certificate  (P-256, same extension)

writes an OpenSSL TSA configuration and serves ``POST application/timestamp-query`` on a free
127.0.0.1 port from a thread. Each request is answered by running
``openssl ts -reply -config ... -queryfile q -inkey ... -signer ... -out r``; the path chooses the
signer and the configuration section:

* ``/`` or ``/rsa`` – RSA signer, SHA-256 message imprints accepted;
* ``/ec`` – ECDSA signer;
* ``/sha512-only`` – RSA signer that accepts only SHA-512 imprints, so a SHA-256 request is rejected
  (a reply with status ``rejection``, failInfo ``badAlg``).

The intermediate is shipped in every token (``certs =``), so verifiers must walk a chain. The object
yielded has ``url``, ``ec_url``, ``rejecting_url``, ``roots_pem`` (a PEM file with the root CA only),
``ca_cert`` (the root as a ``cryptography`` certificate) and ``requests`` (how many queries it answered).
Register with ``pytest_plugins = [..., "tests.support.tsa"]`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509

from tests.support.s3 import free_port

OPENSSL_TIMEOUT_S = 20.0

_EXTENSIONS = """\
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_TSA_SECTION = """\
[ {name} ]
dir = {dir}
serial = $dir/serial-{name}
crypto_device = builtin
certs = $dir/intermediate.pem
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1.1
other_policies = 1.3.6.1.4.1.99999.1.2
digests = {digests}
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, timeout=OPENSSL_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"openssl {' '.join(args[:2])} failed: {done.stderr.decode(errors='replace')[-800:]}")


def _issue(
    folder: Path, name: str, subject: str, issuer: str | None, section: str, key_args: list[str], serial: int
) -> None:
    """Make ``name.key`` and ``name.pem`` signed by ``issuer`` (self-signed when ``None``)."""
    _openssl("genpkey", *key_args, "-out", f"{name}.key", cwd=folder)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=folder)
    signing = (
        ["-signkey", f"{name}.key"] if issuer is None else ["-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key"]
    )
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", *signing, "-days", "3650", "-sha256", "-set_serial",
        str(serial), "-extfile", "ext.cnf", "-extensions", section,
        "-out", f"{name}.pem", cwd=folder,
    )  # fmt: skip


@dataclass
class TestTsa:
    """A running test TSA (see the module docstring)."""

    folder: Path
    url: str
    ec_url: str
    rejecting_url: str
    roots_pem: Path
    ca_cert: x509.Certificate
    requests: list[str] = field(default_factory=list)

    __test__ = False  # not a test class, despite the name


def _make_pki(folder: Path) -> Path:
    """Create the CA chain, both TSA signers and the TSA configuration; return the config path."""
    (folder / "ext.cnf").write_text(_EXTENSIONS, encoding="utf-8")
    rsa = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    _issue(folder, "root", "/C=CN/O=edossier test/CN=edossier test root CA", None, "v3_ca", ec, 1)
    _issue(folder, "intermediate", "/C=CN/O=edossier test/CN=edossier test TSA CA", "root", "v3_ca", ec, 2)
    _issue(
        folder,
        "tsa-rsa",
        "/C=CN/O=edossier test/CN=edossier test TSA (RSA)",
        "intermediate",
        "v3_tsa",
        rsa,
        3,
    )
    _issue(
        folder, "tsa-ec", "/C=CN/O=edossier test/CN=edossier test TSA (EC)", "intermediate", "v3_tsa", ec, 4
    )
    sections = [
        _TSA_SECTION.format(name="tsa_sha256", dir=folder, digests="sha256, sha384, sha512"),
        _TSA_SECTION.format(name="tsa_sha512_only", dir=folder, digests="sha512"),
    ]
    for name in ("tsa_sha256", "tsa_sha512_only"):
        (folder / f"serial-{name}").write_text("01\n", encoding="ascii")
    config = folder / "tsa.cnf"
    config.write_text("[ tsa ]\ndefault_tsa = tsa_sha256\n\n" + "\n".join(sections), encoding="utf-8")
    return config


def _handler(folder: Path, config: Path, log: list[str]) -> type[http.server.BaseHTTPRequestHandler]:
    routes = {
        "/": ("tsa_sha256", "tsa-rsa"),
        "/rsa": ("tsa_sha256", "tsa-rsa"),
        "/ec": ("tsa_sha256", "tsa-ec"),
        "/sha512-only": ("tsa_sha512_only", "tsa-rsa"),
    }
    lock = threading.Lock()  # openssl bumps one serial file per section: answer one query at a time

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            route = routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415, "expected application/timestamp-query")
                return
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            section, signer = route
            with lock, tempfile.TemporaryDirectory(dir=folder) as tmp:
                qfile, rfile = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
                qfile.write_bytes(query)
                done = subprocess.run(
                    ["openssl", "ts", "-reply", "-config", str(config), "-section", section,
                     "-queryfile", str(qfile), "-inkey", str(folder / f"{signer}.key"),
                     "-signer", str(folder / f"{signer}.pem"), "-out", str(rfile)],
                    capture_output=True, timeout=OPENSSL_TIMEOUT_S, check=False,
                )  # fmt: skip
                reply = rfile.read_bytes() if done.returncode == 0 and rfile.exists() else None
            log.append(self.path)
            if reply is None:
                self.send_error(500, "openssl ts -reply failed")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestTsa]:
    """Start the OpenSSL-backed test TSA on a free 127.0.0.1 port; stop it at the end of the session."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command line is needed for the RFC 3161 fixture")
    folder = tmp_path_factory.mktemp("tsa")
    config = _make_pki(folder)
    log: list[str] = []
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(folder, config, log))
    thread = threading.Thread(target=server.serve_forever, name="test-tsa", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        yield TestTsa(
            folder=folder,
            url=f"{base}/rsa",
            ec_url=f"{base}/ec",
            rejecting_url=f"{base}/sha512-only",
            roots_pem=folder / "root.pem",
            ca_cert=x509.load_pem_x509_certificate((folder / "root.pem").read_bytes()),
            requests=log,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
