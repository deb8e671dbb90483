"""Load the register test vectors (``tests/vectors/register``): inputs, months, and the expected rows or error."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from archive.register.model import (
    CaseRecord,
    DossierRecord,
    RegisterInputs,
    SubmissionRecord,
    VerificationRecord,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "register"


def names(kind: str) -> list[str]:
    return sorted(p.stem for p in (VECTORS / kind).glob("*.json"))


def load(kind: str, name: str) -> dict[str, Any]:
    value = json.loads((VECTORS / kind / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def inputs(vector: dict[str, Any]) -> RegisterInputs:
    raw = vector["inputs"]
    return RegisterInputs(
        cases=tuple(
            CaseRecord(c["case_number"], c["department"], dt.date.fromisoformat(c["closing_date"]))
            for c in raw["cases"]
        ),
        dossiers=tuple(
            DossierRecord(
                archive_id=d["archive_id"],
                case_number=d["case_number"],
                department=d["department"],
                closing_date=dt.date.fromisoformat(d["closing_date"]),
                archived_at=instant(d["archived_at"]),
                object_keys=tuple(d["object_keys"]),
            )
            for d in raw["dossiers"]
        ),
        submissions=tuple(
            SubmissionRecord(instant(s["received_at"]), s["case_number"], s["status"])
            for s in raw["submissions"]
        ),
        verifications=tuple(
            VerificationRecord(v["key"], instant(v["checked_at"])) for v in raw["verifications"]
        ),
    )
