"""Loads the ledger test vectors from tests/vectors/ledger/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LEDGER_VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "ledger"


def load(name: str) -> Any:
    return json.loads((LEDGER_VECTORS / name).read_text(encoding="utf-8"))
