"""Generate the evidence-bundle vectors in this folder and ``expected.json``.

Run ``python tests/vectors/ledger/evidence/make_vectors.py`` from the repository root. The output is
deterministic (fixed Ed25519 seeds; Ed25519 signatures are deterministic), so the committed files
can be checked for drift. The Merkle root and inclusion path come from the naive recursive
reference tree of the tests (``tests/integrity/reference_tree.py``), and the bundle text is written
here line by line from the C2SP tlog-proof spec and the grammar in ``integrity/evidence.py`` — not
with ``integrity.evidence.format_bundle`` — so the vectors check the product, not themselves.

* ``valid/``     bundles that verify (``expected.json``: ``{"valid": true, "warnings": n}``);
* ``invalid/``   well-formed bundles that must fail: ``{"failed": {check name: error code}}``, exactly
  the checks that must fail;
* ``malformed/`` texts that must not parse: ``{"error": "<MalformedBundle subclass>"}``.

``log.pub`` is the verifier key; ``files/`` holds the dossier's files the manifest lists.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from integrity.canonical import canonical_json  # noqa: E402
from integrity.checkpoint import format_checkpoint  # noqa: E402
from integrity.signed_note import Ed25519Signer, sign_note  # noqa: E402
from tests.integrity.reference_tree import mth, path  # noqa: E402

ORIGIN = "edossier.test/court-archive"
KEY = Ed25519Signer("edossier.test", bytes(range(32)))
OTHER_KEY = Ed25519Signer("edossier.test", bytes(range(32, 64)))
ARCHIVE_ID = "ED-2024-0123456789abcdef"
FILES = {
    "正卷/0001-起诉状.txt": "原告：张三\n被告：李四\n诉讼请求：判令被告返还借款人民币壹万元。\n".encode(),
    "说明文件.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>\n<说明文件><案号>（2024）沪0115民初1号</案号></说明文件>\n'.encode()
    ),
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def manifest(archive_id: str) -> bytes:
    records = [
        {
            "path": p,
            "size": len(data),
            "digests": {
                "sha256": hashlib.sha256(data).hexdigest(),
                "sm3": hashlib.new("sm3", data).hexdigest(),
            },
        }
        for p, data in sorted(FILES.items(), key=lambda kv: kv[0].encode())
    ]
    return canonical_json(
        {"format": "edossier.aip.manifest/1", "archive_id": archive_id, "version": 1, "files": records}
    )


def leaf(archive_id: str, manifest_bytes: bytes) -> bytes:
    return canonical_json(
        {
            "type": "dossier.archived",
            "v": 1,
            "archive_id": archive_id,
            "case_number": "（2024）沪0115民初1号",
            "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
            "package_digest": "ab" * 32,
            "archived_at": "2025-01-02T03:04:05Z",
            "document_count": 1,
            "total_bytes": sum(len(d) for d in FILES.values()),
        }
    )


def bundle(
    leaf_data: bytes,
    manifest_data: bytes,
    *,
    key: Ed25519Signer = KEY,
    tokens: tuple[bytes, ...] = (),
    extra: str = "",
) -> str:
    """Leaf 0 of a three-leaf tree: proof of two hashes, checkpoint of size 3."""
    leaves = [
        leaf_data,
        canonical_json({"type": "dossier.accessed", "v": 1, "archive_id": "ED-x"}),
        b'{"type":"audit.completed","v":1}',
    ]
    note = sign_note(format_checkpoint(ORIGIN, len(leaves), mth(leaves)), key)
    text = "c2sp.org/tlog-proof@v1\n" + extra + "index 0\n"
    text += "".join(b64(h) + "\n" for h in path(0, leaves)) + "\n" + note + "\n"
    text += "edossier.evidence@v1\n"
    text += "-----BEGIN LEAF-----\n" + leaf_data.decode() + "\n-----END LEAF-----\n"
    text += "-----BEGIN MANIFEST-----\n" + manifest_data.decode() + "\n-----END MANIFEST-----\n"
    for token in tokens:
        t = b64(token)
        lines = "".join(t[i : i + 64] + "\n" for i in range(0, len(t), 64))
        text += "-----BEGIN TIMESTAMP TOKEN-----\n" + lines + "-----END TIMESTAMP TOKEN-----\n"
    return text


def lines_replace(text: str, n: int, new: str) -> str:
    lines = text.split("\n")
    lines[n] = new
    return "\n".join(lines)


def flip_b64(value: str, at: int) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[at] ^= 0x01
    return b64(bytes(raw))


def main() -> None:
    m = manifest(ARCHIVE_ID)
    lf = leaf(ARCHIVE_ID, m)
    good = bundle(lf, m)
    lines = good.split(
        "\n"
    )  # 0 header, 1 index, 2-3 hashes, 4 "", 5 origin, 6 size, 7 root, 8 "", 9 signature
    sig_name, sig_b64 = lines[9][2:].split(" ")
    expected: dict[str, dict[str, object]] = {}
    out: dict[str, str | bytes] = {}

    def valid(name: str, text: str, warnings: int = 0) -> None:
        out[f"valid/{name}.tlog-proof"], expected[f"valid/{name}.tlog-proof"] = (
            text,
            {"valid": True, "warnings": warnings},
        )

    def invalid(name: str, text: str, failed: dict[str, str]) -> None:
        out[f"invalid/{name}.tlog-proof"], expected[f"invalid/{name}.tlog-proof"] = text, {"failed": failed}

    def malformed(name: str, text: str | bytes, error: str) -> None:
        out[f"malformed/{name}.tlog-proof"], expected[f"malformed/{name}.tlog-proof"] = text, {"error": error}

    root_mismatch = {"inclusion": "merkle_root_mismatch"}
    valid("genuine", good)
    valid("with_extra_line", bundle(lf, m, extra="extra " + b64(b"court note") + "\n"))
    valid("with_unverified_timestamp", bundle(lf, m, tokens=(bytes(range(100)),)), warnings=1)

    edited_leaf = lf.replace(b'"total_bytes":', b'"total_bytes":1')
    invalid("leaf_edited", good.replace(lf.decode(), edited_leaf.decode()), root_mismatch)
    other_digest = lf.replace(hashlib.sha256(m).hexdigest().encode(), b"00" * 32)
    invalid(
        "leaf_names_other_manifest",
        good.replace(lf.decode(), other_digest.decode()),
        {**root_mismatch, "manifest-digest": "evidence_manifest_digest_mismatch"},
    )
    spaced = lf.replace(b'{"archive_id":', b'{ "archive_id":')
    invalid(
        "leaf_not_canonical",
        good.replace(lf.decode(), spaced.decode()),
        {
            "leaf": "evidence_leaf_invalid",
            **root_mismatch,
            "manifest-digest": "evidence_not_run",
            "archive-id": "evidence_not_run",
        },
    )
    invalid(
        "manifest_edited",
        good.replace(m.decode(), m.decode().replace('"version":1', '"version":2')),
        {"manifest-digest": "evidence_manifest_digest_mismatch"},
    )
    other_manifest = manifest("ED-2024-ffffffffffffffff")
    invalid(
        "manifest_of_other_archive",
        bundle(leaf(ARCHIVE_ID, other_manifest), other_manifest),
        {"archive-id": "evidence_archive_id_mismatch"},
    )
    invalid("proof_hash_flipped", lines_replace(good, 3, flip_b64(lines[3], 31)), root_mismatch)
    invalid("proof_hash_dropped", good.replace(lines[3] + "\n", "", 1), {"inclusion": "merkle_proof_length"})
    invalid(
        "proof_hash_added",
        good.replace(lines[3] + "\n", lines[3] + "\n" + lines[3] + "\n", 1),
        {"inclusion": "merkle_proof_length"},
    )
    invalid(
        "proof_hashes_reordered", lines_replace(lines_replace(good, 2, lines[3]), 3, lines[2]), root_mismatch
    )
    invalid("index_changed", lines_replace(good, 1, "index 1"), root_mismatch)
    invalid(
        "index_beyond_size", lines_replace(good, 1, "index 3"), {"inclusion": "merkle_index_out_of_range"}
    )
    bad_sig = {"signature": "note_bad_signature"}
    invalid(
        "checkpoint_root_edited", lines_replace(good, 7, flip_b64(lines[7], 0)), {**bad_sig, **root_mismatch}
    )
    # RFC 9162 §2.1.3.2 binds the size only through the root: leaf 0's proof for 3 also fits 4.
    invalid("checkpoint_size_edited", lines_replace(good, 6, "4"), bad_sig)
    invalid("checkpoint_origin_edited", lines_replace(good, 5, ORIGIN + "2"), bad_sig)
    invalid("signature_flipped", lines_replace(good, 9, f"— {sig_name} {flip_b64(sig_b64, 10)}"), bad_sig)
    invalid(
        "signature_key_id_changed",
        lines_replace(good, 9, f"— {sig_name} {flip_b64(sig_b64, 0)}"),
        {"signature": "note_unknown_key"},
    )
    invalid("signed_by_other_key", bundle(lf, m, key=OTHER_KEY), {"signature": "note_unknown_key"})

    malformed("no_header", lines_replace(good, 0, "c2sp.org/tlog-proof@v2"), "MalformedProofPart")
    malformed("index_missing", lines_replace(good, 1, "idx 0"), "MalformedProofPart")
    malformed("index_leading_zero", lines_replace(good, 1, "index 00"), "MalformedProofPart")
    malformed("index_negative", lines_replace(good, 1, "index -1"), "MalformedProofPart")
    malformed("index_too_large", lines_replace(good, 1, f"index {2**63}"), "MalformedProofPart")
    malformed("extra_not_base64", bundle(lf, m, extra="extra !!\n"), "MalformedProofPart")
    malformed("hash_not_base64", lines_replace(good, 2, "not*base64"), "MalformedProofPart")
    malformed("hash_wrong_length", lines_replace(good, 2, b64(bytes(31))), "MalformedProofPart")
    malformed("hash_non_canonical_base64", lines_replace(good, 2, lines[2][:-2] + "B="), "MalformedProofPart")
    malformed("checkpoint_without_root", good.replace(lines[7] + "\n", "", 1), "MalformedCheckpointNote")
    malformed("checkpoint_size_not_decimal", lines_replace(good, 6, "3.0"), "MalformedCheckpointNote")
    malformed("no_signature_lines", good.replace(lines[9] + "\n", "", 1), "MalformedCheckpointNote")
    malformed(
        "signature_line_without_em_dash",
        lines_replace(good, 9, "-- " + lines[9][2:]),
        "MalformedCheckpointNote",
    )
    malformed("no_trailer", good[: good.index("\nedossier.evidence@v1\n") + 1][:-1], "MalformedTrailer")
    malformed(
        "trailer_header_misspelt",
        good.replace("edossier.evidence@v1", "edossier.evidence@v2"),
        "MalformedTrailer",
    )
    malformed(
        "leaf_section_two_lines", good.replace(lf.decode() + "\n", lf.decode() + "\n{}\n"), "MalformedTrailer"
    )
    manifest_section = "-----BEGIN MANIFEST-----\n" + m.decode() + "\n-----END MANIFEST-----\n"
    malformed("manifest_section_missing", good.replace(manifest_section, ""), "MalformedTrailer")
    leaf_section = "-----BEGIN LEAF-----\n" + lf.decode() + "\n-----END LEAF-----\n"
    malformed(
        "sections_out_of_order",
        good.replace(leaf_section + manifest_section, manifest_section + leaf_section),
        "MalformedTrailer",
    )
    malformed(
        "timestamp_not_base64",
        good + "-----BEGIN TIMESTAMP TOKEN-----\n#\n-----END TIMESTAMP TOKEN-----\n",
        "MalformedTrailer",
    )
    malformed("trailing_text", good + "appended\n", "MalformedTrailer")
    malformed("crlf_line_endings", good.replace("\n", "\r\n"), "MalformedBundle")
    malformed("no_final_newline", good[:-1], "MalformedBundle")
    malformed("tab_character", good.replace("index 0", "index\t0"), "MalformedBundle")
    malformed("not_utf8", good.encode()[:40] + b"\xff\xfe" + good.encode()[40:], "MalformedBundle")
    malformed("empty", "", "MalformedBundle")

    for rel, data in out.items():
        target = HERE / rel
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode())
    for rel_file, content in FILES.items():
        (HERE / "files" / rel_file).parent.mkdir(parents=True, exist_ok=True)
        (HERE / "files" / rel_file).write_bytes(content)
    (HERE / "log.pub").write_text(KEY.verifier().to_key_string() + "\n", encoding="utf-8")
    (HERE / "other.pub").write_text(OTHER_KEY.verifier().to_key_string() + "\n", encoding="utf-8")
    doc = {
        "origin": ORIGIN,
        "archive_id": ARCHIVE_ID,
        "key": "log.pub",
        "vectors": dict(sorted(expected.items())),
    }
    (HERE / "expected.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
