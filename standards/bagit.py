"""Validate a staged package that is a BagIt bag (RFC 8493) and map every problem to a DA/T 70 item.

A bag is the third package form edossier accepts (beside the court package and the DA/T 48 EEP):
``bagit.txt`` at the root, payload under ``data/``, one or more ``manifest-<alg>.txt``, optional
``bag-info.txt`` and ``tagmanifest-<alg>.txt``. :func:`validate_bag` checks the declaration, the
metadata, Payload-Oxum, completeness (every payload file in every payload manifest) and validity
(every listed file exists and its digest matches), and collects every problem instead of stopping.

Decisions (recorded here because RFC 8493 leaves them to the implementation):

* **Tag-file encoding.** ``bagit.txt`` itself must be UTF-8 without a BOM (RFC 8493 §2.1.1). A
  declared ``Tag-File-Character-Encoding`` other than UTF-8 that Python knows (e.g. GB18030, which
  DA/T 93 allows for catalogue files) is accepted with the warning ``tag_encoding_not_utf8`` and the
  other tag files are decoded with it; an encoding Python does not know is refused.
* **fetch.txt is refused** (``fetch_refused``): the archive never downloads payload; a package must
  carry everything it claims.
* **md5 / sha1** manifests are verified but warned about as weak (``weak_algorithm``); manifests for
  algorithms we cannot compute are warned about and skipped; a bag with no verifiable payload
  manifest is refused. An empty payload is refused (an archive package must hold content).
* **Percent-encoding** (RFC 8493 §2.1.3): only ``%0D``, ``%0A`` and ``%25`` (either case) are
  decoded, in one pass; any other ``%`` stays literal (bagit-python writes ``%`` unencoded).
* Paths are compared after NFC normalisation, as intake stores them.

Reading the tag files from the staged copy is the only I/O here; payload digests come from the
``digest`` callable (see :mod:`archive.bag_digests`). Rendering and the detection report are left to
the CLI and ``integrity.checks``.
"""

from __future__ import annotations

import codecs
import hmac
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from standards.limits import Limits
from standards.package import StagedPackage
from standards.problems import Problem

DigestFn = Callable[[str, str], str]
"""``digest(package_path, algorithm) -> lowercase hex`` of a staged file."""

DECLARATION = "bagit.txt"
BAG_INFO = "bag-info.txt"
FETCH = "fetch.txt"
PAYLOAD_PREFIX = "data/"
VERSIONS = ("0.97", "1.0")
#: Algorithms we can verify, with the length of their hex digests.
HEX_LENGTHS: Mapping[str, int] = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128, "sm3": 64}
WEAK_ALGORITHMS = frozenset({"md5", "sha1"})

#: Problem code → DA/T 70 global item number (the stage prefix is added per report).
CODE_ITEMS: Mapping[str, str] = {
    # 1-1 固化信息有效性: the digests a bag carries are its fixity information
    "digest_mismatch": "1-1",
    "weak_algorithm": "1-1",
    "algorithm_unsupported": "1-1",
    "no_verifiable_manifest": "1-1",
    # 1-11 元数据是否关联内容数据: a path recorded in a tag manifest must lead to a file
    "tag_file_missing": "1-11",
    # 1-12 说明文件和目录文件规范性: bagit.txt, bag-info.txt and the manifests are the bag's 说明/目录文件
    "declaration_missing": "1-12",
    "declaration_invalid": "1-12",
    "version_unsupported": "1-12",
    "tag_encoding_unsupported": "1-12",
    "tag_encoding_not_utf8": "1-12",
    "tag_file_too_large": "1-12",
    "bag_info_line_invalid": "1-12",
    "payload_oxum_invalid": "1-12",
    "payload_oxum_missing": "1-12",
    "manifest_missing": "1-12",
    "manifest_line_invalid": "1-12",
    "manifest_too_long": "1-12",
    "manifest_duplicate_entry": "1-12",
    "payload_not_in_manifest": "1-12",
    # 1-13 信息包目录结构规范性: paths stay inside the bag and in their part of it
    "manifest_path_escape": "1-13",
    "manifest_path_misplaced": "1-13",
    "manifest_case_collision": "1-13",
    # 2-1 / 2-2 总件数 / 总字节数相符性: Payload-Oxum is the bag's declared count and bytes
    "payload_oxum_count_mismatch": "2-1",
    "payload_oxum_bytes_mismatch": "2-2",
    # 2-11 信息包内容数据完整性: every listed payload file is present, nothing is fetched later
    "payload_missing": "2-11",
    "payload_empty": "2-11",
    "fetch_refused": "2-11",
    # 3-1 信息包中元数据的可读性: tag files must decode
    "tag_file_undecodable": "3-1",
    # 4-3 载体中多余文件: files no manifest accounts for
    "payload_unlisted": "4-3",
    "tag_file_unlisted": "4-3",
}

_MANIFEST = re.compile(r"^(tag)?manifest-([A-Za-z0-9]+)\.txt$")
_MANIFEST_LINE = re.compile(r"^([0-9A-Fa-f]+)[ \t]+(.+)$")
_VERSION_LINE = re.compile(r"^BagIt-Version: ([0-9]+\.[0-9]+)$")
_ENCODING_LINE = re.compile(r"^Tag-File-Character-Encoding: (\S+)$")
_OXUM = re.compile(r"^([0-9]+)\.([0-9]+)$")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_PERCENT = re.compile(r"%(0[Dd]|0[Aa]|25)")
_DECODED = {"0d": "\r", "0a": "\n", "25": "%"}
_STAGES = ("GD", "YJ")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One line of a manifest: the decoded NFC ``path``, lowercase hex ``digest``, 1-based ``line``."""

    path: str
    digest: str
    line: int


@dataclass
class BagReport:
    """What :func:`validate_bag` found.

    ``problems`` make the bag invalid; ``warnings`` do not. ``algorithms`` are the payload manifest
    algorithms that were verified; ``payload_oxum`` is the declared ``(octets, streams)``; ``info``
    maps each bag-info.txt label to its values in file order.
    """

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    algorithms: tuple[str, ...] = ()
    payload_oxum: tuple[int, int] | None = None
    info: dict[str, list[str]] = field(default_factory=dict)
    version: str | None = None
    encoding: str | None = None

    @property
    def valid(self) -> bool:
        """No problems and at least one payload manifest verified (zero checks is not a pass)."""
        return not self.problems and bool(self.algorithms)


class Findings:
    """Collects problems and warnings, giving each the DA/T 70 item id of ``stage`` from :data:`CODE_ITEMS`."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def _make(self, code: str, message: str, path: str | None, line: int | None) -> Problem:
        return Problem(code, message, f"{self.stage}-{CODE_ITEMS[code]}", path, line)

    def problem(self, code: str, message: str, path: str | None = None, line: int | None = None) -> None:
        self.problems.append(self._make(code, message, path, line))

    def warn(self, code: str, message: str, path: str | None = None, line: int | None = None) -> None:
        self.warnings.append(self._make(code, message, path, line))


# ------------------------------------------------------------------ small pure pieces
def is_bag(package: StagedPackage) -> bool:
    """True when the package has ``bagit.txt`` at its root (RFC 8493 §2.1.1)."""
    return package.get(DECLARATION) is not None


def split_lines(text: str) -> list[str]:
    """Lines of a tag file; LF, CR and CRLF all end a line (RFC 8493 §2); a final ending is optional.

    >>> split_lines("a\\r\\nb\\rc\\n")
    ['a', 'b', 'c']
    """
    lines = _NEWLINES.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def decode_path(encoded: str) -> str:
    """Decode a manifest path (RFC 8493 §2.1.3: ``%0D``, ``%0A``, ``%25``) and normalise it to NFC.

    >>> decode_path("data/50%25%0Ax.txt")
    'data/50%\\nx.txt'
    >>> decode_path("data/100%.txt")
    'data/100%.txt'
    """
    decoded = _PERCENT.sub(lambda m: _DECODED[m.group(1).lower()], encoded)
    return unicodedata.normalize("NFC", decoded)


def path_escape_reason(path: str) -> str | None:
    """Why ``path`` could leave the bag (Chinese), or None when it is a plain relative path.

    Both ``/`` and ``\\`` count as separators, because a Windows tool would follow either.

    >>> path_escape_reason("data/../../etc/passwd")
    '包含“..”路径段'
    >>> path_escape_reason("data/a.txt") is None
    True
    """
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        return "是绝对路径"
    segments = re.split(r"[/\\]", path)
    if ".." in segments:
        return "包含“..”路径段"
    if any(s in ("", ".") for s in segments):
        return "包含空路径段或“.”路径段"
    return None


def parse_declaration(data: bytes, findings: Findings) -> tuple[str | None, str | None]:
    """``(version, encoding)`` from bagit.txt (RFC 8493 §2.1.1), adding problems for what is wrong."""
    if data.startswith(codecs.BOM_UTF8):
        findings.problem("declaration_invalid", "bagit.txt 不得以字节顺序标记（BOM）开头", DECLARATION, 1)
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        findings.problem("declaration_invalid", f"bagit.txt 不是 UTF-8 编码：{exc.reason}", DECLARATION)
        return None, None
    lines = split_lines(text)
    if len(lines) != 2:
        findings.problem("declaration_invalid", f"bagit.txt 应恰好有 2 行，实际 {len(lines)} 行", DECLARATION)
    version = encoding = None
    first = _VERSION_LINE.match(lines[0]) if lines else None
    if first is None:
        found = lines[0] if lines else "（空）"
        findings.problem(
            "declaration_invalid", f"bagit.txt 第 1 行应为“BagIt-Version: M.N”，实际“{found}”", DECLARATION, 1
        )
    else:
        version = first.group(1)
        if version not in VERSIONS:
            findings.problem(
                "version_unsupported",
                f"BagIt 版本应为 {' 或 '.join(VERSIONS)}，实际 {version}",
                DECLARATION,
                1,
            )
    second = _ENCODING_LINE.match(lines[1]) if len(lines) > 1 else None
    if second is None:
        found = lines[1] if len(lines) > 1 else "（缺失）"
        findings.problem(
            "declaration_invalid",
            f"bagit.txt 第 2 行应为“Tag-File-Character-Encoding: UTF-8”，实际“{found}”",
            DECLARATION,
            2,
        )
    else:
        encoding = second.group(1)
    return version, encoding


def resolve_encoding(declared: str | None, findings: Findings) -> str:
    """The Python codec for the other tag files: UTF-8, or a declared codec Python knows (warned)."""
    if declared is None:
        return "utf-8"
    try:
        name = codecs.lookup(declared).name
        b"BagIt".decode(name)  # a text encoding: not rot13, zlib, base64 or "undefined", which raise here
    except (LookupError, UnicodeError):
        findings.problem(
            "tag_encoding_unsupported",
            f"标签文件字符编码应为 UTF-8，实际为无法识别的“{declared}”",
            DECLARATION,
            2,
        )
        return "utf-8"
    if name != "utf-8":
        findings.warn(
            "tag_encoding_not_utf8",
            f"标签文件字符编码应为 UTF-8，实际为“{declared}”（已按其解码）",
            DECLARATION,
            2,
        )
    return name


def parse_bag_info(text: str, findings: Findings) -> dict[str, list[str]]:
    """Labels and values of bag-info.txt (RFC 8493 §2.2.2); an indented line continues the value."""
    info: dict[str, list[str]] = {}
    last: tuple[str, int] | None = None
    for number, line in enumerate(split_lines(text), start=1):
        if line[:1] in (" ", "\t"):
            if last is None:
                findings.problem("bag_info_line_invalid", "bag-info.txt 首行不能是续行", BAG_INFO, number)
                continue
            label, index = last
            info[label][index] = f"{info[label][index]} {line.strip()}".strip()
            continue
        label, sep, value = line.partition(":")
        if not sep or not label.strip():
            findings.problem(
                "bag_info_line_invalid", f"bag-info.txt 行应为“标签: 值”，实际“{line}”", BAG_INFO, number
            )
            last = None
            continue
        values = info.setdefault(label.strip(), [])
        values.append(value.strip())
        last = (label.strip(), len(values) - 1)
    return info


def parse_payload_oxum(info: Mapping[str, list[str]], findings: Findings) -> tuple[int, int] | None:
    """The declared ``(octets, streams)`` of bag-info.txt's Payload-Oxum, or None (warned or refused)."""
    values = [v for label, vs in info.items() if label.lower() == "payload-oxum" for v in vs]
    if not values:
        findings.warn("payload_oxum_missing", "bag-info.txt 未声明 Payload-Oxum（字节数.文件数）", BAG_INFO)
        return None
    if len(set(values)) > 1:
        findings.problem(
            "payload_oxum_invalid", f"Payload-Oxum 应只有一个值，实际有 {'、'.join(values)}", BAG_INFO
        )
        return None
    match = _OXUM.match(values[0])
    if match is None:
        findings.problem(
            "payload_oxum_invalid", f"Payload-Oxum 应为“字节数.文件数”，实际“{values[0]}”", BAG_INFO
        )
        return None
    return int(match.group(1)), int(match.group(2))


def parse_manifest(
    name: str, text: str, algorithm: str, findings: Findings, max_entries: int
) -> list[ManifestEntry]:
    """Entries of one manifest ("<hex> <path>" per line, RFC 8493 §2.1.3), refusing malformed lines.

    Blank lines are skipped. Duplicate paths, case-colliding paths and paths that could leave the bag
    are reported and dropped, so later checks see each path once.
    """
    entries: list[ManifestEntry] = []
    seen: dict[str, int] = {}
    folded: dict[str, str] = {}
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        if len(entries) >= max_entries:
            findings.problem(
                "manifest_too_long", f"{name} 的条目应不超过 {max_entries} 条，实际更多", name, number
            )
            break
        match = _MANIFEST_LINE.match(line)
        hex_length = HEX_LENGTHS[algorithm]
        if match is None or len(match.group(1)) != hex_length:
            findings.problem(
                "manifest_line_invalid",
                f"{name} 第 {number} 行应为“{hex_length} 位十六进制摘要 路径”，实际“{line[:200]}”",
                name,
                number,
            )
            continue
        path = decode_path(match.group(2))
        reason = path_escape_reason(path)
        if reason is not None:
            findings.problem(
                "manifest_path_escape",
                f"{name} 第 {number} 行的路径“{path}”{reason}，可能指向信息包之外",
                name,
                number,
            )
            continue
        if path in seen:
            findings.problem(
                "manifest_duplicate_entry",
                f"{name} 第 {number} 行重复列出“{path}”（首次在第 {seen[path]} 行）",
                name,
                number,
            )
            continue
        key = path.casefold()
        other = folded.setdefault(key, path)
        if other != path:
            findings.problem(
                "manifest_case_collision",
                f"{name} 第 {number} 行的“{path}”与“{other}”仅大小写不同，在不区分大小写的存储上会冲突",
                name,
                number,
            )
            continue
        seen[path] = number
        entries.append(ManifestEntry(path, match.group(1).lower(), number))
    return entries


# ------------------------------------------------------------------ the whole bag
def _read_tag(package: StagedPackage, path: str, limits: Limits, findings: Findings) -> bytes | None:
    staged = package.get(path)
    if staged is None:
        return None
    if staged.size > limits.xml_bytes:
        findings.problem(
            "tag_file_too_large", f"{path} 应不超过 {limits.xml_bytes} 字节，实际 {staged.size} 字节", path
        )
        return None
    return package.read_bytes(path)


def _decode_tag(path: str, data: bytes, encoding: str, findings: Findings) -> str | None:
    try:
        text = data.decode(encoding)
    except UnicodeError as exc:  # punycode, idna and friends raise UnicodeError without a position
        where = (
            f"（第 {exc.start} 字节起）：{exc.reason}" if isinstance(exc, UnicodeDecodeError) else f"：{exc}"
        )
        findings.problem("tag_file_undecodable", f"{path} 无法按 {encoding} 解码{where}", path)
        return None
    return text.removeprefix("\ufeff")


def _verify_entries(
    name: str,
    algorithm: str,
    entries: list[ManifestEntry],
    package: StagedPackage,
    digest: DigestFn,
    findings: Findings,
    *,
    payload: bool,
) -> None:
    for entry in entries:
        if entry.path.startswith(PAYLOAD_PREFIX) != payload:
            where = "应位于 data/ 之下" if payload else "不应位于 data/ 之下（标签清单只列标签文件）"
            findings.problem(
                "manifest_path_misplaced",
                f"{name} 第 {entry.line} 行的“{entry.path}”{where}",
                name,
                entry.line,
            )
            continue
        if package.get(entry.path) is None:
            code = "payload_missing" if payload else "tag_file_missing"
            findings.problem(
                code, f"{name} 第 {entry.line} 行列出的文件“{entry.path}”在信息包中不存在", entry.path
            )
            continue
        found = digest(entry.path, algorithm).lower()
        if not hmac.compare_digest(found, entry.digest):
            findings.problem(
                "digest_mismatch",
                f"文件“{entry.path}”的 {algorithm} 摘要与 {name} 第 {entry.line} 行不符："
                f"期望 {entry.digest}，实际 {found}",
                entry.path,
            )


def _manifests(package: StagedPackage) -> tuple[dict[str, str], dict[str, str]]:
    payload: dict[str, str] = {}
    tag: dict[str, str] = {}
    for f in package.files:
        match = _MANIFEST.match(f.path)
        if match is not None:
            (tag if match.group(1) else payload)[match.group(2)] = f.path
    return dict(sorted(payload.items())), dict(sorted(tag.items()))


def validate_bag(package: StagedPackage, digest: DigestFn, limits: Limits, *, stage: str = "GD") -> BagReport:
    """Check a staged bag against RFC 8493 and return every problem, mapped to DA/T 70 items.

    ``stage`` is the DA/T 70 stage whose item ids the problems carry (``GD`` or ``YJ``: bags are
    submission and transfer packages). ``digest`` is called once per listed file and algorithm.

    Raises:
        ValueError: ``stage`` is not ``GD`` or ``YJ``.
        OSError: a staged tag file cannot be read back.
        StorageError: whatever ``digest`` raises for a staged file it cannot read
            (:class:`archive.bag_digests.StagedFileUnreadable` from :func:`archive.bag_digests.digest_reader`).
    """
    if stage not in _STAGES:
        raise ValueError(f"stage: expected one of {_STAGES}, found {stage!r}")
    findings = Findings(stage)
    report = BagReport(problems=findings.problems, warnings=findings.warnings)

    declaration = _read_tag(package, DECLARATION, limits, findings)
    if declaration is None:
        if package.get(DECLARATION) is None:
            findings.problem("declaration_missing", "信息包根目录缺少 bagit.txt，不是 BagIt 包", DECLARATION)
        return report
    report.version, report.encoding = parse_declaration(declaration, findings)
    encoding = resolve_encoding(report.encoding, findings)

    if package.get(FETCH) is not None:  # we never download payload (RFC 8493 §2.2.3 is not supported)
        findings.problem(
            "fetch_refused", "信息包含 fetch.txt：内容数据须全部随包提交，本系统不下载远程文件", FETCH
        )

    info_bytes = _read_tag(package, BAG_INFO, limits, findings)
    if info_bytes is not None:
        info_text = _decode_tag(BAG_INFO, info_bytes, encoding, findings)
        if info_text is not None:
            report.info = parse_bag_info(info_text, findings)
            report.payload_oxum = parse_payload_oxum(report.info, findings)
    else:
        findings.warn("payload_oxum_missing", "信息包没有 bag-info.txt，无法核对 Payload-Oxum", BAG_INFO)

    payload_files = sorted(f.path for f in package.files if f.path.startswith(PAYLOAD_PREFIX))
    if not payload_files:
        findings.problem("payload_empty", "data/ 下没有任何内容数据文件", PAYLOAD_PREFIX)
    payload_manifests, tag_manifests = _manifests(package)
    if not payload_manifests:
        findings.problem("manifest_missing", "信息包缺少内容清单 manifest-<算法>.txt", DECLARATION)

    listed: dict[str, set[str]] = {}  # manifest name → payload paths it lists
    verified: list[str] = []
    for kind, manifests in (("payload", payload_manifests), ("tag", tag_manifests)):
        for algorithm, name in manifests.items():
            if algorithm not in HEX_LENGTHS:
                findings.warn(
                    "algorithm_unsupported",
                    f"{name} 使用本系统无法计算的算法“{algorithm}”，未据此核验",
                    name,
                )
                continue
            if algorithm in WEAK_ALGORITHMS:
                findings.warn(
                    "weak_algorithm",
                    f"{name} 使用的 {algorithm} 已不足以防篡改，建议改用 SM3 或 SHA-256",
                    name,
                )
            data = _read_tag(package, name, limits, findings)
            text = None if data is None else _decode_tag(name, data, encoding, findings)
            if text is None:
                continue
            entries = parse_manifest(name, text, algorithm, findings, limits.file_count)
            is_payload = kind == "payload"
            _verify_entries(name, algorithm, entries, package, digest, findings, payload=is_payload)
            if is_payload:
                listed[name] = {e.path for e in entries}
                verified.append(algorithm)
            else:
                listed_tags = {e.path for e in entries}
                for f in package.files:
                    is_tag = not f.path.startswith(PAYLOAD_PREFIX) and not _MANIFEST.match(f.path)
                    if is_tag and f.path not in listed_tags and f.path != FETCH:
                        findings.warn("tag_file_unlisted", f"标签文件“{f.path}”未列入 {name}", f.path)
    if payload_manifests and not verified:
        findings.problem("no_verifiable_manifest", "没有一个内容清单使用本系统可核验的摘要算法", DECLARATION)
    report.algorithms = tuple(verified)

    # Completeness (RFC 8493 §3): every payload file is listed in every payload manifest.
    for path in payload_files:
        missing_from = [name for name, paths in listed.items() if path not in paths]
        if listed and len(missing_from) == len(listed):
            findings.problem("payload_unlisted", f"内容文件“{path}”未列入任何内容清单，属于多余文件", path)
        else:
            for name in missing_from:
                findings.problem("payload_not_in_manifest", f"内容文件“{path}”未列入 {name}", path)

    if report.payload_oxum is not None:  # DA/T 70 GD-2-1 / GD-2-2 against the declared Payload-Oxum
        octets, streams = report.payload_oxum
        actual_octets = sum(f.size for f in package.files if f.path.startswith(PAYLOAD_PREFIX))
        if streams != len(payload_files):
            findings.problem(
                "payload_oxum_count_mismatch",
                f"Payload-Oxum 声明 {streams} 个内容文件，实际 {len(payload_files)} 个",
                BAG_INFO,
            )
        if octets != actual_octets:
            findings.problem(
                "payload_oxum_bytes_mismatch",
                f"Payload-Oxum 声明内容数据共 {octets} 字节，实际 {actual_octets} 字节",
                BAG_INFO,
            )
    return report
