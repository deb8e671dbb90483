"""The one exception hierarchy of edossier.

Every failure edossier reports on purpose is an :class:`EdossierError` in one of three families:

* :class:`BadInput` – what a user, a package or a request gave us is wrong (a hostile ZIP entry,
  broken XML, an unknown 案号 type code). Retrying will not help; the input must change.
* :class:`VerificationFailed` – something that should hold does not (a digest differs, a proof does
  not verify, a signature is wrong). This is evidence, not an outage.
* :class:`StorageUnavailable` / :class:`StorageError` – the object store or the database could not do
  what was asked. An outage is never reported as tampering.

Each distinct failure has its own class so callers, tests and the HTTP layer can tell them apart.
Messages name the field and show expected and found values; ``diagnostics()`` gives a text for people.
Caller bugs raise ``ValueError``/``TypeError`` instead. This module lives in ``standards`` because that
package is the pure base every other package may import.
"""

from __future__ import annotations


class EdossierError(Exception):
    """Root of every deliberate edossier failure.

    ``code`` is a stable machine-readable identifier (used in JSON output); ``item`` is the DA/T 70
    detection item the failure belongs to, when there is one.
    """

    code: str = "edossier_error"
    item: str | None = None

    def __init__(self, message: str, *, path: str | None = None, item: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        if item is not None:
            self.item = item

    def diagnostics(self) -> str:
        """A readable, multi-line explanation for people (CLI, logs)."""
        lines = [f"{type(self).__name__}: {self.message}"]
        if self.path:
            lines.append(f"  path: {self.path}")
        if self.item:
            lines.append(f"  DA/T 70 item: {self.item}")
        return "\n".join(lines)


# ---------------------------------------------------------------- families
class BadInput(EdossierError):
    """The input is malformed, hostile or outside the configured limits."""

    code = "bad_input"


class VerificationFailed(EdossierError):
    """A digest, proof, signature or consistency check did not hold."""

    code = "verification_failed"


class StorageError(EdossierError):
    """The object store or catalog refused or failed an operation."""

    code = "storage_error"


class StorageUnavailable(StorageError):
    """The object store or database cannot be reached (an outage, not tampering)."""

    code = "storage_unavailable"
