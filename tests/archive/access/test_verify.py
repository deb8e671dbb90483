"""verified_chunks: the last chunk is released only after the whole stream matched (vectors + Hypothesis)."""

from __future__ import annotations

import doctest
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archive.access.errors as access_errors
import archive.access.verify as verify_module
from archive.access.errors import AccessDigestMismatch
from archive.access.verify import verified_chunks
from standards.errors import VerificationFailed

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "access" / "streams.json").read_text("utf-8"))
CHUNK_SIZES: list[int] = VECTORS["chunk_sizes"]


def original(length: int) -> bytes:
    return bytes((7 * i + 3) % 256 for i in range(length))


def mutate(data: bytes, mutation: dict[str, Any]) -> bytes:
    if "flip" in mutation:
        out = bytearray(data)
        out[mutation["flip"]] ^= 0x01
        return bytes(out)
    if "truncate" in mutation:
        return data[: len(data) - mutation["truncate"]]
    extra = data if mutation["extend"] == "self" else bytes.fromhex(mutation["extend"])
    return data + extra


class TrackingReader(io.BytesIO):
    """A BytesIO that remembers how much was read and whether its end was seen; reads at most ``cap``."""

    def __init__(self, data: bytes, cap: int | None = None) -> None:
        super().__init__(data)
        self.consumed = 0
        self.eof = False
        self.cap = cap

    def read(self, n: int | None = -1) -> bytes:
        if self.cap is not None and n is not None and n > 0:
            n = min(n, self.cap)
        data = super().read(n)
        self.consumed += len(data)
        self.eof = self.eof or not data
        return data


def drain(reader: TrackingReader, sha: str, size: int, chunk: int) -> tuple[list[bytes], Exception | None]:
    """Consume the generator; at every yield check that the chunk was not the end of an unverified stream."""
    got: list[bytes] = []
    try:
        for piece in verified_chunks(reader, sha, size, chunk):
            got.append(piece)
            yielded = sum(map(len, got))
            assert reader.eof or reader.consumed > yielded, "a chunk was released before a later read"
    except AccessDigestMismatch as exc:
        return got, exc
    return got, None


def _cases(kind: str) -> Iterator[Any]:
    for case in VECTORS[kind]:
        for chunk in CHUNK_SIZES:
            yield pytest.param(case, chunk, id=f"{case['name']}-chunk{chunk}")


@pytest.mark.parametrize(("case", "chunk"), list(_cases("valid")))
def test_valid_vector_yields_exactly_the_stored_bytes(case: dict[str, Any], chunk: int) -> None:
    data = original(case["length"])
    reader = TrackingReader(data)

    got, error = drain(reader, hashlib.sha256(data).hexdigest(), len(data), chunk)

    assert error is None and b"".join(got) == data and reader.eof
    assert all(got)  # never an empty chunk


@pytest.mark.parametrize(("case", "chunk"), list(_cases("invalid")))
def test_invalid_vector_fails_before_its_last_chunk(case: dict[str, Any], chunk: int) -> None:
    data = original(case["length"])
    stored = mutate(data, case["mutation"])
    expected_sha = hashlib.sha256(data).hexdigest()

    got, error = drain(TrackingReader(stored), expected_sha, len(data), chunk)

    assert isinstance(error, getattr(access_errors, case["error"]))
    assert isinstance(error, VerificationFailed) and error.code == "access_digest_mismatch"
    received = b"".join(got)
    assert stored.startswith(received)
    assert len(received) < len(data) or received == b""  # never the whole expected file
    assert (error.expected_sha256, error.expected_size) == (expected_sha, len(data))
    assert (error.found_sha256, error.found_size) == (hashlib.sha256(stored).hexdigest(), case["found_size"])
    assert expected_sha in error.message and error.found_sha256 in error.message


def test_file_smaller_than_one_chunk_yields_nothing_before_the_end_was_read() -> None:
    data = b"short dossier page"
    reader = TrackingReader(data)
    chunks = verified_chunks(reader, hashlib.sha256(data).hexdigest(), len(data), chunk_size=1024)

    first = next(chunks)

    assert reader.eof and first == data
    assert list(chunks) == []


def test_file_smaller_than_one_chunk_with_a_flipped_byte_yields_nothing() -> None:
    data = b"short dossier page"
    reader = TrackingReader(b"short dossier pagf")

    with pytest.raises(AccessDigestMismatch):
        next(verified_chunks(reader, hashlib.sha256(data).hexdigest(), len(data), chunk_size=1024))


def test_empty_file_yields_nothing_and_passes() -> None:
    assert list(verified_chunks(io.BytesIO(b""), hashlib.sha256(b"").hexdigest(), 0)) == []


def test_extended_stream_never_passes_on_more_than_the_expected_size() -> None:
    data = original(100)
    reader = TrackingReader(data + b"\x00" * 10_000)
    got, error = drain(reader, hashlib.sha256(data).hexdigest(), 100, 60)

    assert error is not None and error.found_size == 10_100
    assert sum(map(len, got)) <= 60


def test_error_names_the_key_and_both_digests_in_its_diagnostics() -> None:
    data = original(10)
    chunks = verified_chunks(
        io.BytesIO(b"x" * 10), hashlib.sha256(data).hexdigest(), 10, key="blobs/sha256/ab"
    )

    with pytest.raises(AccessDigestMismatch) as caught:
        list(chunks)

    assert caught.value.path == "blobs/sha256/ab" and "'blobs/sha256/ab'" in caught.value.message
    assert hashlib.sha256(data).hexdigest() in caught.value.diagnostics()


def test_uppercase_expected_digest_is_accepted() -> None:
    data = original(10)
    assert b"".join(verified_chunks(io.BytesIO(data), hashlib.sha256(data).hexdigest().upper(), 10)) == data


@pytest.mark.parametrize(
    ("sha", "size", "chunk"),
    [("ab" * 31, 1, 1), ("zz" * 32, 1, 1), ("ab" * 32, -1, 1), ("ab" * 32, 1, 0), ("ab" * 32, 1, -5)],
    ids=["short-digest", "not-hex", "negative-size", "zero-chunk", "negative-chunk"],
)
def test_caller_bugs_raise_value_error_at_the_call(sha: str, size: int, chunk: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        verified_chunks(io.BytesIO(b"x"), sha, size, chunk)


def test_reader_errors_pass_through_unchanged() -> None:
    class Broken(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            raise ConnectionResetError("peer reset")

    with pytest.raises(ConnectionResetError):
        list(verified_chunks(Broken(), "ab" * 32, 5))


# ---------------------------------------------------------------- properties
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), chunk=st.integers(1, 4200), cap=st.none() | st.integers(1, 500))
def test_any_clean_stream_is_yielded_whole_at_any_chunk_and_read_size(
    data: bytes, chunk: int, cap: int | None
) -> None:
    got, error = drain(TrackingReader(data, cap), hashlib.sha256(data).hexdigest(), len(data), chunk)

    assert error is None and b"".join(got) == data


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=3000),
    chunk=st.integers(1, 4200),
    cap=st.none() | st.integers(1, 500),
    where=st.floats(0, 1, exclude_max=True),
    mask=st.integers(1, 255),
)
def test_any_changed_byte_fails_and_the_whole_file_is_never_released(
    data: bytes, chunk: int, cap: int | None, where: float, mask: int
) -> None:
    stored = bytearray(data)
    stored[int(where * len(data))] ^= mask

    got, error = drain(TrackingReader(bytes(stored), cap), hashlib.sha256(data).hexdigest(), len(data), chunk)

    assert error is not None and sum(map(len, got)) < len(data)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), chunk=st.integers(1, 4200), cut=st.integers(1, 3001), extra=st.binary())
def test_any_truncated_or_extended_stream_fails(data: bytes, chunk: int, cut: int, extra: bytes) -> None:
    sha = hashlib.sha256(data).hexdigest()
    for stored in (data[: max(0, len(data) - cut)] if data else None, data + extra if extra else None):
        if stored is None:
            continue
        got, error = drain(TrackingReader(stored), sha, len(data), chunk)
        assert error is not None and error.found_size == len(stored)
        assert sum(map(len, got)) < max(len(data), 1)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(verify_module).failed == 0
