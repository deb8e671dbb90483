"""The failures of transfer export and accession, one class each, in the three edossier families."""

from __future__ import annotations

from standards.errors import BadInput, StorageError, VerificationFailed


class TransferSelectionEmpty(BadInput):
    """``export`` was asked to transfer nothing (no ``--all``, no ``--case-number``, or an empty archive)."""

    code = "transfer_selection_empty"


class TransferDossierNotFound(BadInput):
    """A ``--case-number`` names no archived dossier."""

    code = "transfer_dossier_not_found"


class TransferTargetNotEmpty(BadInput):
    """The output folder exists and is not empty (a transfer package is never written over anything)."""

    code = "transfer_target_not_empty"


class RecordCodeMalformed(BadInput):
    """A record (案卷) 档号 is not ``全宗号-类别·年度-保管期限-案卷号`` (or tries to leave its folder)."""

    code = "transfer_record_code_malformed"


class RecordCodeUnusable(BadInput):
    """The documents of a dossier do not share one 全宗号, 类别, 年度 and 案卷号 (no record 档号)."""

    code = "transfer_record_code_unusable"


class DuplicateRecordCode(BadInput):
    """Two dossiers of one transfer have the same record 档号 (their folders would clash; DA/T 70 YJ-1-8)."""

    code = "transfer_record_code_duplicate"


class TransferDocumentInvalid(BadInput):
    """A transfer XML/JSON file (说明文件, 目录文件, 移交清单, 固化信息, 登记表) is unreadable or invalid."""

    code = "transfer_document_invalid"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message, path=path)
        self.line = line


class DossierDamaged(VerificationFailed):
    """A stored object of a dossier is missing or does not match its manifest: it is not transferred."""

    code = "transfer_dossier_damaged"


class RegisterSignatureInvalid(VerificationFailed):
    """The 登记表 signature does not verify with the shipped certificate."""

    code = "transfer_register_signature_invalid"


class DossierInvalid(VerificationFailed):
    """A dossier re-assembled from the store no longer passes validation: no EEP can be built from it."""

    code = "transfer_dossier_invalid"


class TransferWriteFailed(StorageError):
    """The transfer package or the receiver's 登记表 could not be written (disk full, permissions, a race)."""

    code = "transfer_write_failed"
