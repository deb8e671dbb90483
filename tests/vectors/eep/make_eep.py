"""Generate the DA/T 48 EEP test vectors in this folder (deterministic: same files on every run).

Run from the repository root: ``.venv/bin/python -m tests.vectors.eep.make_eep``.

Keys: the two RSA-2048 keys are stored PEMs under ``keys/`` (created once if missing, then reused);
the P-256 keys and the SM2 key are derived from fixed seeds. Signatures are deterministic: RSA
PKCS#1 v1.5, ECDSA with RFC 6979 nonces (``cryptography``'s ``deterministic_signing``), SM2 with an
HMAC-SHA256-derived nonce (test vectors only, never for real keys). Certificates: a P-256 test root
issues the RSA and P-256 signer certificates; the SM2 signer certificate is self-signed (its own root).

Files: ``valid/*.xml`` (well-formed, schema-valid, signed), ``warning/*.xml`` (valid but unsigned),
``invalid/*.xml`` named after the one mutation they make, ``certs/*.der`` (roots for trust tests),
``expected.json`` recording for each vector the expected error class of parse / signatures / decode
and the expected status of BC-1-15, BC-1-16 and BC-2-10.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import struct
import zlib
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from gmssl.sm2 import CryptSM2
from lxml import etree

from integrity.eep_signatures import sm2_digest
from integrity.sm2 import N, Sm2Signer
from standards.eep import EEP_NS, TYPE_DESCRIPTIONS, canonical_bytes

HERE = Path(__file__).resolve().parent
NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2044, 1, 1, tzinfo=dt.UTC)
SIGNING_TIME = "2025-06-30T10:00:00+08:00"
FORMAT_DESCRIPTION = "本EEP根据中华人民共和国档案行业标准DA/T 48-2009《基于XML的电子文件封装规范》生成"
ENCODING_DESCRIPTION = (
    "本封装包中“编码数据”元素存储的是计算机文件二进制流的Base64编码，有关Base64编码规则参见IETF RFC 2045"
    "多用途邮件扩展（MIME）第一部分：互联网信息体格式。当提取和显现封装在编码数据元素中的计算机文件时，"
    "应对Base64编码进行反编码，并依据封装包中“反编码关键字”元素中记录的值还原计算机文件的扩展名"
)
ALG_NAMES = {"rsa": "sha256WithRSAEncryption", "p256": "ecdsa-with-SHA256", "sm2": "SM3withSM2"}


# ---------------------------------------------------------------- content
def make_pdf(text: str) -> bytes:
    """A small, valid one-page PDF (fixed bytes for a given text)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_png(width: int = 8, height: int = 8) -> bytes:
    """A small grey-gradient PNG built with zlib (fixed bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes((x * 32 + y * 8) % 256 for x in range(width)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- keys and certificates
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    path = HERE / "keys" / f"{name}.pem"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def p256_key(seed: str) -> ec.EllipticCurvePrivateKey:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    d = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(d, ec.SECP256R1())


def sm2_scalar(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (N - 2) + 1


def sm2_public(d: int) -> bytes:
    return Sm2Signer("eep-test", d.to_bytes(32, "big")).verifier().public_key


def sm2_sign(d: int, message: bytes) -> bytes:
    """Deterministic SM2-with-SM3 (nonce = HMAC-SHA256(d, e) chain; test vectors only)."""
    pub = sm2_public(d)
    e = sm2_digest(pub, message)
    engine = CryptSM2(private_key=f"{d:064x}", public_key="")
    engine.public_key = pub[1:].hex()
    counter = 0
    while True:
        k = int.from_bytes(hmac.new(d.to_bytes(32, "big"), e + bytes([counter]), "sha256").digest(), "big")
        k = k % (N - 1) + 1
        rs = engine.sign(e, f"{k:064x}")
        if rs is not None:
            r, s = int(rs[:64], 16), int(rs[64:], 16)
            from asn1crypto.algos import DSASignature

            return bytes(DSASignature({"r": r, "s": s}).dump())
        counter += 1


def name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edossier test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def certificate(
    subject: str, public_key: Any, issuer: str, issuer_key: ec.EllipticCurvePrivateKey, serial: int, ca: bool
) -> bytes:
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(name(issuer))
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return cert.public_bytes(serialization.Encoding.DER)


def sm2_certificate(d: int) -> bytes:
    """A self-signed SM2 certificate (SM2-with-SM3 over the TBS), built with asn1crypto."""
    subject = asn1_x509.Name.build(
        {"country_name": "CN", "organization_name": "edossier test", "common_name": "EEP SM2 signer"}
    )
    sig_alg = {"algorithm": "1.2.156.10197.1.501"}
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": 0x53_4D_32,
            "signature": sig_alg,
            "issuer": subject,
            "validity": {
                "not_before": asn1_x509.Time({"utc_time": NOT_BEFORE}),
                "not_after": asn1_x509.Time({"utc_time": NOT_AFTER}),
            },
            "subject": subject,
            "subject_public_key_info": asn1_keys.PublicKeyInfo(
                {
                    "algorithm": {
                        "algorithm": "ec",
                        "parameters": asn1_keys.ECDomainParameters({"named": "1.2.156.10197.1.301"}),
                    },
                    "public_key": sm2_public(d),
                }
            ),
        }
    )
    signature = sm2_sign(d, tbs.dump())
    cert = asn1_x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": sig_alg, "signature_value": signature}
    )
    return bytes(cert.dump())


class Signers:
    """The fixed test keys and their certificates."""

    def __init__(self) -> None:
        self.root_key = p256_key("edossier eep test root")
        self.root_cert = certificate(
            "EEP test root", self.root_key.public_key(), "EEP test root", self.root_key, 1, True
        )
        self.rsa = rsa_key("rsa")
        self.rsa_other = rsa_key("rsa-other")
        self.p256 = p256_key("edossier eep test p256 signer")
        self.sm2 = sm2_scalar("edossier eep test sm2 signer")
        self.certs = {
            "rsa": certificate(
                "EEP RSA signer", self.rsa.public_key(), "EEP test root", self.root_key, 2, False
            ),
            "rsa-other": certificate(
                "EEP RSA other", self.rsa_other.public_key(), "EEP test root", self.root_key, 3, False
            ),
            "p256": certificate(
                "EEP P-256 signer", self.p256.public_key(), "EEP test root", self.root_key, 4, False
            ),
            "sm2": sm2_certificate(self.sm2),
        }

    def sign(self, kind: str, message: bytes) -> bytes:
        if kind == "rsa":
            return self.rsa.sign(message, padding.PKCS1v15(), hashes.SHA256())
        if kind == "p256":
            return self.p256.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        return sm2_sign(self.sm2, message)


# ---------------------------------------------------------------- building the EEP
def E(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{EEP_NS}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def build_unsigned(documents: list[tuple[str, str, bytes, str]], title: str = "民事判决书") -> etree._Element:
    """The unsigned EEP tree; ``documents`` = (文档标识符, 计算机文件名, bytes, 格式信息)."""
    root = etree.Element(f"{{{EEP_NS}}}电子文件封装包", nsmap={None: EEP_NS})  # type: ignore[dict-item]
    E(root, "封装包格式描述", FORMAT_DESCRIPTION)
    E(root, "版本", "2009")
    signed = E(root, "被签名对象", eep版本="2009")
    E(signed, "封装包类型", "原始型")
    E(signed, "封装包类型描述", TYPE_DESCRIPTIONS["原始型"])
    E(signed, "封装包创建时间", "2025-06-30T09:30:00+08:00")
    E(signed, "封装包创建单位", "某某市中级人民法院")
    content = E(signed, "封装内容")
    entity = E(E(content, "文件实体块"), "文件实体")
    E(entity, "聚合层次", "文件")
    source = E(entity, "来源")
    E(source, "全宗名称", "某某市中级人民法院")
    E(source, "立档单位名称", "某某市中级人民法院")
    E(entity, "电子文件号", "EEP-2025-0001")
    code = E(entity, "档号")
    E(code, "全宗号", "J001")
    E(code, "年度", "2025")
    E(code, "保管期限", "永久")
    E(code, "室编件号", "1")
    desc = E(entity, "内容描述")
    E(desc, "题名", title)
    E(desc, "文件编号", "（2025）某01民初1号")
    E(desc, "责任者", "某某市中级人民法院")
    E(desc, "日期", "20250630")
    E(desc, "密级", "公开")
    form = E(entity, "形式特征")
    E(form, "文件组合类型", "组合文件" if len(documents) > 1 else "单件")
    E(form, "页数", "1")
    E(E(entity, "存储位置"), "脱机载体编号", "CD-2025-001")
    E(entity, "权限管理")
    data = E(entity, "文件数据")
    for n, (doc_id, file_name, body, fmt) in enumerate(documents, 1):
        doc = E(data, "文档")
        E(doc, "文档标识符", doc_id)
        E(doc, "文档序号", str(n))
        E(doc, "文档主从声明", "主文档" if n == 1 else "附属文档")
        version = E(doc, "文档数据", 文档数据ID=f"{doc_id}-V1")
        enc = E(version, "编码", 编码ID=f"{doc_id}-E1")
        attrs = E(enc, "电子属性")
        E(attrs, "格式信息", fmt)
        E(attrs, "计算机文件名", file_name)
        E(attrs, "计算机文件大小", str(len(body)))
        E(attrs, "文档创建程序", "edossier make_eep")
        E(enc, "编码描述", ENCODING_DESCRIPTION)
        E(enc, "反编码关键字", file_name.rsplit(".", 1)[-1])
        E(enc, "编码数据", "\n" + base64.encodebytes(body).decode("ascii"), 编码数据ID=f"{doc_id}-D1")
    business = E(E(content, "业务实体块"), "业务实体")
    E(business, "业务标识符", "B1")
    E(business, "机构人员标识符", "A1")
    E(business, "文件标识符", "EEP-2025-0001")
    E(business, "业务状态", "历史行为")
    E(business, "业务行为", "归档")
    E(business, "行为时间", "2025-06-30T09:00:00+08:00")
    agent = E(E(content, "机构人员实体块"), "机构人员实体")
    E(agent, "机构人员标识符", "A1")
    E(agent, "机构人员类型", "单位")
    E(agent, "机构人员名称", "某某市中级人民法院")
    etree.indent(root)
    return root


def add_signature_element(
    parent: etree._Element, tag: str, first: tuple[str, str], kind: str, value: bytes, cert: bytes
) -> etree._Element:
    sig = E(parent, tag)
    E(sig, first[0], first[1])
    E(
        sig,
        "签名规则",
        "对“被签名对象”元素的 exclusive XML C14N 1.0（不含注释）字节签名"
        if tag == "电子签名"
        else "对被锁定“电子签名”元素的 exclusive XML C14N 1.0（不含注释）字节签名",
    )
    E(sig, "签名时间", SIGNING_TIME)
    E(sig, "签名人", f"测试签名人（{kind}）")
    E(sig, "签名结果", base64.b64encode(value).decode("ascii"))
    E(E(sig, "证书块"), "证书", base64.b64encode(cert).decode("ascii"))
    E(sig, "签名算法标识", ALG_NAMES[kind])
    return sig


def sign(
    root: etree._Element,
    signers: Signers,
    kinds: list[str],
    lock_kind: str,
    *,
    cert_for: dict[str, str] | None = None,
) -> etree._Element:
    """Append 电子签名块 (one 电子签名 per kind) and a 锁定签名 over the first, in place."""
    signed = root.find(f"{{{EEP_NS}}}被签名对象")
    assert signed is not None
    message = canonical_bytes(signed)
    block = E(root, "电子签名块")
    sigs = []
    for n, kind in enumerate(kinds, 1):
        cert = signers.certs[(cert_for or {}).get(kind, kind)]
        sigs.append(
            add_signature_element(
                block, "电子签名", ("签名标识符", f"S{n}"), kind, signers.sign(kind, message), cert
            )
        )
    etree.indent(block, level=1)  # before the lock: it signs the 电子签名 bytes as they will be stored
    lock = add_signature_element(
        root,
        "锁定签名",
        ("被锁定签名标识符", "S1"),
        lock_kind,
        signers.sign(lock_kind, canonical_bytes(sigs[0])),
        signers.certs[lock_kind],
    )
    etree.indent(lock, level=1)
    block.tail = lock.tail = "\n"
    return root


def reparsed(root: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(root, encoding="utf-8"))


def serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def find(root: etree._Element, path: str) -> etree._Element:
    el = root.find("/".join(f"{{{EEP_NS}}}{p}" for p in path.split("/")))
    assert el is not None, path
    return el


# ---------------------------------------------------------------- vectors
def main() -> None:
    signers = Signers()
    pdf = make_pdf("Civil judgment (2025) Mou 01 Min Chu 1")
    png = make_png()
    two = [("DOC1", "民事判决书.pdf", pdf, "PDF"), ("DOC2", "送达回证.png", png, "PNG")]
    one = [("DOC1", "民事判决书.pdf", pdf, "PDF")]
    expected: dict[str, dict[str, Any]] = {}
    ok = {
        "parse": None,
        "signatures": None,
        "decode": None,
        "BC-1-15": "pass",
        "BC-1-16": "pass",
        "BC-2-10": "pass",
    }

    def write(rel: str, root: etree._Element, **outcome: Any) -> None:
        (HERE / rel).parent.mkdir(parents=True, exist_ok=True)
        (HERE / rel).write_bytes(serialise(root))
        expected[rel] = {**ok, **outcome}

    def fresh(docs: list[tuple[str, str, bytes, str]] = two, **kw: Any) -> etree._Element:
        return reparsed(build_unsigned(docs, **kw))

    files_two = {f"文件数据/{d}/{n}": hashlib.sha256(b).hexdigest() for d, n, b, _ in two}
    files_one = {f"文件数据/{d}/{n}": hashlib.sha256(b).hexdigest() for d, n, b, _ in one}
    base = sign(fresh(), signers, ["rsa"], "rsa")
    write("valid/signed-rsa.xml", base, files=files_two)
    write("valid/signed-ecdsa.xml", sign(fresh(one), signers, ["p256"], "p256"), files=files_one)
    write("valid/signed-sm2.xml", sign(fresh(one), signers, ["sm2"], "sm2"), files=files_one)
    other = sign(fresh(), signers, ["rsa", "sm2"], "p256")
    write("valid/signed-rsa-sm2-lock-ecdsa.xml", other, files=files_two)
    write("warning/unsigned.xml", fresh(), signatures="NoSignatures", **{"BC-1-16": "warn"}, files=files_two)

    # invalid: each makes one mutation of the valid RSA package
    mutated = copy.deepcopy(base)
    payload = find(mutated, "被签名对象/封装内容/文件实体块/文件实体/文件数据/文档/文档数据/编码/编码数据")
    changed = bytearray(pdf)
    changed[pdf.index(b"Civil")] ^= 0x20  # 'C' → 'c': same size, different content
    payload.text = "\n" + base64.encodebytes(bytes(changed)).decode("ascii")
    write(
        "invalid/changed-content-byte.xml",
        mutated,
        signatures="SignatureInvalid",
        **{"BC-1-16": "fail"},
        files={**files_two, "文件数据/DOC1/民事判决书.pdf": hashlib.sha256(bytes(changed)).hexdigest()},
    )

    mutated = copy.deepcopy(base)
    find(mutated, "被签名对象/封装内容/文件实体块/文件实体/内容描述/题名").text = "民事裁定书"
    write(
        "invalid/changed-metadata.xml",
        mutated,
        signatures="SignatureInvalid",
        **{"BC-1-16": "fail"},
        files=files_two,
    )

    mutated = copy.deepcopy(base)
    elsewhere = sign(fresh(one), signers, ["rsa"], "rsa")  # same key, another 被签名对象
    find(mutated, "电子签名块/电子签名/签名结果").text = find(elsewhere, "电子签名块/电子签名/签名结果").text
    write(
        "invalid/swapped-signature.xml",
        mutated,
        signatures="SignatureInvalid",
        **{"BC-1-16": "fail"},
        files=files_two,
    )

    write(
        "invalid/wrong-certificate.xml",
        sign(fresh(), signers, ["rsa"], "rsa", cert_for={"rsa": "rsa-other"}),
        signatures="SignatureInvalid",
        **{"BC-1-16": "fail"},
        files=files_two,
    )

    mutated = copy.deepcopy(base)
    lock_value = find(mutated, "锁定签名/签名结果")
    raw = bytearray(base64.b64decode(lock_value.text or ""))
    raw[10] ^= 0x01
    lock_value.text = base64.b64encode(bytes(raw)).decode("ascii")
    write(
        "invalid/broken-lock-signature.xml",
        mutated,
        signatures="LockSignatureInvalid",
        **{"BC-1-16": "fail"},
        files=files_two,
    )

    unsigned = fresh()
    size = find(
        unsigned,
        "被签名对象/封装内容/文件实体块/文件实体/文件数据/文档/文档数据/编码/电子属性/计算机文件大小",
    )
    size.text = str(len(pdf) + 1)
    write(
        "invalid/size-mismatch.xml",
        sign(unsigned, signers, ["rsa"], "rsa"),
        decode="EepSizeMismatch",
        **{"BC-1-15": "fail"},
    )

    unsigned = fresh()
    desc = find(unsigned, "被签名对象/封装内容/文件实体块/文件实体/内容描述")
    desc.remove(find(desc, "密级"))
    write(
        "invalid/not-schema-valid.xml",
        sign(unsigned, signers, ["rsa"], "rsa"),
        parse="EepSchemaInvalid",
        **{"BC-1-15": "fail", "BC-1-16": "not_run", "BC-2-10": "fail"},
        files=files_two,
    )

    certs = HERE / "certs"
    certs.mkdir(exist_ok=True)
    (certs / "root-p256.der").write_bytes(signers.root_cert)
    (certs / "sm2-self-signed.der").write_bytes(signers.certs["sm2"])
    (HERE / "expected.json").write_text(
        json.dumps(dict(sorted(expected.items())), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
