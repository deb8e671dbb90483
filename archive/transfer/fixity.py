"""其他/固化信息.json: the SHA-256 and SM3 of every file of a transfer package, computed at export (pure).

DA/T 93-2022 Annex B puts "fixity verification information" into 其他; DA/T 70 YJ-1-14 compares the
digests computed before the transfer with those recomputed at accession. The document covers every
file except itself and the 登记表 files written after it (the signed 登记表 names its SHA-256, so the
signature covers it in turn). JSON, not XML: machines read it; UTF-8, sorted keys, one file per line.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from archive.transfer.errors import TransferDocumentInvalid
from archive.transfer.layout import FIXITY
from standards.limits import Limits
from standards.package import StagedFile

FORMAT = "edossier.transfer.fixity/1"
ALGORITHMS = ("sha256", "sm3")


@dataclass(frozen=True)
class FixityList:
    """The parsed document: transfer id and ``path → (size, {algorithm: hex})``."""

    transfer_id: str
    files: Mapping[str, tuple[int, Mapping[str, str]]]


@dataclass(frozen=True)
class FixityMismatch:
    """One disagreement between 固化信息 and the files found: ``kind`` missing | unlisted | size | digest."""

    path: str
    kind: str
    expected: str
    found: str


def render_fixity(transfer_id: str, created_at: str, files: Iterable[StagedFile]) -> bytes:
    """The document for ``files`` (every file but those :data:`layout.NOT_IN_FIXITY` names)."""
    records = [
        {"path": f.path, "size": f.size, **{a: f.digests[a] for a in ALGORITHMS}}
        for f in sorted(files, key=lambda f: f.path.encode("utf-8"))
    ]
    head = json.dumps(
        {
            "format": FORMAT,
            "transfer_id": transfer_id,
            "created_at": created_at,
            "algorithms": list(ALGORITHMS),
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    lines = ",\n".join("  " + json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records)
    return (head[:-1] + ', "files": [\n' + lines + "\n]}\n").encode("utf-8")


def _bad(message: str) -> TransferDocumentInvalid:
    return TransferDocumentInvalid(f"{FIXITY}: {message}", path=FIXITY)


def parse_fixity(data: bytes, *, limits: Limits) -> FixityList:
    """Read 固化信息.json (bounded by ``limits.xml_bytes``, like every description file we parse).

    Raises:
        TransferDocumentInvalid: too large, not JSON, another format, or a malformed record.
    """
    if len(data) > limits.xml_bytes:
        raise _bad(f"{len(data)} bytes; expected at most {limits.xml_bytes} (limits.xml_bytes)")
    try:
        doc: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(f"not UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad(
            f"format: expected {FORMAT!r}, found {str(doc.get('format') if isinstance(doc, dict) else doc)[:60]!r}"
        )
    records = doc.get("files")
    if not isinstance(records, list):
        raise _bad("files: expected a list")
    out: dict[str, tuple[int, dict[str, str]]] = {}
    for index, r in enumerate(records):
        if not isinstance(r, dict) or not isinstance(r.get("path"), str):
            raise _bad(f"files[{index}]: expected an object with a path")
        size = r.get("size")
        digests = {a: r.get(a) for a in ALGORITHMS}
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _bad(f"files[{index}].size: expected a byte count, found {size!r}")
        if not all(isinstance(v, str) and len(v) == 64 for v in digests.values()):
            raise _bad(f"files[{index}]: expected sha256 and sm3 as 64 hex digits")
        if r["path"] in out:
            raise _bad(f"files[{index}].path: {r['path'][:80]!r} listed twice")
        out[r["path"]] = (size, {a: str(v).lower() for a, v in digests.items()})
    return FixityList(transfer_id=str(doc.get("transfer_id", "")), files=out)


def compare_fixity(fixity: FixityList, found: Mapping[str, StagedFile]) -> list[FixityMismatch]:
    """Every disagreement between the list and the files ``found`` (path → staged file, hashed now)."""
    out: list[FixityMismatch] = []
    for path, (size, digests) in sorted(fixity.files.items()):
        f = found.get(path)
        if f is None:
            out.append(FixityMismatch(path, "missing", f"{size} bytes", "absent"))
            continue
        if f.size != size:
            out.append(FixityMismatch(path, "size", f"{size} bytes", f"{f.size} bytes"))
        for algorithm in ALGORITHMS:
            actual = f.digests.get(algorithm, "")
            if not hmac.compare_digest(digests[algorithm].encode(), actual.lower().encode()):
                out.append(
                    FixityMismatch(
                        path, "digest", f"{algorithm}:{digests[algorithm]}", f"{algorithm}:{actual}"
                    )
                )
    for path in sorted(set(found) - set(fixity.files)):
        out.append(FixityMismatch(path, "unlisted", "not present", f"{found[path].size} bytes"))
    return out
