"""``edossier proof``: exit 0 valid / 1 invalid / 2 malformed, one JSON object with --json, ledger proofs."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli import app as main_app
from api.cli_proof import proof_app
from tests.integrity.vectors import load

runner = CliRunner()
KAT = load("proofs_rfc6962_kat.json")
LEAVES = [bytes.fromhex(h) for h in KAT["leaves_hex"]]

# The proof commands as they will be mounted under ``edossier proof``.
app = typer.Typer()
app.add_typer(proof_app, name="proof")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def b64_hex(value: str) -> str:
    return b64(bytes.fromhex(value))


def kat_root(size: int) -> str:
    return b64_hex(KAT["roots_hex_by_size"][str(size)])


def leaf_b64(index: int) -> str:
    return b64(hashlib.sha256(b"\x00" + LEAVES[index]).digest())


def inclusion_args(kat_index: int = 5, kat_size: int = 8, **override: str) -> list[str]:
    """The arguments checking the known-answer inclusion proof, with options replaced by ``override``."""
    index, size = kat_index, kat_size
    vec = next(v for v in KAT["inclusion"] if (v["index"], v["size"]) == (index, size))
    values = {
        "--leaf-hash": leaf_b64(index),
        "--index": str(index),
        "--size": str(size),
        "--root": kat_root(size),
        "--proof": ",".join(b64_hex(h) for h in vec["proof_hex"]),
    }
    values.update({f"--{k.replace('_', '-')}": v for k, v in override.items()})
    return ["proof", "check-inclusion", *(x for kv in values.items() for x in kv)]


def consistency_args(kat_size1: int = 6, kat_size2: int = 8, **override: str) -> list[str]:
    """The arguments checking the known-answer consistency proof, with options replaced by ``override``."""
    size1, size2 = kat_size1, kat_size2
    vec = next(v for v in KAT["consistency"] if (v["size1"], v["size2"]) == (size1, size2))
    values = {
        "--size1": str(size1),
        "--size2": str(size2),
        "--root1": kat_root(size1),
        "--root2": kat_root(size2),
        "--proof": ",".join(b64_hex(h) for h in vec["proof_hex"]),
    }
    values.update({f"--{k}": v for k, v in override.items()})
    return ["proof", "check-consistency", *(x for kv in values.items() for x in kv)]


# ---------------------------------------------------------------- check-inclusion
def test_check_inclusion_of_known_answer_exits_0():
    code, stdout, _ = run(*inclusion_args())
    assert code == 0 and "valid" in stdout


def test_check_inclusion_with_wrong_root_exits_1_and_names_the_failure():
    code, _, stderr = run(*inclusion_args(root=kat_root(7)))
    assert code == 1
    assert "RootMismatch" in stderr


def test_check_inclusion_with_index_beyond_size_exits_1():
    code, stdout, _ = run(*inclusion_args(index="8"), "--json")
    assert code == 1
    assert json.loads(stdout)["error"]["class"] == "IndexOutOfRange"


def test_check_inclusion_with_empty_proof_for_one_leaf_tree_exits_0():
    code, _, _ = run(*inclusion_args(0, 1))
    assert code == 0
    code, _, _ = run(*inclusion_args(0, 1, proof=""))
    assert code == 0


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"root": "not base64!"}, "--root"),
        ({"leaf_hash": "AAAA"}, "leaf hash"),  # 3 bytes: wrong length for SHA-256
        ({"proof": "@@,AAAA"}, "--proof[0]"),
        ({"index": "-1"}, "--index"),
        ({"size": "-8"}, "--size"),
    ],
)
def test_check_inclusion_with_malformed_input_exits_2(override, needle):
    code, stdout, _ = run(*inclusion_args(**override), "--json")
    assert code == 2
    out = json.loads(stdout)
    assert out["status"] == "malformed" and out["valid"] is False
    assert needle in out["error"]["message"]


def test_check_inclusion_json_is_exactly_one_object():
    code, stdout, _ = run(*inclusion_args(), "--json")
    out = json.loads(stdout)
    assert code == 0 and out["valid"] is True and out["status"] == "valid"
    assert (out["index"], out["size"]) == (5, 8)


# ---------------------------------------------------------------- check-consistency
def test_check_consistency_of_known_answer_exits_0():
    assert run(*consistency_args())[0] == 0
    assert run(*consistency_args(2, 5))[0] == 0


def test_check_consistency_with_swapped_roots_exits_1():
    code, stdout, _ = run(*consistency_args(root1=kat_root(8), root2=kat_root(6)), "--json")
    assert code == 1
    assert json.loads(stdout)["error"]["code"] == "merkle_root_mismatch"


def test_check_consistency_with_shrinking_tree_exits_1():
    code, stdout, _ = run(*consistency_args(size1="9"), "--json")
    assert code == 1
    assert json.loads(stdout)["error"]["class"] == "SizeOrder"


def test_check_consistency_allows_an_empty_proof_for_equal_sizes():
    code, _, _ = run(*consistency_args(1, 1, proof=""))
    assert code == 0


@pytest.mark.parametrize(
    "override",
    [{"root1": "%%%"}, {"root2": b64(b"short")}, {"proof": "AAAA"}, {"size1": "-1"}, {"size2": "-2"}],
)
def test_check_consistency_with_malformed_input_exits_2(override):
    assert run(*consistency_args(**override))[0] == 2


# ---------------------------------------------------------------- proofs from the ledger
@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    """A data directory with two archived sample dossiers (leaves 0 and 1)."""
    base = tmp_path_factory.mktemp("cli_proof")
    data = str(base / "data")
    ids = []
    for seed in (11, 12):
        out = base / f"case{seed}"
        result = runner.invoke(
            main_app, ["sample", str(out), "--seed", str(seed), "--documents", "3", "--json"]
        )
        assert result.exit_code == 0, result.stdout
        folder = json.loads(result.stdout)["path"]
        result = runner.invoke(main_app, ["--data-dir", data, "ingest", folder, "--json"])
        assert result.exit_code == 0, result.stdout
        ids.append(json.loads(result.stdout)["archive_id"])
    return data, ids


def test_inclusion_from_ledger_checks_with_check_inclusion(ledger_dir):
    data, ids = ledger_dir
    code, stdout, _ = run("proof", "inclusion", ids[1], "--data-dir", data, "--json")
    got = json.loads(stdout)
    assert code == 0 and got["archive_id"] == ids[1] and got["index"] == 1
    code, _, _ = run(
        "proof",
        "check-inclusion",
        "--leaf-hash",
        got["leaf_hash"],
        "--index",
        str(got["index"]),
        "--size",
        str(got["size"]),
        "--root",
        got["root"],
        "--proof",
        ",".join(got["proof"]),
    )
    assert code == 0


def test_inclusion_human_output_prints_the_check_command(ledger_dir):
    data, ids = ledger_dir
    code, stdout, _ = run("proof", "inclusion", ids[0], "--data-dir", data)
    assert code == 0
    assert "edossier proof check-inclusion --leaf-hash" in stdout


def test_inclusion_of_unknown_archive_exits_1(ledger_dir):
    data, _ = ledger_dir
    code, stdout, _ = run("proof", "inclusion", "ED-DOES-NOT-EXIST", "--data-dir", data, "--json")
    assert code == 1 and json.loads(stdout)["found"] is False


def test_consistency_from_ledger_checks_with_check_consistency(ledger_dir):
    data, _ = ledger_dir
    code, stdout, _ = run("proof", "consistency", "1", "--data-dir", data, "--json")
    got = json.loads(stdout)
    assert code == 0 and (got["size1"], got["size2"]) == (1, 2) and len(got["proof"]) == 1
    args = ["--size1", "1", "--size2", "2", "--root1", got["root1"], "--root2", got["root2"]]
    assert run("proof", "check-consistency", *args, "--proof", ",".join(got["proof"]))[0] == 0
    assert run("proof", "check-consistency", *args, "--proof", got["root2"])[0] == 1


def test_consistency_beyond_the_ledger_exits_2(ledger_dir):
    data, _ = ledger_dir
    code, stdout, _ = run("proof", "consistency", "1", "3", "--data-dir", data, "--json")
    assert code == 2 and json.loads(stdout)["status"] == "malformed"


def test_proof_commands_need_no_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    assert run(*inclusion_args())[0] == 0
    assert list(tmp_path.iterdir()) == []
