"""Find and verify the signatures embedded in a PDF (DA/T 70-2018 x-1-1 固化信息有效性检测).

DA/T 70 item 1-1 asks that the fixity information a file carries — digests, electronic signatures,
electronic seals, timestamps — be valid. For PDF content files the signatures live in the file itself
(ISO 32000-2 §12.8: a signature field ``/FT /Sig`` whose value ``/V`` is a signature dictionary whose
``/ByteRange`` names the signed bytes and ``/Contents`` holds a CMS SignedData).

* :func:`find_pdf_signatures` lists the signed signature fields cheaply with pikepdf (no cryptography).
* :func:`verify_pdf_signatures` validates every embedded signature and document timestamp with pyHanko
  (``pyhanko.sign.validation.validate_pdf_signature`` / ``validate_pdf_timestamp``) and returns one
  :class:`PdfSignatureOutcome` each: *intact* (the digest in the signature equals the digest of the signed
  byte ranges), *valid* (the CMS signature verifies with the signer certificate's key), *trusted* (the
  signer certificate chains to one of ``roots``; ``None`` when no roots are given — then trust is not
  checked at all, never the operating system's list), *coverage* (the whole file, or only the signed
  revision with incremental updates appended later).
* :func:`assess_outcome` (pure) turns an outcome into failures and warnings, each an exception class of
  :class:`PdfSignatureError` so callers and tests can name them.

No network: the validation context has ``allow_fetching=False`` and revocation is ``soft-fail`` (no CRL
or OCSP is fetched; revocation information embedded in the file is still used by pyHanko). Not done here:
SM2/SM3 signatures (GB/T 38540 电子签章) — pyHanko does not implement SM2, so such signatures come back
with ``error`` set and ``valid`` None ("could not verify", never "invalid"); OFD seals are another module.

pyHanko runs each validation through ``asyncio.run``: call these functions from a thread without a
running event loop (the audit runner and the CLI do; an async web handler must use a worker thread).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from standards.errors import BadInput, VerificationFailed

COVERAGE_ENTIRE_FILE = "entire_file"
MAX_FIELD_DEPTH = 32  # /Kids nesting we follow (ISO 32000 sets no limit; hostile files may loop)
_COVERAGE_NAMES = {
    "UNCLEAR": "unclear",
    "CONTIGUOUS_BLOCK_FROM_START": "contiguous_block_from_start",
    "ENTIRE_REVISION": "entire_revision",
    "ENTIRE_FILE": COVERAGE_ENTIRE_FILE,
}
COVERAGE_TEXT = {
    "entire_file": "覆盖整个文件",
    "entire_revision": "仅覆盖签名时的版本，签名后文件被追加修改（增量更新）",
    "contiguous_block_from_start": "仅覆盖文件开头的一段连续字节",
    "unclear": "覆盖范围不明确",
}


# ---------------------------------------------------------------- errors
class PdfSignatureError(VerificationFailed):
    """Root of every embedded-PDF-signature finding (DA/T 70 x-1-1)."""

    code = "pdf_signature_error"


class PdfSignatureNotIntact(PdfSignatureError):
    """The bytes the signature covers no longer hash to the digest it signed (the file was changed)."""

    code = "pdf_signature_not_intact"


class PdfSignatureInvalid(PdfSignatureError):
    """The CMS signature does not verify with the signer certificate's public key."""

    code = "pdf_signature_invalid"


class PdfSignatureUntrusted(PdfSignatureError):
    """The signer certificate does not chain to a configured trust root (or is not valid now)."""

    code = "pdf_signature_untrusted"


class PdfSignatureNotCoveringFile(PdfSignatureError):
    """The signature is intact but covers only part of the file (incremental updates after signing)."""

    code = "pdf_signature_partial_coverage"


class PdfSignatureUnverifiable(PdfSignatureError):
    """The signature could not be verified (unsupported algorithm such as SM2, malformed CMS, …)."""

    code = "pdf_signature_unverifiable"


class PdfUnreadable(BadInput):
    """The PDF structure cannot be read well enough to find or verify its signatures."""

    code = "pdf_unreadable"


# ---------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class PdfSignatureField:
    """A signed signature field: fully qualified name, ``/V /Type`` (/Sig or /DocTimeStamp), /SubFilter."""

    name: str
    sig_type: str | None
    subfilter: str | None


@dataclass(frozen=True, slots=True)
class PdfSignatureOutcome:
    """What verification found for one embedded signature (``kind`` "signature" or "doc_timestamp").

    ``kind`` "file" is used by callers for a PDF that could not be read at all (``field`` empty).
    ``signing_time`` is ISO 8601: the signer-reported time (not proof of time) or, for a document
    timestamp, the time-stamp token's genTime. ``modification`` is pyHanko's judgement of the changes
    made after signing (``NONE``, ``LTA_UPDATES``, ``FORM_FILLING``, ``ANNOTATIONS``, ``OTHER``).
    ``None`` in intact/valid means "not determined"; ``error`` then says why.
    """

    field: str
    kind: str
    signer: str | None = None
    signing_time: str | None = None
    intact: bool | None = None
    valid: bool | None = None
    trusted: bool | None = None
    coverage: str | None = None
    modification: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PdfSignatureOutcome:
        """Rebuild an outcome from :meth:`as_dict` output (unknown keys are ignored).

        Raises:
            TypeError: ``data`` lacks ``field`` or ``kind``.
        """
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


# ---------------------------------------------------------------- finding (pikepdf)
def _walk_fields(
    fields: Any, parent: str, inherited_ft: str | None, depth: int, seen: set[tuple[int, int]]
) -> Iterator[PdfSignatureField]:
    import pikepdf

    if depth > MAX_FIELD_DEPTH or not isinstance(fields, pikepdf.Array):
        return
    for field in fields:
        if not isinstance(field, pikepdf.Dictionary):
            continue
        if field.is_indirect:
            if field.objgen in seen:
                continue
            seen.add(field.objgen)
        partial = str(field.get("/T", "")) if "/T" in field else ""
        name = f"{parent}.{partial}" if parent and partial else (partial or parent)
        # /FT is inheritable (ISO 32000-2 §12.7.4.1)
        ft = str(field["/FT"]) if "/FT" in field else inherited_ft
        if "/Kids" in field:
            yield from _walk_fields(field["/Kids"], name, ft, depth + 1, seen)
        value = field.get("/V")
        if ft == "/Sig" and isinstance(value, pikepdf.Dictionary):
            sig_type = str(value["/Type"]) if "/Type" in value else None
            subfilter = str(value["/SubFilter"]) if "/SubFilter" in value else None
            yield PdfSignatureField(name, sig_type, subfilter)


def find_pdf_signatures(path: Path) -> list[PdfSignatureField]:
    """The signed signature fields of the PDF at ``path`` (``/AcroForm /Fields``, ``/FT /Sig``, ``/V`` dict).

    Empty signature fields (no ``/V``) are not listed: there is nothing to verify.

    Raises:
        OSError: the file cannot be opened.
        PdfUnreadable: pikepdf (qpdf) cannot parse the file as a PDF.
    """
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            acroform = pdf.Root.get("/AcroForm")
            if not isinstance(acroform, pikepdf.Dictionary):
                return []
            return list(_walk_fields(acroform.get("/Fields"), "", None, 0, set()))
    except pikepdf.PdfError as exc:
        raise PdfUnreadable(f"PDF 无法解析：{exc}", path=str(path)) from None


# ---------------------------------------------------------------- verifying (pyHanko)
def _coverage(level: Any) -> str | None:
    return None if level is None else _COVERAGE_NAMES.get(level.name, level.name.lower())


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _trusted(status: Any, roots_given: bool) -> bool | None:
    """Chain-to-root only (pyHanko's ``trusted`` also folds in intact/valid, which we report apart)."""
    if not roots_given:
        return None
    return status.trust_problem_indic is None and status.validation_path is not None


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _verify_one(emb: Any, roots: Sequence[bytes], at: dt.datetime | None) -> PdfSignatureOutcome:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    kind = "doc_timestamp" if emb.sig_object_type == "/DocTimeStamp" else "signature"
    name = str(emb.field_name or "")
    try:
        vc = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(der) for der in roots],  # [] → no OS trust list
            allow_fetching=False,  # no network: no CRL/OCSP/AIA fetching
            revocation_mode="soft-fail",
            moment=at,
        )
        if kind == "doc_timestamp":
            ts_status = validate_pdf_timestamp(emb, validation_context=vc)
            return PdfSignatureOutcome(
                field=name,
                kind=kind,
                signer=ts_status.signing_cert.subject.human_friendly,
                signing_time=_iso(ts_status.timestamp),
                intact=bool(ts_status.intact),
                valid=bool(ts_status.valid),
                trusted=_trusted(ts_status, bool(roots)),
                coverage=_coverage(ts_status.coverage),
                modification=ts_status.modification_level.name if ts_status.modification_level else None,
            )
        status = validate_pdf_signature(
            emb,
            signer_validation_context=vc,
            # signer certificates of court CAs carry digitalSignature and/or nonRepudiation
            key_usage_settings=KeyUsageConstraints(
                key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
            ),
        )
    except Exception as exc:  # pyHanko raises many types for malformed or unsupported signatures
        return PdfSignatureOutcome(field=name, kind=kind, error=_error_text(exc))
    return PdfSignatureOutcome(
        field=name,
        kind=kind,
        signer=status.signing_cert.subject.human_friendly,
        signing_time=_iso(status.signer_reported_dt),
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=_trusted(status, bool(roots)),
        coverage=_coverage(status.coverage),
        modification=status.modification_level.name if status.modification_level else None,
    )


def verify_pdf_signatures(
    path: Path, roots: Sequence[bytes] = (), *, at: dt.datetime | None = None
) -> list[PdfSignatureOutcome]:
    """Validate every embedded signature and document timestamp of the PDF at ``path``, in signing order.

    ``roots`` are trusted DER certificates; empty means trust is not checked (``trusted`` None). ``at`` is
    when certificates must be valid (default: now). A signature pyHanko cannot validate comes back with
    ``error`` set instead of raising.

    Raises:
        OSError: the file cannot be opened.
        PdfUnreadable: pyHanko cannot read the PDF structure (xref, trailer) to enumerate signatures.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(path, "rb") as fh:
        try:
            reader = PdfFileReader(fh, strict=False)
            embedded = list(reader.embedded_signatures)
        except (PdfError, ValueError, KeyError, TypeError) as exc:
            raise PdfUnreadable(f"PDF 签名无法读取：{_error_text(exc)}", path=str(path)) from None
        return [_verify_one(emb, roots, at) for emb in embedded]


def unmatched_fields(
    fields: Sequence[PdfSignatureField], outcomes: Sequence[PdfSignatureOutcome]
) -> list[PdfSignatureOutcome]:
    """Outcomes (``error`` set) for signed fields pikepdf found but pyHanko did not verify."""
    verified = {o.field for o in outcomes}
    return [
        PdfSignatureOutcome(
            field=f.name,
            kind="doc_timestamp" if f.sig_type == "/DocTimeStamp" else "signature",
            error="签名域存在但未能取得签名进行验证（pyHanko 未识别该签名）",
        )
        for f in fields
        if f.name not in verified
    ]


# ---------------------------------------------------------------- assessment (pure)
def assess_outcome(outcome: PdfSignatureOutcome) -> tuple[list[PdfSignatureError], list[PdfSignatureError]]:
    """``(failures, warnings)`` for one outcome — DA/T 70 x-1-1 policy for embedded PDF signatures.

    Failures: not intact (the signed bytes changed), cryptographically invalid. Warnings: could not be
    verified (error, or intact/valid undetermined), does not chain to the configured roots, covers only
    part of the file. ``trusted`` None (no roots configured) is neither: the report says trust was not
    checked.
    """
    label = f"签名域“{outcome.field}”" if outcome.field else "PDF 文件"
    fails: list[PdfSignatureError] = []
    warns: list[PdfSignatureError] = []
    if outcome.error is not None or outcome.intact is None or outcome.valid is None:
        warns.append(PdfSignatureUnverifiable(f"{label}未能验证：{outcome.error or '验证结果不完整'}"))
        return fails, warns
    if not outcome.intact:
        fails.append(PdfSignatureNotIntact(f"{label}签名覆盖的字节已被改动：摘要与签名中记录的不一致"))
    if not outcome.valid:
        fails.append(PdfSignatureInvalid(f"{label}的签名值无法用签名者证书公钥验证"))
    if outcome.trusted is False:
        warns.append(
            PdfSignatureUntrusted(f"{label}的签名者证书（{outcome.signer}）不能链接到配置的信任根证书")
        )
    if outcome.coverage != COVERAGE_ENTIRE_FILE:
        text = COVERAGE_TEXT.get(outcome.coverage or "unclear", outcome.coverage or "")
        warns.append(PdfSignatureNotCoveringFile(f"{label}的签名{text}"))
    return fails, warns
