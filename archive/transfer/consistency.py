"""Do 说明文件 and 固化信息 agree with the files of a transfer package? (pure; DA/T 70 YJ-1-12, 1-14, 2-1, 2-2)

* :func:`description_findings` — 说明文件 案卷数, 计算机文件数 and 总字节数 against what is there (YJ-2-1,
  YJ-2-2); its 起止档号, 字符编码 UTF-8 and 摘要算法 (YJ-1-12); the 移交标识 of 移交清单 and 固化信息;
* :func:`check_document_total` — 说明文件 文件数 against the documents the records' 目录文件 list, once
  every record's court package was validated (YJ-2-1);
* :func:`fixity_findings` — 固化信息 lists exactly the files found, with the same size, SHA-256 and SM3
  (YJ-1-14), each difference attributed to its record when it lies in a record folder.
"""

from __future__ import annotations

from collections.abc import Mapping

from archive.transfer.documents import TransferDescription, TransferDocuments, TransferEntry
from archive.transfer.findings import Finding
from archive.transfer.fixity import compare_fixity
from archive.transfer.layout import (
    CATALOG,
    DESCRIPTION,
    ENCODING,
    FIXITY,
    NOT_IN_FIXITY,
    TRANSFER_LIST,
    RecordCode,
)
from standards.package import StagedFile


def description_findings(
    docs: TransferDocuments, codes: Mapping[str, tuple[RecordCode, TransferEntry]], files: int, total: int
) -> list[Finding]:
    d = docs.description
    if d is None:
        return []
    out: list[Finding] = []
    entries = sorted((e for _, e in codes.values()), key=lambda e: e.sequence)
    checks = [
        ("YJ-2-1", "transfer_record_count_mismatch", "案卷数", d.record_count, len(docs.catalog or [])),
        ("YJ-2-1", "transfer_file_count_mismatch", "计算机文件数", d.file_count, files),
        ("YJ-2-2", "transfer_bytes_mismatch", "总字节数", d.total_bytes, total),
    ]
    for item, code, label, declared, found in checks:
        if declared != found:
            out.append(
                Finding(
                    item,
                    code,
                    f"说明文件记载{label} {declared}，实际为 {found}",
                    f"{DESCRIPTION}: {label} expected {declared}, found {found}",
                    DESCRIPTION,
                )
            )
    if entries and (d.first_code, d.last_code) != (entries[0].archival_code, entries[-1].archival_code):
        out.append(
            Finding(
                "YJ-1-12",
                "transfer_code_range_mismatch",
                f"说明文件起止档号 {d.first_code}—{d.last_code} 与目录文件 {entries[0].archival_code}—"
                f"{entries[-1].archival_code} 不符",
                f"{DESCRIPTION}: 起止档号 do not match {CATALOG}",
                DESCRIPTION,
            )
        )
    if d.encoding.upper().replace("_", "-") != ENCODING:
        out.append(
            Finding(
                "YJ-1-12",
                "transfer_encoding_unexpected",
                f"说明文件记载字符编码“{d.encoding}”，应为 UTF-8",
                f"{DESCRIPTION}: 字符编码 expected UTF-8, found {d.encoding!r}",
                DESCRIPTION,
            )
        )
    if set(d.digest_algorithms) != {"sha256", "sm3"}:
        out.append(
            Finding(
                "YJ-1-12",
                "transfer_algorithms_unexpected",
                "说明文件应声明摘要算法 SHA-256 与 SM3",
                f"{DESCRIPTION}: 摘要算法 expected SHA-256 and SM3",
                DESCRIPTION,
            )
        )
    for other, where in (
        (docs.list_id, TRANSFER_LIST),
        (docs.fixity.transfer_id if docs.fixity else None, FIXITY),
    ):
        if other is not None and other != d.transfer_id:
            out.append(
                Finding(
                    "YJ-1-12",
                    "transfer_id_mismatch",
                    f"{where} 的移交标识“{other[:60]}”与说明文件不符",
                    f"{where}: transfer id {other[:60]!r} differs from {DESCRIPTION}",
                    where,
                )
            )
    return out


def check_document_total(description: TransferDescription | None, documents: int) -> list[Finding]:
    """说明文件 文件数 vs the documents the records' 目录文件 list (YJ-2-1), once every record was validated."""
    if description is None or description.document_count == documents:
        return []
    return [
        Finding(
            "YJ-2-1",
            "transfer_document_count_mismatch",
            f"说明文件记载文件数 {description.document_count}，各案卷目录文件共登记 {documents} 件",
            f"{DESCRIPTION}: 文件数 expected {description.document_count}, found {documents}",
            DESCRIPTION,
        )
    ]


def fixity_findings(
    inventory: Mapping[str, StagedFile], docs: TransferDocuments, by_folder: Mapping[str, RecordCode]
) -> list[Finding]:
    if docs.fixity is None:
        return []
    covered = {p: f for p, f in inventory.items() if p not in NOT_IN_FIXITY}
    out: list[Finding] = []
    for m in compare_fixity(docs.fixity, covered):
        code = by_folder.get("/".join(m.path.split("/")[:3]))
        record = code.text if code is not None else None
        zh = {
            "missing": f"固化信息登记的文件 {m.path} 缺失",
            "unlisted": f"文件 {m.path} 未登记在固化信息中",
            "size": f"文件 {m.path} 大小应为 {m.expected}，实际为 {m.found}",
            "digest": f"文件 {m.path} 的摘要应为 {m.expected}，实际为 {m.found}",
        }[m.kind]
        out.append(
            Finding(
                "YJ-1-14",
                f"transfer_fixity_{m.kind}",
                zh,
                f"{FIXITY}: {m.path}: expected {m.expected}, found {m.found}",
                m.path,
                record,
            )
        )
    return out
