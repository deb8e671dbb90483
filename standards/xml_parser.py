"""The one hardened XML parser of edossier and the cached XSD loader.

:func:`parse_xml` refuses oversized documents and any DOCTYPE (lxml still parses a DTD even with
the secure options, so it is rejected explicitly), never resolves entities or touches the network,
and translates syntax errors into :class:`~standards.errors.BadInput` subclasses with a line number
(DA/T 70 GD-3-1: metadata in the package must be readable). :func:`load_schema` compiles the XSDs
under ``standards/schemas/`` once per process; :func:`schema_violations` lists every XSD error with
its line. Deciding what the errors mean for a package is left to :mod:`standards.validation`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from lxml import etree

from standards.errors import BadInput
from standards.limits import Limits

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
MESSAGE_CHARS = 500  # libxml2 quotes the offending value (up to 64 KB) in XSD messages; keep this many
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


class XmlTooLargeError(BadInput):
    """The XML document exceeds ``Limits.xml_bytes``."""

    code = "xml_too_large"


class XmlDoctypeForbiddenError(BadInput):
    """The XML document declares a DOCTYPE/DTD (entity attacks, external fetches)."""

    code = "xml_doctype_forbidden"


class XmlSyntaxError(BadInput):
    """The document is not well-formed XML."""

    code = "xml_syntax_error"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message, path=path)
        self.line = line


class XmlSchemaViolationError(BadInput):
    """The document is well-formed but does not conform to its XSD."""

    code = "xml_schema_violation"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message, path=path)
        self.line = line


def source_line(el: etree._Element) -> int | None:
    """The source line of ``el`` (None when unknown; lxml-stubs type it loosely)."""
    line: object = el.sourceline
    return line if isinstance(line, int) else None


class _NoExternalResources(etree.Resolver):
    """Answers every external load (DTD subset, external entity) with an empty string: no file or network I/O.

    libxml2 reads an external subset even with ``load_dtd=False``; for an encoding the DOCTYPE byte
    scan cannot see (UTF-7: ``+ADwAIQ-DOCTYPE``) it would otherwise open ``file:///etc/passwd`` or
    block for ever on a FIFO or ``/dev/stdin``.
    """

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        return self.resolve_string("", context, base_url=None)


def has_doctype_marker(data: bytes) -> bool:
    """Whether ``data`` contains ``<!DOCTYPE`` in UTF-8/ASCII, UTF-16 or UTF-32 (either byte order)."""
    return any(marker in data for marker in _DOCTYPE_MARKERS)


def make_parser(*, huge_tree: bool = False) -> etree.XMLParser:
    """A fresh hardened parser: no entities, no DTD loading, no network, no huge trees.

    A new parser per call keeps threads from sharing one (lxml parsers are not thread-safe). It still
    resolves relative files (``xs:include`` of our own schemas); :func:`parse_xml` adds a resolver that
    refuses every external load for untrusted input. ``huge_tree`` lifts libxml2's 10 MB limit on one
    text node (a DA/T 48 EEP holds a whole file in one Base64 node); the size limit stays the caller's.
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge_tree,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def parse_xml(
    data: bytes,
    *,
    limits: Limits,
    path: str | None = None,
    huge_tree: bool = False,
    max_bytes: int | None = None,
) -> etree._Element:
    """Parse ``data`` safely and return the root element (``sourceline`` set on every element).

    ``huge_tree`` allows text nodes over 10 MB (EEPs); ``max_bytes`` replaces ``limits.xml_bytes``
    for callers with a documented larger bound (a transfer's EEP: ``limits.package_bytes``).

    Raises:
        XmlTooLargeError: ``len(data)`` exceeds ``max_bytes`` or else ``limits.xml_bytes``.
        XmlSyntaxError: the document is not well-formed (message and ``line`` from libxml2).
        XmlDoctypeForbiddenError: the document has a DOCTYPE (internal or external DTD).
    """
    bound, name = (max_bytes, "max_bytes") if max_bytes is not None else (limits.xml_bytes, "limits.xml_bytes")
    if len(data) > bound:
        raise XmlTooLargeError(
            f"XML document is {len(data)} bytes; expected at most {bound} ({name})",
            path=path,
        )
    # libxml2 still reads an external subset (file://) even with load_dtd=False, so refuse any DOCTYPE
    # before parsing; the docinfo check below covers spellings the byte scan cannot see (UTF-7), and
    # the resolver keeps libxml2 from opening what such a DOCTYPE names.
    if has_doctype_marker(data):
        raise XmlDoctypeForbiddenError("XML declares a DOCTYPE; expected no DOCTYPE", path=path)
    parser = make_parser(huge_tree=huge_tree)
    parser.resolvers.add(_NoExternalResources())  # the docinfo check below then refuses the DOCTYPE
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise XmlSyntaxError(
            f"XML is not well-formed: {exc.msg} (line {line})", path=path, line=line
        ) from None
    tree = root.getroottree()
    docinfo: Any = tree.docinfo  # lxml-stubs lack doctype/internalDTD
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlDoctypeForbiddenError(
            f"XML declares a DOCTYPE ({docinfo.doctype or 'DTD'!s}); expected no DOCTYPE",
            path=path,
        )
    return root


@functools.cache
def load_schema(name: str) -> etree.XMLSchema:
    """The compiled XSD ``schemas/<name>`` (e.g. ``"court/catalog.xsd"``), cached per process.

    Raises:
        ValueError: no such schema file (a caller bug; schemas ship with the package).
    """
    file = (SCHEMA_DIR / name).resolve()
    if SCHEMA_DIR not in file.parents or not file.is_file():
        raise ValueError(f"unknown schema {name!r} (looked in {SCHEMA_DIR})")
    doc = etree.parse(str(file), parser=make_parser())
    return etree.XMLSchema(doc)


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One XSD error: libxml2's message, line and error type name (e.g. ``SCHEMAV_CVC_MAXLENGTH_VALID``)."""

    message: str
    line: int | None
    type_name: str


def schema_violations(root: etree._Element, schema_name: str) -> list[SchemaViolation]:
    """Every XSD error of ``root`` against ``schema_name``; an empty list means valid.

    Raises:
        ValueError: unknown schema name.
    """
    schema = load_schema(schema_name)
    if schema.validate(root):
        return []
    return [
        SchemaViolation(message=shorten(err.message), line=err.line or None, type_name=err.type_name)
        for err in cast(Iterable[Any], schema.error_log)
    ]


def shorten(message: str, limit: int = MESSAGE_CHARS) -> str:
    """``message`` cut to ``limit`` characters, saying how many were cut (a giant attribute is quoted whole).

    >>> shorten("x" * 10, limit=4)
    'xxxx…(6 characters cut)'
    """
    if len(message) <= limit:
        return message
    return f"{message[:limit]}…({len(message) - limit} characters cut)"


def verify_schema(root: etree._Element, schema_name: str, *, path: str | None = None) -> None:
    """Raise on the first XSD error of ``root`` (the control-flow form of :func:`schema_violations`).

    Raises:
        XmlSchemaViolationError: the document does not conform; the message names the line.
        ValueError: unknown schema name.
    """
    errors = schema_violations(root, schema_name)
    if errors:
        first = errors[0]
        raise XmlSchemaViolationError(
            f"{schema_name}: {first.message} (line {first.line}; {len(errors)} error(s) in all)",
            path=path,
            line=first.line,
        )
