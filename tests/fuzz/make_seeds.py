"""Write the seed corpora and dictionaries of the fuzz targets (``tests/fuzz/corpus/``, ``tests/fuzz/dicts/``).

Run ``.venv/bin/python -m tests.fuzz.make_seeds`` from the repository root. Deterministic; only
small files (≤ :data:`MAX_SEED` bytes) are taken so the committed corpus stays well under 2 MB.
Seeds: the hostile package vectors and their valid base packages (ZIP intake), the court XML
vectors and the XML inside the hostile court packages (XML validation, prefixed with the byte that
picks the document), the EEP vectors (EEP reader) and bags in the bag target's input format.
libFuzzer adds what it finds to a working corpus under ``fuzz-findings/``, never to these folders.
The dictionaries (libFuzzer ``-dict``) hold the tokens a target's format is made of: ZIP signatures
and court-package names, the element names of our XSDs with XML markup and code-table values, the
tag-file labels of RFC 8493.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import zipfile
from pathlib import Path

from tests.archive.intake.intake_helpers import HOSTILE, load_craft
from tests.fuzz.fuzz_bagit_reader import ALGORITHMS, encode
from tests.fuzz.harness import CORPUS, DICTS

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
MAX_SEED = 16 * 1024
XML_SELECTORS = {"说明文件.xml": 0, "目录文件.xml": 1, "元数据/0001.xml": 2}
NAME_SELECTORS = {"description": 0, "catalog": 1, "metadata": 2}


def _small(data: bytes) -> bool:
    return 0 < len(data) <= MAX_SEED


def zip_seeds() -> dict[str, bytes]:
    craft = load_craft()
    content = craft.load_content()
    seeds = {p.name: p.read_bytes() for p in sorted(HOSTILE.glob("*.zip")) if _small(p.read_bytes())}
    seeds["valid_court_package.zip"] = craft.zip_files(content.base_court_files())
    seeds["valid_court_package_in_top_folder.zip"] = craft.zip_files(
        {f"案卷/{p}": b for p, b in content.base_court_files().items()}
    )
    seeds["valid_bag.zip"] = craft.zip_files(content.bag_files())
    return seeds


def xml_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    for folder in ("valid", "invalid"):
        for p in sorted((VECTORS / "xml" / folder).glob("*.xml")):
            kind = next(k for k in NAME_SELECTORS if k in p.name)
            seeds[f"{folder}-{p.name}"] = bytes([NAME_SELECTORS[kind]]) + p.read_bytes()
    base = load_craft().load_content().base_court_files()
    for path, selector in XML_SELECTORS.items():
        seeds[f"base-{selector}.xml"] = bytes([selector]) + base[path]
    for vector in sorted(HOSTILE.glob("court_*.zip")):
        with zipfile.ZipFile(io.BytesIO(vector.read_bytes())) as zf:
            for path, selector in XML_SELECTORS.items():
                data = zf.read(path)
                if data != base[path] and _small(data):
                    seeds[f"{vector.stem}-{selector}.xml"] = bytes([selector]) + data
    return seeds


def eep_seeds() -> dict[str, bytes]:
    seeds = {
        f"{p.parent.name}-{p.name}": p.read_bytes()
        for folder in ("valid", "invalid", "warning")
        for p in sorted((VECTORS / "eep" / folder).glob("*.xml"))
    }
    seeds.update({p.name: p.read_bytes() for p in sorted(HOSTILE.glob("eep_*.xml"))})
    return {name: data for name, data in seeds.items() if _small(data)}


def bag_seeds() -> dict[str, bytes]:
    pdf = load_craft().load_content().PDF
    sha, md5 = hashlib.sha256(pdf).hexdigest(), hashlib.md5(pdf, usedforsecurity=False).hexdigest()
    declaration = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = f"Source-Organization: 法院\nPayload-Oxum: {len(pdf)}.1\n".encode()
    one = [("起诉状.pdf", pdf)]

    def bag(**kw: object) -> bytes:
        args: dict[str, object] = {"bagit": declaration, "info": info, "payload": one}
        args["manifest"] = f"{sha}  data/起诉状.pdf\n".encode()
        args.update(kw)
        return encode(**args)  # type: ignore[arg-type]

    info_sha = hashlib.sha256(info).hexdigest()
    manifest_sha = hashlib.sha256(f"{sha}  data/起诉状.pdf\n".encode()).hexdigest()
    return {
        "valid.bag": bag(),
        "valid-md5.bag": bag(algorithm=ALGORITHMS.index("md5"), manifest=f"{md5} data/起诉状.pdf\n".encode()),
        "valid-tagmanifest.bag": bag(
            tagmanifest=(
                f"{hashlib.sha256(declaration).hexdigest()} bagit.txt\n{info_sha} bag-info.txt\n"
                f"{manifest_sha} manifest-sha256.txt\n"
            ).encode()
        ),
        "crlf-bom.bag": bag(
            bagit=declaration.replace(b"\n", b"\r\n"), info=b"\xef\xbb\xbf" + info.replace(b"\n", b"\r")
        ),
        "gb18030-tags.bag": bag(
            bagit=b"BagIt-Version: 0.97\nTag-File-Character-Encoding: GB18030\n",
            info=info.decode().encode("gb18030"),
            manifest=f"{sha}  data/起诉状.pdf\n".encode("gb18030"),
        ),
        "percent-encoded.bag": bag(
            manifest=f"{sha}  data/a%0Ab%25.pdf\n".encode(), payload=[("a\nb%.pdf", pdf)]
        ),
        "subfolder.bag": bag(
            manifest=f"{sha}  data/正卷/起诉状.pdf\n".encode(), payload=[("正卷/起诉状.pdf", pdf)]
        ),
        "wrong-digest.bag": bag(manifest=f"{'0' * 64}  data/起诉状.pdf\n".encode()),
        "oxum-mismatch.bag": bag(info=b"Payload-Oxum: 1.2\nContact-Name: a\n  continued\n"),
        "escape.bag": bag(
            manifest=f"{sha}  data/起诉状.pdf\n{sha}  data/../../etc/passwd\n{sha}  /abs\n".encode()
        ),
        "duplicates-case.bag": bag(
            manifest=f"{sha}  data/起诉状.pdf\n{sha}  data/起诉状.pdf\n{sha}  data/A.pdf\n{sha}  data/a.pdf\n".encode()
        ),
        "fetch.bag": bag(fetch=b"http://127.0.0.1:9/x 10 data/x.pdf\n"),
        "unknown-algorithm.bag": bag(algorithm=ALGORITHMS.index("blake2b")),
        "empty-payload.bag": bag(payload=[]),
    }


SCHEMAS = Path(__file__).resolve().parents[2] / "standards" / "schemas"
_XML_MARKUP = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<?xml version="1.0" encoding="GB18030"?>',
    '<?xml version="1.0" encoding="UTF-16"?>',
    "<!DOCTYPE",
    "<!ENTITY",
    "SYSTEM",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "&#0;",
    "&#xD;",
    "&lt;",
    "&amp;",
    'xmlns="',
    '版本="1.0"',
    '算法="SHA-256"',
    '算法="SM3"',
]
_COURT_VALUES = [
    "永久",
    "长期",
    "短期",
    "正卷",
    "副卷",
    "电子原件",
    "纸质原件数字化",
    "公开",
    "PDF",
    "OFD",
    "-1",
    "0",
]
_COURT_VALUES += [
    "99999999999999999999",
    "2024-02-30",
    "2025-01-10T10:30:00+08:00",
    "（2024）粤0306民初1234号",
]
# boundary values: the first and last dates and time zones, a large count, non-ASCII digits
_COURT_VALUES += ["9999-12-31", "0001-01-01", "T23:59:59-12:00", "T00:00:00+14:00", "100000000", "²", "１２"]


def _element_names(*schemas: str) -> list[str]:
    names: set[str] = set()
    for schema in schemas:
        for path in sorted((SCHEMAS / schema).glob("*.xsd")):
            names.update(
                re.findall(r'<xs:(?:element|attribute) name="([^"]+)"', path.read_text(encoding="utf-8"))
            )
    return [token for name in sorted(names) for token in (f"<{name}>", f"</{name}>", f"{name}=")]


def dictionaries() -> dict[str, list[str | bytes]]:
    """Tokens per target for libFuzzer's ``-dict`` option."""
    return {
        "zip_intake": [
            "PK\x03\x04",
            "PK\x01\x02",
            "PK\x05\x06",
            "PK\x06\x06",
            "PK\x06\x07",
            "PK\x07\x08",
            "up",  # Info-ZIP Unicode Path extra field id 0x7075
            "\x01\x00",  # ZIP64 extra field id
            b"\xff\xff\xff\xff",
            "\x00\x08",  # flag bit 11 (UTF-8)
            "说明文件.xml",
            "目录文件.xml",
            "元数据/0001.xml",
            "正卷/",
            "副卷/",
            "../",
            "..\\",
            "C:",
            "//",
        ],
        "xml_validation": [*_XML_MARKUP, *_element_names("court"), *_COURT_VALUES],
        "eep_reader": [
            *_XML_MARKUP,
            *_element_names("eep"),
            "http://www.saac.gov.cn/standards/ERM/encapsulation",
            "原始型",
            "修改型",
            "2009",
            "====",
            "../",
            "²",
            "100000000000",
            "起起起起起起起起起起起起起起起起起起起起起起起起起起起起起起起起",
        ],
        "bagit_reader": [
            "BagIt-Version: 1.0",
            "BagIt-Version: 0.97",
            "Tag-File-Character-Encoding: UTF-8",
            "Tag-File-Character-Encoding: GB18030",
            "Tag-File-Character-Encoding: ",
            "rot13",
            "punycode",
            "utf-7",
            "utf-16",
            "undefined",
            "Payload-Oxum: ",
            "Bagging-Date: ",
            "bagit.txt",
            "bag-info.txt",
            "manifest-sha256.txt",
            "data/",
            "%0D",
            "%0A",
            "%25",
            "\r\n",
            b"\xef\xbb\xbf",
            "../",
            "\x00",
            "\x01",
        ],
    }


def dict_text(tokens: list[str | bytes]) -> str:
    """libFuzzer dictionary lines: each token quoted (text as UTF-8), other than printable ASCII as ``\\xNN``."""
    lines = []
    for token in tokens:
        raw = token if isinstance(token, bytes) else token.encode("utf-8")
        escaped = "".join(
            chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\x{b:02x}" for b in raw
        )
        lines.append(f'"{escaped}"')
    return "\n".join(lines) + "\n"


SEEDS = {
    "zip_intake": zip_seeds,
    "xml_validation": xml_seeds,
    "eep_reader": eep_seeds,
    "bagit_reader": bag_seeds,
}


def main(out: Path = CORPUS, dicts: Path = DICTS) -> list[Path]:
    """Rewrite every target's seed folder under ``out`` and its dictionary in ``dicts``; the files written."""
    written = []
    for target, make in SEEDS.items():
        folder = out / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, data in make().items():
            path = folder / name.replace("/", "_")
            path.write_bytes(data)
            written.append(path)
    dicts.mkdir(parents=True, exist_ok=True)
    for target, tokens in dictionaries().items():
        path = dicts / f"{target}.dict"
        path.write_text(dict_text(tokens), encoding="ascii")
        written.append(path)
    return written


if __name__ == "__main__":
    files = main()
    print(f"{len(files)} files, {sum(p.stat().st_size for p in files)} bytes in {CORPUS} and {DICTS}")
