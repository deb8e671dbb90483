"""What a receiver checks in a transfer package's layout and description files (DA/T 93-2022, DA/T 70 YJ).

:func:`read_documents` (I/O: reads the staged copy) parses 说明文件, 目录文件, 移交清单 and 固化信息 with the
hardened parser; an unreadable file becomes a finding, not an exception. :func:`check_transfer` is pure
over the inventory (every file with the digests computed while staging) and those documents:

* the fixed files are present (YJ-1-12 说明文件/目录文件, YJ-1-13 其他/…);
* every 目录文件 档号 is a record 档号 — a path separator or ``..`` is refused as path traversal (YJ-1-7,
  YJ-1-13) —, unique (YJ-1-8), numbered 1…n (YJ-2-6), and has its folder ``<全宗号>/<分类号>/<档号>/``
  with ``<档号>.eep.xml`` in it (YJ-1-13); every other file belongs to a record folder (YJ-4-3);
* 移交清单 names the same records, with their file counts and bytes (YJ-2-1, YJ-2-2) and EEP digests (YJ-1-14);
* 说明文件 counts and bytes equal what is there (YJ-2-1, YJ-2-2), its 起止档号, 字符编码 and 摘要算法 (YJ-1-12);
* 固化信息 lists exactly the files found with the same SHA-256 and SM3 (YJ-1-14).

It returns the findings and, for every record whose folder exists, a :class:`RecordPlan` (its court
package files relative to the folder, its EEP). The per-record EEP, the 登记表 and the DA/T 70 items on
the court package are checked elsewhere (:mod:`.eep_check`, :mod:`.register`, :mod:`.yj`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from archive.transfer.consistency import description_findings, fixity_findings
from archive.transfer.documents import (
    ListEntry,
    TransferDescription,
    TransferDocuments,
    TransferEntry,
    parse_catalog,
    parse_description,
    parse_transfer_list,
)
from archive.transfer.errors import RecordCodeMalformed, TransferDocumentInvalid
from archive.transfer.findings import Finding
from archive.transfer.fixity import FixityList, parse_fixity
from archive.transfer.layout import (
    CATALOG,
    CERTIFICATE,
    DESCRIPTION,
    FIXED_FILES,
    FIXITY,
    OTHER,
    REGISTER,
    REGISTER_SIGNATURE,
    TRANSFER_LIST,
    RecordCode,
    looks_like_traversal,
    parse_record_code,
)
from standards.limits import Limits
from standards.package import StagedFile, StagedPackage

MAX_PER_KIND = 20  # findings of one code listed one by one; the rest are counted in one more finding


@dataclass(frozen=True)
class RecordPlan:
    """One record found: 目录文件 entry, 移交清单 entry, court package files (folder-relative), its EEP."""

    code: RecordCode
    entry: TransferEntry
    listed: ListEntry | None
    files: tuple[StagedFile, ...]
    eep: StagedFile | None = field(default=None)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


# ------------------------------------------------------------------ reading (I/O on the staged copy)
def read_documents(package: StagedPackage, limits: Limits) -> TransferDocuments:
    """Parse the description files of a staged transfer package; failures become YJ-1-12/YJ-3-1 findings."""
    findings: list[Finding] = []

    def read(path: str, parse: Callable[[bytes], object]) -> object | None:
        if package.get(path) is None:
            return None  # absence is check_transfer's finding
        try:
            return parse(package.read_bytes(path))
        except TransferDocumentInvalid as error:
            for item in ("YJ-1-12", "YJ-3-1"):
                findings.append(
                    Finding(
                        item, error.code, f"{path} 无法读取或不符合规范：{error.message}", error.message, path
                    )
                )
            return None

    description = read(DESCRIPTION, lambda b: parse_description(b, limits=limits))
    catalog = read(CATALOG, lambda b: parse_catalog(b, limits=limits))
    listed = read(TRANSFER_LIST, lambda b: parse_transfer_list(b, limits=limits))
    fixity = read(FIXITY, lambda b: parse_fixity(b, limits=limits))
    return TransferDocuments(
        description=description if isinstance(description, TransferDescription) else None,
        catalog=catalog if isinstance(catalog, list) else None,
        list_id=listed[0] if isinstance(listed, tuple) else None,
        transfer_list=listed[1] if isinstance(listed, tuple) else None,
        fixity=fixity if isinstance(fixity, FixityList) else None,
        findings=tuple(findings),
    )


# ------------------------------------------------------------------ helpers
def _capped(findings: list[Finding]) -> list[Finding]:
    """At most :data:`MAX_PER_KIND` findings per (item, code, record), plus one that counts the rest."""
    seen: dict[tuple[str, str, str | None], int] = {}
    out: list[Finding] = []
    for f in findings:
        key = (f.item, f.code, f.record)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= MAX_PER_KIND:
            out.append(f)
    for (item, code, record), count in seen.items():
        if count > MAX_PER_KIND:
            rest = count - MAX_PER_KIND
            out.append(
                Finding(
                    item, code, f"同类问题另有 {rest} 个未逐一列出", f"{rest} more of {code}", None, record
                )
            )
    return out


def _codes(
    catalog: Sequence[TransferEntry], out: list[Finding]
) -> dict[str, tuple[RecordCode, TransferEntry]]:
    """Parse every 目录文件 档号 (refusing traversal), report duplicates and gaps in 顺序号."""
    codes: dict[str, tuple[RecordCode, TransferEntry]] = {}
    for e in catalog:
        text = e.archival_code
        try:
            code = parse_record_code(text)
        except RecordCodeMalformed as error:
            if looks_like_traversal(text):
                zh = f"目录文件第 {e.sequence} 条的档号“{text[:80]}”含路径分隔符或“..”，属路径穿越，已拒绝"
                for item in ("YJ-1-7", "YJ-1-13"):
                    out.append(
                        Finding(
                            item,
                            "transfer_path_traversal",
                            zh,
                            f"{CATALOG} entry {e.sequence}: {error.message}",
                            CATALOG,
                        )
                    )
            else:
                zh = (
                    f"目录文件第 {e.sequence} 条的档号“{text[:80]}”"
                    "不是“全宗号-类别·年度-保管期限-案卷号”形式的案卷级档号"
                )
                out.append(
                    Finding(
                        "YJ-1-7", error.code, zh, f"{CATALOG} entry {e.sequence}: {error.message}", CATALOG
                    )
                )
            continue
        if text in codes:
            zh = f"目录文件中档号“{text}”重复登记（第 {codes[text][1].sequence} 条与第 {e.sequence} 条）"
            out.append(
                Finding(
                    "YJ-1-8",
                    "transfer_record_code_duplicate",
                    zh,
                    f"{CATALOG}: 档号 {text} listed twice",
                    CATALOG,
                )
            )
            continue
        codes[text] = (code, e)
    sequences = [e.sequence for e in catalog]
    if sequences != list(range(1, len(sequences) + 1)):
        shown = "、".join(str(s) for s in sequences[:10])
        out.append(
            Finding(
                "YJ-2-6",
                "transfer_sequence_gap",
                f"目录文件顺序号应从 1 起连续递增，实际为 {shown}{'…' if len(sequences) > 10 else ''}",
                f"{CATALOG}: 顺序号 expected 1..{len(sequences)}, found {sequences[:10]}",
                CATALOG,
            )
        )
    return codes


# ------------------------------------------------------------------ the checks
def check_transfer(
    inventory: Mapping[str, StagedFile], docs: TransferDocuments, *, require_register: bool
) -> tuple[list[Finding], list[RecordPlan]]:
    """Layout and description-file checks of a whole transfer package (pure; see the module docstring)."""
    out: list[Finding] = list(docs.findings)
    required = [
        (DESCRIPTION, "YJ-1-12"),
        (CATALOG, "YJ-1-12"),
        (TRANSFER_LIST, "YJ-1-13"),
        (FIXITY, "YJ-1-13"),
        (CERTIFICATE, "YJ-1-13"),
    ]
    if require_register:
        required += [(REGISTER, "YJ-1-13"), (REGISTER_SIGNATURE, "YJ-1-13")]
    for path, item in required:
        if path not in inventory:
            out.append(
                Finding(item, "transfer_file_missing", f"移交信息包缺少 {path}", f"{path} is missing", path)
            )

    codes = _codes(docs.catalog or [], out)
    by_folder = {code.folder: code for code, _ in codes.values()}
    in_folder: dict[str, list[StagedFile]] = {text: [] for text in codes}
    counted_files, counted_bytes = 0, 0
    strays: set[str] = set()
    for path, f in sorted(inventory.items()):
        if path in FIXED_FILES:
            continue
        if path.startswith(OTHER + "/"):
            zh = f"“其他”文件夹中有非移交文件 {path}"
            out.append(
                Finding("YJ-4-3", "transfer_extra_file", zh, f"unexpected file {path} in {OTHER}/", path)
            )
            continue
        counted_files += 1
        counted_bytes += f.size
        code = by_folder.get("/".join(path.split("/")[:3]))
        if code is None:
            out.append(
                Finding(
                    "YJ-4-3",
                    "transfer_extra_file",
                    f"文件 {path} 不属于目录文件登记的任何档案",
                    f"{path} belongs to no record of {CATALOG}",
                    path,
                )
            )
            strays.add("/".join(path.split("/")[:3]))
            continue
        in_folder[code.text].append(f)
    for folder in sorted(strays):
        out.append(
            Finding(
                "YJ-1-13",
                "transfer_folder_unlisted",
                f"文件夹 {folder} 未在目录文件中登记",
                f"folder {folder} is not a record of {CATALOG}",
                folder,
            )
        )

    listed = _listed(docs.transfer_list, out)
    plans: list[RecordPlan] = []
    for text, (code, entry) in codes.items():
        files = in_folder[text]
        if not files:
            out.append(
                Finding(
                    "YJ-1-13",
                    "transfer_record_folder_missing",
                    f"目录文件登记的档号“{text}”没有对应的档案文件夹 {code.folder}/",
                    f"record {text}: folder {code.folder}/ is missing",
                    code.folder,
                )
            )
            out.append(
                Finding(
                    "YJ-2-1",
                    "transfer_record_folder_missing",
                    f"档号“{text}”的档案缺失",
                    f"record {text} is missing",
                    code.folder,
                )
            )
            continue
        plans.append(_plan(code, entry, listed.get(text), files, out))
    for text in sorted(set(listed) - set(codes)):
        out.append(
            Finding(
                "YJ-1-12",
                "transfer_list_unmatched",
                f"移交清单中的档号“{text}”未在目录文件中登记",
                f"{TRANSFER_LIST}: record {text} is not in {CATALOG}",
                TRANSFER_LIST,
            )
        )
    out += description_findings(docs, codes, counted_files, counted_bytes)
    out += fixity_findings(inventory, docs, by_folder)
    return _capped(out), plans


def _listed(entries: list[ListEntry] | None, out: list[Finding]) -> dict[str, ListEntry]:
    found: dict[str, ListEntry] = {}
    for e in entries or []:
        if e.archival_code in found:
            out.append(
                Finding(
                    "YJ-1-12",
                    "transfer_list_duplicate",
                    f"移交清单中档号“{e.archival_code[:80]}”重复",
                    f"{TRANSFER_LIST}: record {e.archival_code[:80]} listed twice",
                    TRANSFER_LIST,
                )
            )
            continue
        found[e.archival_code] = e
    return found


def _plan(
    code: RecordCode,
    entry: TransferEntry,
    listed: ListEntry | None,
    files: list[StagedFile],
    out: list[Finding],
) -> RecordPlan:
    text, prefix = code.text, code.folder + "/"
    eep = next((f for f in files if f.path == code.eep_path), None)
    court = tuple(
        StagedFile(f.path[len(prefix) :], f.size, f.digests) for f in files if f.path != code.eep_path
    )
    if eep is None:
        out.append(
            Finding(
                "YJ-1-13",
                "transfer_eep_missing",
                f"档号“{text}”的文件夹中缺少电子档案封装包 {code.eep_name}",
                f"record {text}: {code.eep_name} is missing",
                code.eep_path,
                text,
            )
        )
    plan = RecordPlan(code, entry, listed, court, eep)
    if listed is None:
        out.append(
            Finding(
                "YJ-1-12",
                "transfer_list_missing_record",
                f"移交清单中没有档号“{text}”的记录",
                f"{TRANSFER_LIST}: no record {text}",
                TRANSFER_LIST,
                text,
            )
        )
        return plan
    if listed.file_count != len(court):
        out.append(
            Finding(
                "YJ-2-1",
                "transfer_file_count_mismatch",
                f"移交清单记载档号“{text}”有 {listed.file_count} 个文件，实际为 {len(court)} 个",
                f"record {text}: expected {listed.file_count} files, found {len(court)}",
                code.folder,
                text,
            )
        )
    if listed.total_bytes != plan.total_bytes:
        out.append(
            Finding(
                "YJ-2-2",
                "transfer_bytes_mismatch",
                f"移交清单记载档号“{text}”共 {listed.total_bytes} 字节，实际为 {plan.total_bytes} 字节",
                f"record {text}: expected {listed.total_bytes} bytes, found {plan.total_bytes}",
                code.folder,
                text,
            )
        )
    if listed.eep_file != code.eep_name:
        out.append(
            Finding(
                "YJ-1-13",
                "transfer_eep_name_mismatch",
                f"移交清单记载的封装包文件名“{listed.eep_file[:80]}”应为“{code.eep_name}”",
                f"record {text}: EEP file expected {code.eep_name}, found {listed.eep_file[:80]!r}",
                TRANSFER_LIST,
                text,
            )
        )
    if eep is not None and listed.eep_sha256 != eep.digests.get("sha256"):
        out.append(
            Finding(
                "YJ-1-14",
                "transfer_eep_digest_mismatch",
                f"封装包 {code.eep_name} 的 SHA-256 应为 {listed.eep_sha256}，实际为 {eep.digests.get('sha256')}",
                f"record {text}: EEP sha256 expected {listed.eep_sha256}, found {eep.digests.get('sha256')}",
                code.eep_path,
                text,
            )
        )
    return plan
