"""Fuzz the court XML parser and package validation: bytes → 说明文件 / 目录文件 / 元数据 XML.

The first byte picks the document (0 说明文件, 1 目录文件, 2 元数据/0001.xml); the rest is its text.
Two oracles: ``standards.court_xml.parse_*`` (hardened parse + XSD + conversion) may only raise the
BadInput family; ``standards.validation.validate_court_package`` on an otherwise valid staged package
(``tests/vectors/packages/hostile_content.py``) with this document in place never raises at all —
every defect becomes a Problem.

Run: ``.venv/bin/python -m tests.fuzz.fuzz_xml_validation -max_total_time=120 tests/fuzz/corpus/xml_validation``.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from tests.fuzz.harness import Finding, fuzz, instrumented, private_folder

with instrumented(__name__ == "__main__"):
    from integrity.hashing import digest_bytes
    from standards.court_package import CATALOG_FILE, DESCRIPTION_FILE, metadata_path
    from standards.court_xml import parse_catalog, parse_description, parse_document_metadata
    from standards.errors import BadInput
    from standards.limits import Limits
    from standards.package import StagedFile, StagedPackage
    from standards.validation import validate_court_package
    from tests.archive.intake.intake_helpers import load_craft

LIMITS = Limits(xml_bytes=1024 * 1024)
TODAY = dt.date(2025, 3, 1)
DOCUMENTS = (
    (DESCRIPTION_FILE, parse_description),
    (CATALOG_FILE, parse_catalog),
    (metadata_path(1), parse_document_metadata),
)


class _Package:
    """The valid base package, staged once per process; each input replaces one XML file of it."""

    def __init__(self) -> None:
        self.root = private_folder("edossier-fuzz-xml-")
        self.files = load_craft().load_content().base_court_files()
        self.staged: dict[str, StagedFile] = {}
        for path, data in self.files.items():
            self._write(path, data)

    def _write(self, path: str, data: bytes) -> None:
        target = self.root.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.staged[path] = StagedFile(path, len(data), digest_bytes(data))

    def with_document(self, path: str, data: bytes) -> StagedPackage:
        self._write(path, data)
        return StagedPackage(self.root, tuple(self.staged.values()), "fuzz.zip", "zip", "0" * 64)

    def restore(self, path: str) -> None:
        self._write(path, self.files[path])


_PACKAGE: _Package | None = None


def package() -> _Package:
    global _PACKAGE
    if _PACKAGE is None:
        _PACKAGE = _Package()
    return _PACKAGE


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    path, parse = DOCUMENTS[data[0] % len(DOCUMENTS)]
    document = data[1:]
    with contextlib.suppress(BadInput):
        parse(document, limits=LIMITS, path=path)
    pkg = package()
    try:
        report = validate_court_package(pkg.with_document(path, document), limits=LIMITS, today=TODAY)
    finally:
        pkg.restore(path)
    if report.passed and document != pkg.files[path]:
        # a changed document may still be valid (whitespace, attribute order), but it must parse
        try:
            parse(document, limits=LIMITS, path=path)
        except BadInput as exc:
            raise Finding(f"validation passed a document its parser refuses: {exc.code}") from None


if __name__ == "__main__":
    fuzz(TestOneInput)
