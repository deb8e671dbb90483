"""Every hostile package of the corpus is rejected by ingest with its named error, and nothing is stored.

Container-level vectors are refused while opening (one error); content-level ones are staged, then
refused by validation, whose problem comes first. Ingest takes court packages only: a bag is refused
as a court package without 说明文件, an EEP file as not a ZIP (``ingest_code`` in expected.csv).
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pytest

from api.wiring import Installation, initialise, open_installation
from archive.catalog import queries
from archive.ingest.rejections import _CHINESE
from archive.settings import Settings

HOSTILE = Path(__file__).resolve().parents[2] / "vectors" / "packages" / "hostile"
CASES = list(csv.DictReader((HOSTILE / "expected.csv").open(encoding="utf-8")))
EMPTY = {"dossiers": 0, "documents": 0, "blobs": 0, "blob_bytes": 0, "ledger_size": 0}


@pytest.fixture(scope="module")
def sqlite_installation(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    settings = Settings(data_dir=tmp_path_factory.mktemp("hostile") / "data")
    initialise(settings)
    return open_installation(settings)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_hostile_package_is_rejected_with_named_error_and_nothing_stored(
    sqlite_installation: Installation, case: dict[str, str]
) -> None:
    source = HOSTILE / case["file"]
    before = hashlib.sha256(source.read_bytes()).hexdigest()

    outcome = sqlite_installation.ingest_service().ingest(source)

    assert outcome.status == "rejected"
    codes = [p.code for p in outcome.errors]
    if case["reader"] == "zip":
        assert codes == [case["code"]]
    else:
        assert codes[0] == case["ingest_code"], codes
    problem = outcome.errors[0]
    assert problem.item and problem.item.startswith("GD-")
    if problem.code in _CHINESE:  # an intake refusal: a Chinese explanation, then the English detail
        assert problem.message.startswith(_CHINESE[problem.code])
    else:  # a validation problem is written in Chinese
        assert re.search(r"[\u4e00-\u9fff]", problem.message), problem.message
    with sqlite_installation.sessions() as session:
        assert dict(queries.catalog_stats(session)) == EMPTY
    assert list(sqlite_installation.store.iter_objects("")) == []
    staging = sqlite_installation.settings.staging_dir
    assert list(staging.iterdir()) == []
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before  # the input is untouched


def test_every_intake_error_code_has_a_chinese_explanation() -> None:
    import archive.intake.errors as errors

    codes = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.IntakeError) and cls is not errors.IntakeError
    }
    assert codes - set(_CHINESE) == set()
