from __future__ import annotations

import pytest

from integrity.signed_note import (
    BadSignature,
    Ed25519Signer,
    Ed25519Verifier,
    MalformedNote,
    NoVerifiedSignature,
    UnknownKey,
    open_note,
    sign_note,
)
from standards.errors import BadInput, EdossierError, VerificationFailed
from tests.integrity.vectors import load

VEC = load("signed_note_go.json")
GO = VEC["valid"]


def _error_classes() -> dict[str, type[EdossierError]]:
    import integrity.signed_note as mod

    classes = [v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, EdossierError)]
    return {cls.code: cls for cls in classes}


def test_error_codes_are_distinct():
    import integrity.signed_note as mod

    classes = [v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, EdossierError)]
    local = [c for c in classes if c.__module__ == mod.__name__]
    assert len({c.code for c in local}) == len(local) == 7


def test_go_signer_key_signs_go_note_byte_for_byte():
    signer = Ed25519Signer.from_key_string(GO["signer_key"])
    assert sign_note(GO["text"], signer) == GO["note"]


def test_go_signer_key_derives_go_verifier_key():
    signer = Ed25519Signer.from_key_string(GO["signer_key"])
    assert signer.verifier().to_key_string() == GO["verifier_key"]
    assert signer.key_id.hex() == GO["key_id_hex"]
    assert signer.to_key_string() == GO["signer_key"]


def test_open_note_verifies_go_note():
    verifier = Ed25519Verifier.from_key_string(GO["verifier_key"])
    text, names = open_note(GO["note"], [verifier])
    assert text == GO["text"]
    assert names == (GO["name"],)


@pytest.mark.parametrize("key", GO["other_verifier_keys"])
def test_verifier_key_strings_round_trip(key):
    assert Ed25519Verifier.from_key_string(key).to_key_string() == key


@pytest.mark.parametrize("case", VEC["invalid_notes"], ids=lambda c: c["mutation"])
def test_open_note_rejects_mutated_note_with_expected_error(case):
    verifier = Ed25519Verifier.from_key_string(GO["verifier_key"])
    expected = _error_classes()[case["error"]]
    with pytest.raises(expected) as info:
        open_note(case["note"], [verifier])
    assert type(info.value) is expected


@pytest.mark.parametrize("case", VEC["invalid_verifier_keys"], ids=lambda c: c["mutation"])
def test_verifier_from_key_string_rejects_mutated_key(case):
    expected = _error_classes()[case["error"]]
    with pytest.raises(expected) as info:
        Ed25519Verifier.from_key_string(case["key"])
    assert type(info.value) is expected


@pytest.mark.parametrize("case", VEC["invalid_signer_keys"], ids=lambda c: c["mutation"])
def test_signer_from_key_string_rejects_mutated_key(case):
    expected = _error_classes()[case["error"]]
    with pytest.raises(expected) as info:
        Ed25519Signer.from_key_string(case["key"])
    assert type(info.value) is expected


def test_open_note_rejects_note_with_no_trusted_verifiers():
    with pytest.raises(UnknownKey, match="PeterNeumann\\+c74f20a3"):
        open_note(GO["note"], [])


def test_unknown_key_is_a_no_verified_signature_failure():
    assert issubclass(UnknownKey, NoVerifiedSignature)
    assert issubclass(NoVerifiedSignature, VerificationFailed)
    assert issubclass(BadSignature, VerificationFailed)
    assert issubclass(MalformedNote, BadInput)


def test_open_note_accepts_extra_unknown_signature():
    peter = Ed25519Signer.from_key_string(GO["signer_key"])
    other = Ed25519Signer("EnochRoot", bytes(range(32)))
    note = sign_note(GO["text"], other, peter)
    assert open_note(note, [peter.verifier()]) == (GO["text"], ("PeterNeumann",))


def test_open_note_reports_all_verified_signers():
    a = Ed25519Signer("court.example/ledger", bytes(32))
    b = Ed25519Signer("witness.example", bytes([7]) * 32)
    note = sign_note("origin\n1\n", a, b)
    assert open_note(note, [b.verifier(), a.verifier()]).verified == (
        "court.example/ledger",
        "witness.example",
    )


def test_open_note_fails_when_one_trusted_signature_is_bad():
    a = Ed25519Signer("a.example", bytes(32))
    b = Ed25519Signer("b.example", bytes([7]) * 32)
    good = sign_note("hello\n", a)
    forged_b = sign_note("other\n", b).split("\n\n")[1]
    with pytest.raises(BadSignature, match=r"b\.example"):
        open_note(good + forged_b, [a.verifier(), b.verifier()])


def test_open_note_rejects_duplicate_verifiers():
    v = Ed25519Verifier.from_key_string(GO["verifier_key"])
    with pytest.raises(ValueError, match="ambiguous"):
        open_note(GO["note"], [v, v])


def test_sign_note_rejects_text_without_final_newline():
    with pytest.raises(MalformedNote, match="newline"):
        sign_note("no newline", Ed25519Signer("x", bytes(32)))


def test_sign_note_requires_a_signer():
    with pytest.raises(ValueError, match="at least one signer"):
        sign_note("x\n")


def test_signed_note_round_trips_unicode_text():
    s = Ed25519Signer.generate("法院.example/档案")
    text = "（2024）京0105民初123号\n电子卷宗\n"
    assert open_note(sign_note(text, s), [s.verifier()]).text == text


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\tname", "nbsp\u00a0name"])
def test_signer_rejects_invalid_key_name(name):
    with pytest.raises(ValueError, match="invalid key name"):
        Ed25519Signer(name, bytes(32))


def test_signer_repr_hides_private_key():
    s = Ed25519Signer.from_key_string(GO["signer_key"])
    assert "AYEK" not in repr(s)
    assert "c74f20a3" in repr(s)
