from __future__ import annotations

import base64

import pytest

from integrity.checkpoint import Checkpoint, MalformedCheckpoint, format_checkpoint, parse_checkpoint
from tests.integrity.vectors import load

VEC = load("checkpoints.json")


@pytest.mark.parametrize("case", VEC["valid"], ids=lambda c: c["name"])
def test_parse_checkpoint_reads_valid_body(case):
    cp = parse_checkpoint(case["text"])
    assert cp == Checkpoint(
        case["origin"], case["size"], base64.b64decode(case["root_b64"]), tuple(case["extensions"])
    )


@pytest.mark.parametrize("case", VEC["valid"], ids=lambda c: c["name"])
def test_format_checkpoint_reproduces_valid_body(case):
    root = base64.b64decode(case["root_b64"])
    assert format_checkpoint(case["origin"], case["size"], root, case["extensions"]) == case["text"]


@pytest.mark.parametrize("case", VEC["invalid"], ids=lambda c: c["mutation"])
def test_parse_checkpoint_rejects_mutated_body(case):
    assert VEC["error"] == MalformedCheckpoint.code
    with pytest.raises(MalformedCheckpoint):
        parse_checkpoint(case["text"])


def test_parse_checkpoint_accepts_other_hash_size_when_asked():
    text = format_checkpoint("log.example", 3, bytes(48))
    assert parse_checkpoint(text, hash_size=48).root == bytes(48)
    with pytest.raises(MalformedCheckpoint, match="expected 32 bytes, found 48"):
        parse_checkpoint(text)


@pytest.mark.parametrize("origin", ["", "two\nlines", "tab\there"])
def test_format_checkpoint_rejects_bad_origin(origin):
    with pytest.raises(ValueError, match="origin"):
        format_checkpoint(origin, 1, bytes(32))


def test_format_checkpoint_rejects_extension_with_newline():
    with pytest.raises(ValueError, match="extension"):
        format_checkpoint("log.example", 1, bytes(32), ["a\nb"])


def test_format_checkpoint_rejects_negative_size():
    with pytest.raises(ValueError, match="-1"):
        format_checkpoint("log.example", -1, bytes(32))
