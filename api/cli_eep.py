"""``edossier validate FILE.xml`` for a DA/T 48-2009 electronic record encapsulation package (EEP).

The EEP is decoded into a scratch staging folder (Base64 streamed, sizes checked against
计算机文件大小) and judged by the three EEP detection items — structure (BC-1-15), signatures
(BC-1-16) and encapsulation metadata (BC-2-10). Exit 0 when none fails, 1 otherwise.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from api import cli_output as ui
from api.cli_common import EXIT_INVALID, EXIT_OK
from archive.ingest.rejections import problem_from_error
from archive.settings import Settings
from integrity.checks.eep import (
    check_eep_metadata,
    check_eep_signatures,
    check_eep_structure,
    gather_eep_facts,
)
from integrity.checks.model import CheckContext, ItemResult
from standards.eep import decode_eep_files
from standards.errors import BadInput, VerificationFailed


def looks_like_xml(path: Path) -> bool:
    """Whether ``path`` is a file whose first non-blank byte (after a UTF-8 BOM) is ``<``."""
    if not path.is_file():
        return False
    with path.open("rb") as f:
        head = f.read(64)
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"<")


def validate_eep_command(path: Path, settings: Settings, as_json: bool) -> int:
    """Validate one EEP file; print the three item results (or the refusal); return the exit code."""
    now = dt.datetime.now(dt.UTC)
    results: list[ItemResult] = []
    refusal = None
    with tempfile.TemporaryDirectory(prefix="edossier-eep-") as tmp:
        try:
            staged = decode_eep_files(path, Path(tmp) / "staged", settings.limits)
        except (BadInput, VerificationFailed) as error:
            refusal = problem_from_error(error)
        else:
            facts = gather_eep_facts(staged, settings, "BC", now=now)
            ctx = CheckContext(stage="BC", now=now, package=staged, facts=facts)
            results = [check_eep_structure(ctx), check_eep_signatures(ctx), check_eep_metadata(ctx)]
    problems = [refusal] if refusal else [p for r in results if r.status == "fail" for p in r.problems]
    valid = refusal is None and not any(r.status == "fail" for r in results)
    if as_json:
        ui.emit_json(
            {
                "valid": valid,
                "form": "eep",
                "errors": [p.as_dict() for p in problems],
                "results": [r.as_dict() for r in results],
            }
        )
    else:
        word = "[green]检测通过[/]" if valid else "[red]检测未通过[/]"
        ui.out.print(f"{word}：{path}（DA/T 48-2009 电子文件封装包）")
        for r in results:
            ui.out.print(f"  {r.item}  {r.status:<14} {r.summary}", markup=False)
        if problems:
            ui.out.print(ui.problems_table(problems, "检测问题（DA/T 70-2018）"))
    return EXIT_OK if valid else EXIT_INVALID
