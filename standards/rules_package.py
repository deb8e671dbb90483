"""Package-level rules of the court profile: layout, listed vs present files, sizes, digests, totals.

Pure: takes the inventory (package-relative path → :class:`StagedFile`), the catalogue entries and the
说明文件 values, returns :class:`Problem` lists. Reading files and parsing XML is left to
:mod:`standards.validation`; per-field rules live in :mod:`standards.rules_fields`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from integrity.hashing import digests_equal
from standards.court_package import (
    CATALOG_FILE,
    DESCRIPTION_FILE,
    METADATA_FOLDER,
    VOLUMES,
    CatalogEntry,
    DossierDescription,
    metadata_path,
)
from standards.package import StagedFile
from standards.problems import Problem

_DIGESTS = (("sha256", "SHA-256"), ("sm3", "SM3"))


def _is_content(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) == 2 and parts[0] in VOLUMES


def _in_layout(rel: str) -> bool:
    """DA/T 70 GD-1-13: only the two XML files at the top, content in 正卷/副卷, metadata in 元数据."""
    parts = rel.split("/")
    if len(parts) == 1:
        return rel in (DESCRIPTION_FILE, CATALOG_FILE)
    return len(parts) == 2 and parts[0] in (*VOLUMES, METADATA_FOLDER)


def check_entry_files(
    files: Mapping[str, StagedFile],
    entries: Sequence[CatalogEntry],
    *,
    prefix: str,
    catalog_lines: Mapping[int, int],
) -> list[Problem]:
    """Each listed file: folder/name (GD-1-13), present (GD-1-11), size (GD-1-10), digests (GD-1-1)."""
    out: list[Problem] = []
    cat = prefix + CATALOG_FILE
    for e in entries:
        line = catalog_lines.get(e.sequence)
        parts = e.file_path.split("/")
        if not _is_content(e.file_path):
            out.append(
                Problem(
                    "layout_violation",
                    f"顺序号 {e.sequence} 的文件路径应为“正卷/…”或“副卷/…”，实际为“{e.file_path}”",
                    "GD-1-13",
                    cat,
                    line,
                )
            )
        elif parts[0] != e.volume:
            out.append(
                Problem(
                    "volume_folder_mismatch",
                    f"顺序号 {e.sequence} 卷别为“{e.volume}”，但文件位于“{parts[0]}”文件夹",
                    "GD-1-13",
                    cat,
                    line,
                )
            )
        if _is_content(e.file_path) and not parts[1].startswith(f"{e.sequence:04d}-"):
            out.append(
                Problem(
                    "file_name_mismatch",
                    f"顺序号 {e.sequence} 的文件名应以“{e.sequence:04d}-”开头，实际为“{parts[1]}”",
                    "GD-1-13",
                    cat,
                    line,
                )
            )
        f = files.get(e.file_path)
        if f is None:
            out.append(
                Problem(
                    "file_missing",
                    f"目录文件列出的文件“{e.file_path}”在信息包中不存在",
                    "GD-1-11",
                    prefix + e.file_path,
                    line,
                )
            )
            continue
        if f.size != e.file_size:
            out.append(
                Problem(
                    "file_size_mismatch",
                    f"文件“{e.file_path}”的计算机文件大小应为 {e.file_size} 字节，实际为 {f.size} 字节",
                    "GD-1-10",
                    prefix + e.file_path,
                    line,
                )
            )
        for key, name in _DIGESTS:
            recorded = e.sha256 if key == "sha256" else e.sm3
            actual = f.digests.get(key, "")
            if not digests_equal(recorded, actual):
                out.append(
                    Problem(
                        "digest_mismatch",
                        f"文件“{e.file_path}”的 {name} 摘要应为 {recorded}，实际为 {actual}",
                        "GD-1-1",
                        prefix + e.file_path,
                        line,
                    )
                )
    return out


def check_unlisted(
    files: Mapping[str, StagedFile], entries: Sequence[CatalogEntry], *, prefix: str
) -> list[Problem]:
    """Files the catalogue does not account for (GD-4-3) and files outside the layout (GD-1-13)."""
    expected = {DESCRIPTION_FILE, CATALOG_FILE}
    for e in entries:
        expected.add(e.file_path)
        expected.add(metadata_path(e.sequence))
    out: list[Problem] = []
    for rel in sorted(files):
        if rel in expected:
            continue
        out.append(
            Problem(
                "unlisted_file",
                f"信息包中的文件“{rel}”未在目录文件中登记（多余文件）",
                "GD-4-3",
                prefix + rel,
            )
        )
        if not _in_layout(rel):
            out.append(
                Problem(
                    "layout_violation",
                    f"文件“{rel}”不在规定的目录结构中（只允许说明文件、目录文件、正卷/、副卷/、元数据/）",
                    "GD-1-13",
                    prefix + rel,
                )
            )
    return out


def check_layout_only(files: Mapping[str, StagedFile], *, prefix: str) -> list[Problem]:
    """Without a usable catalogue: only the layout rule (GD-1-13)."""
    return [
        Problem("layout_violation", f"文件“{rel}”不在规定的目录结构中", "GD-1-13", prefix + rel)
        for rel in sorted(files)
        if not _in_layout(rel)
    ]


def check_totals(
    files: Mapping[str, StagedFile],
    entries: Sequence[CatalogEntry] | None,
    description: DossierDescription,
    *,
    prefix: str,
    lines: Mapping[str, int],
) -> list[Problem]:
    """文件总数/总字节数 vs the catalogue (GD-2-1, GD-2-2) and the real files (GD-2-11, GD-2-2)."""
    path = prefix + DESCRIPTION_FILE
    out: list[Problem] = []
    content = [f for rel, f in files.items() if _is_content(rel)]
    if entries is not None:
        if description.document_count != len(entries):
            out.append(
                Problem(
                    "document_count_mismatch",
                    f"说明文件的文件总数为 {description.document_count}，目录文件登记 {len(entries)} 件",
                    "GD-2-1",
                    path,
                    lines.get("文件总数"),
                )
            )
        listed = sum(e.file_size for e in entries)
        if description.total_bytes != listed:
            out.append(
                Problem(
                    "total_bytes_mismatch",
                    f"说明文件的总字节数为 {description.total_bytes}，目录文件登记合计 {listed} 字节",
                    "GD-2-2",
                    path,
                    lines.get("总字节数"),
                )
            )
    if description.document_count != len(content):
        out.append(
            Problem(
                "content_file_count_mismatch",
                f"说明文件的文件总数为 {description.document_count}，正卷/副卷中实际有 {len(content)} 个文件",
                "GD-2-11",
                path,
                lines.get("文件总数"),
            )
        )
    actual = sum(f.size for f in content)
    if description.total_bytes != actual:
        out.append(
            Problem(
                "content_bytes_mismatch",
                f"说明文件的总字节数为 {description.total_bytes}，正卷/副卷中文件实际合计 {actual} 字节",
                "GD-2-2",
                path,
                lines.get("总字节数"),
            )
        )
    return out
