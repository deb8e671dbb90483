"""A problem found while validating a package: ``{code, item, path, line, message}``.

Validators collect every problem instead of stopping at the first. ``code`` is a stable English
identifier, ``item`` the DA/T 70 detection item id when one applies (e.g. ``GD-2-6``), ``path`` the
package-relative file, ``line`` the XML line when known, and ``message`` a Chinese sentence for the
case team that names the field, the expected and the found value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    item: str | None = None
    path: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in ("code", "item", "path", "line", "message")}
