"""Evidence bundles: the text format (vectors), offline verification, and gathering from a real ingest."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from api.wiring import Installation, initialise, open_installation
from archive.catalog.models import Checkpoint as CheckpointRow
from archive.sample import generate_sample
from archive.settings import Settings
from integrity import evidence as ev
from integrity.evidence import EvidenceBundle, ObservedFile, check_bundle, format_bundle, parse_bundle
from integrity.evidence_checks import check_files
from integrity.hashing import digest_bytes
from integrity.ledger.evidence import StoredManifestMismatch, gather_evidence
from integrity.ledger.proofs import ArchiveNotInLedger
from integrity.ledger.timestamps import timestamp_checkpoint
from integrity.signed_note import Ed25519Signer, Ed25519Verifier, sign_note
from integrity.sm2 import Sm2Signer, parse_verifier_key
from integrity.timestamp import TsaClient, parse_roots_pem, verify_token
from standards.errors import EdossierError
from tests.support.tsa import TestTsa
from tests.support.tsa import tsa as tsa  # fixture; drop once conftest lists tests.support.tsa

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "ledger" / "evidence"
EXPECTED: dict[str, Any] = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
KEY = Ed25519Verifier.from_key_string((VECTORS / "log.pub").read_text(encoding="utf-8").strip())
NOW = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


def vectors(kind: str) -> list[str]:
    return [name for name in EXPECTED["vectors"] if name.startswith(kind + "/")]


def observed(folder: Path) -> dict[str, ObservedFile]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            out[path.relative_to(folder).as_posix()] = ObservedFile(len(data), digest_bytes(data))
    return out


def failed(verdict: ev.Verdict) -> dict[str, str | None]:
    return {c.name: c.code for c in verdict.failures()}


# ---------------------------------------------------------------- vectors
@pytest.mark.parametrize("name", vectors("valid"))
def test_valid_vector_verifies_and_reformats_byte_for_byte(name: str) -> None:
    text = (VECTORS / name).read_bytes()
    bundle = parse_bundle(text)
    verdict = check_bundle(bundle, [KEY], files=observed(VECTORS / "files"), origin=EXPECTED["origin"])

    assert verdict.valid, verdict.failures()
    assert len(verdict.warnings) == EXPECTED["vectors"][name]["warnings"]
    assert format_bundle(bundle).encode() == text


@pytest.mark.parametrize("name", vectors("invalid"))
def test_invalid_vector_fails_exactly_its_named_checks(name: str) -> None:
    verdict = check_bundle(parse_bundle((VECTORS / name).read_bytes()), [KEY])

    assert not verdict.valid
    assert failed(verdict) == EXPECTED["vectors"][name]["failed"]
    with pytest.raises(EdossierError) as raised:
        ev.verify_bundle(parse_bundle((VECTORS / name).read_bytes()), [KEY])
    assert raised.value.code == verdict.failures()[0].code


@pytest.mark.parametrize("name", vectors("malformed"))
def test_malformed_vector_is_refused_with_its_error_class(name: str) -> None:
    with pytest.raises(ev.MalformedBundle) as raised:
        parse_bundle((VECTORS / name).read_bytes())
    assert type(raised.value).__name__ == EXPECTED["vectors"][name]["error"]


def test_proof_part_is_a_c2sp_tlog_proof_in_the_go_layout() -> None:
    bundle = parse_bundle((VECTORS / "valid" / "genuine.tlog-proof").read_bytes())
    # transparency-dev/formats proof.TLogProof.Marshal: header, index, hashes, blank line, checkpoint
    marshal = (
        "c2sp.org/tlog-proof@v1\n"
        f"index {bundle.index}\n"
        + "".join(base64.b64encode(h).decode() + "\n" for h in bundle.proof)
        + "\n"
        + bundle.note
    )
    assert ev.proof_text(bundle) == marshal


def test_check_bundle_rejects_bundle_under_a_key_it_does_not_trust() -> None:
    other = Ed25519Verifier.from_key_string((VECTORS / "other.pub").read_text(encoding="utf-8").strip())
    verdict = check_bundle(parse_bundle((VECTORS / "valid" / "genuine.tlog-proof").read_bytes()), [other])

    assert failed(verdict) == {"signature": "note_unknown_key"}


def test_check_bundle_rejects_checkpoint_of_another_origin() -> None:
    bundle = parse_bundle((VECTORS / "valid" / "genuine.tlog-proof").read_bytes())
    verdict = check_bundle(bundle, [KEY], origin="court.example/other-log")

    assert failed(verdict) == {"origin": "evidence_origin_mismatch"}


def test_unverifiable_timestamp_token_fails_when_a_verifier_is_given() -> None:
    bundle = parse_bundle((VECTORS / "valid" / "with_unverified_timestamp.tlog-proof").read_bytes())
    verdict = check_bundle(
        bundle, [KEY], verify_timestamp=lambda token, data: str(verify_token(token, data, []))
    )

    assert failed(verdict) == {"timestamp": "timestamp_malformed"}
    assert verdict.warnings == ()


def test_verdict_of_no_checks_is_not_valid() -> None:
    assert not ev.Verdict(()).valid


def test_format_bundle_refuses_a_leaf_that_is_not_one_line() -> None:
    bundle = parse_bundle((VECTORS / "valid" / "genuine.tlog-proof").read_bytes())
    with pytest.raises(ValueError, match="leaf"):
        format_bundle(dataclasses.replace(bundle, leaf=b'{"a":\n1}'))


# ---------------------------------------------------------------- files
def test_check_files_names_each_changed_and_missing_file_and_warns_of_extras() -> None:
    manifest = json.loads(parse_bundle((VECTORS / "valid" / "genuine.tlog-proof").read_bytes()).manifest)
    seen = observed(VECTORS / "files")
    content, description = sorted(seen)
    same_size = b"X" * seen[content].size
    seen[content] = ObservedFile(len(same_size), digest_bytes(same_size))
    del seen[description]
    seen["extra.txt"] = ObservedFile(3, {})

    checks, warnings = check_files(manifest, seen)

    assert [(c.name, c.path, c.code) for c in checks if not c.passed] == [
        ("file", content, "evidence_file_digest_mismatch"),
        ("file", description, "evidence_file_missing"),
        ("files", None, "evidence_files_differ"),
    ]
    assert warnings == ["extra.txt: in the folder but not listed in the manifest"]


def test_check_files_compares_sm3_too() -> None:
    manifest = json.loads(parse_bundle((VECTORS / "valid" / "genuine.tlog-proof").read_bytes()).manifest)
    seen = observed(VECTORS / "files")
    path = sorted(seen)[0]
    seen[path] = ObservedFile(seen[path].size, {**seen[path].digests, "sm3": "0" * 64})

    checks, _ = check_files(manifest, seen)

    assert checks[0].code == "evidence_file_digest_mismatch" and "sm3" in checks[0].detail


# ---------------------------------------------------------------- gathering from a real ingest
@pytest.fixture(scope="module")
def archived(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Installation, list[str], list[Path]]]:
    """An installation with two ingested sample dossiers (the first is leaf 0 of a tree of 2)."""
    root = tmp_path_factory.mktemp("evidence")
    settings = Settings(data_dir=root / "data", database_url=f"sqlite:///{root / 'catalog.sqlite3'}")
    initialise(settings)
    inst = open_installation(settings)
    ids, folders = [], []
    for seed in (21, 22):
        folder = generate_sample(root / f"case{seed}", seed=seed, documents=3, now=NOW).path
        outcome = inst.ingest_service().ingest(folder)
        assert outcome.status == "archived" and outcome.archive_id, outcome.errors
        ids.append(outcome.archive_id)
        folders.append(folder)
    yield inst, ids, folders
    inst.close()


@contextmanager
def rolled_back(inst: Installation) -> Iterator[Any]:
    with inst.write_sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def gather(inst: Installation, session: Any, archive_id: str, store: Any = None) -> EvidenceBundle:
    return gather_evidence(
        session,
        store or inst.store,
        archive_id,
        signers=inst.signer,
        origin=inst.settings.ledger_origin,
        now=NOW,
    )


def test_genuine_bundle_from_real_ingest_verifies_with_its_files(archived) -> None:
    inst, ids, folders = archived
    with rolled_back(inst) as session:
        bundle = gather(inst, session, ids[0])
    text = format_bundle(bundle)

    verdict = check_bundle(parse_bundle(text), [inst.signer.verifier()], files=observed(folders[0]))

    assert verdict.valid, verdict.failures()
    assert (bundle.index, len(bundle.proof), text.split("\n")[:2]) == (
        0,
        1,
        ["c2sp.org/tlog-proof@v1", "index 0"],
    )
    assert {c.name for c in verdict.checks} >= {
        "signature",
        "inclusion",
        "manifest-digest",
        "archive-id",
        "files",
    }


def test_gather_accepts_the_case_number_and_proves_into_the_latest_checkpoint(archived) -> None:
    inst, ids, _ = archived
    with rolled_back(inst) as session:
        by_id = gather(inst, session, ids[1])
        case_number = json.loads(by_id.leaf)["case_number"]
        by_case = gather(inst, session, case_number)
    assert by_case == by_id
    assert by_id.note.split("\n")[1] == "2"


def _flip_last_signature(note: str) -> str:
    """Flip one bit of the signature (not the key id) on the note's last signature line."""
    body, _, line = note[:-1].rpartition("\n")
    prefix, _, b64 = line.rpartition(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    return f"{body}\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"


TAMPERS = {
    "leaf_json": (
        lambda b: dataclasses.replace(b, leaf=b.leaf.replace(b'"document_count":3', b'"document_count":4')),
        {"inclusion": "merkle_root_mismatch"},
    ),
    "manifest": (
        lambda b: dataclasses.replace(b, manifest=b.manifest.replace(b'"version":1', b'"version":2')),
        {"manifest-digest": "evidence_manifest_digest_mismatch"},
    ),
    "proof_hash": (
        lambda b: dataclasses.replace(b, proof=(bytes([b.proof[0][0] ^ 1]) + b.proof[0][1:],)),
        {"inclusion": "merkle_root_mismatch"},
    ),
    "checkpoint_body": (
        lambda b: dataclasses.replace(b, note=b.note.replace("\n2\n", "\n3\n", 1)),
        {"signature": "note_bad_signature", "inclusion": "merkle_proof_length"},
    ),
    "signature": (
        lambda b: dataclasses.replace(b, note=_flip_last_signature(b.note)),
        {"signature": "note_bad_signature"},
    ),
}


@pytest.mark.parametrize("what", sorted(TAMPERS))
def test_tampered_real_bundle_is_rejected_with_its_named_reason(archived, what: str) -> None:
    inst, ids, _ = archived
    with rolled_back(inst) as session:
        genuine = gather(inst, session, ids[0])
    tamper, reasons = TAMPERS[what]

    verdict = check_bundle(parse_bundle(format_bundle(tamper(genuine))), [inst.signer.verifier()])

    assert failed(verdict) == reasons


def test_real_bundle_under_a_wrong_key_is_rejected(archived) -> None:
    inst, ids, _ = archived
    with rolled_back(inst) as session:
        bundle = gather(inst, session, ids[0])
    impostor = Ed25519Signer(inst.signer.name, bytes(32)).verifier()

    assert failed(check_bundle(bundle, [impostor])) == {"signature": "note_unknown_key"}


@pytest.mark.parametrize("change", ["bytes", "missing"])
def test_real_bundle_with_a_changed_or_missing_file_names_the_file(
    archived, tmp_path: Path, change: str
) -> None:
    inst, ids, folders = archived
    with rolled_back(inst) as session:
        bundle = gather(inst, session, ids[0])
    folder = shutil.copytree(folders[0], tmp_path / "copy")
    victim = sorted(p for p in folder.rglob("*.pdf"))[0]
    rel = victim.relative_to(folder).as_posix()
    if change == "bytes":
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    else:
        victim.unlink()

    verdict = check_bundle(bundle, [inst.signer.verifier()], files=observed(folder))

    code = "evidence_file_digest_mismatch" if change == "bytes" else "evidence_file_missing"
    assert [(c.path, c.code) for c in verdict.failures() if c.name == "file"] == [(rel, code)]


def test_gather_signs_a_checkpoint_when_none_covers_the_leaf(archived) -> None:
    inst, ids, _ = archived
    with rolled_back(inst) as session:
        session.execute(delete(CheckpointRow))
        bundle = gather(inst, session, ids[1])
        count = session.scalar(select(func.count()).select_from(CheckpointRow))

    assert count == 1
    assert check_bundle(bundle, [inst.signer.verifier()]).valid


def test_gather_refuses_unknown_archive(archived) -> None:
    inst, _, _ = archived
    with rolled_back(inst) as session, pytest.raises(ArchiveNotInLedger):
        gather(inst, session, "ED-0000-0000000000000000")


class _SwappedManifest:
    """A store whose objects all read as other bytes (a damaged or substituted manifest)."""

    def open(self, key: str) -> io.BytesIO:
        return io.BytesIO(b'{"archive_id":"ED-x","files":[]}')


def test_gather_refuses_a_stored_manifest_that_differs_from_the_catalog(archived) -> None:
    inst, ids, _ = archived
    with rolled_back(inst) as session, pytest.raises(StoredManifestMismatch):
        gather(inst, session, ids[0], store=_SwappedManifest())


def test_bundle_carries_the_checkpoint_timestamp_and_verifies_it(archived, tsa: TestTsa) -> None:
    inst, ids, _ = archived
    roots = parse_roots_pem(tsa.roots_pem.read_bytes())
    with rolled_back(inst) as session:
        checkpoint_id = session.scalar(select(func.max(CheckpointRow.id)))
        timestamp_checkpoint(session, checkpoint_id, TsaClient(tsa.url), roots, now=NOW)
        bundle = gather(inst, session, ids[0])
    other = TsaClient(tsa.url).stamp_verified(b"another checkpoint\n", roots).token

    def verify(token: bytes, data: bytes) -> str:
        return str(verify_token(token, data, roots).gen_time)

    stamped = check_bundle(bundle, [inst.signer.verifier()], verify_timestamp=verify)
    unverified = check_bundle(bundle, [inst.signer.verifier()])
    swapped = check_bundle(
        dataclasses.replace(bundle, timestamps=(other,)), [inst.signer.verifier()], verify_timestamp=verify
    )

    assert len(bundle.timestamps) == 1 and parse_bundle(format_bundle(bundle)) == bundle
    assert stamped.valid and [c.name for c in stamped.checks].count("timestamp") == 1
    assert unverified.valid and unverified.warnings == (
        "timestamp token 1: present, not verified (no TSA root certificates given)",
    )
    assert failed(swapped) == {"timestamp": "timestamp_imprint_mismatch"}


def test_bundle_cosigned_with_sm2_verifies_under_either_key_alone() -> None:
    genuine = parse_bundle((VECTORS / "valid" / "genuine.tlog-proof").read_bytes())
    ed25519 = Ed25519Signer("edossier.test", bytes(range(32)))
    sm2 = Sm2Signer.generate("edossier.test-sm2")
    note = sign_note(genuine.checkpoint_body(), ed25519, sm2)
    bundle = parse_bundle(format_bundle(dataclasses.replace(genuine, note=note)))

    for key in (ed25519.verifier().to_key_string(), sm2.verifier().to_key_string()):
        assert check_bundle(bundle, [parse_verifier_key(key)]).valid, key
