#!/usr/bin/env python3
"""Dependency audit for CI: run ``pip-audit`` on the installed environment and decide.

* Any known vulnerability in an installed distribution fails the build (exit 1), naming the package,
  the installed version, the advisory ids and the fixed versions.
* When the vulnerability service cannot be reached, pip-audit reports every dependency as skipped and
  exits 0 — a silent non-audit. This script says so loudly (``DEPENDENCY AUDIT NOT RUN``) and exits 0,
  or 1 when ``EDOSSIER_REQUIRE_DEP_AUDIT=1`` (set it where the service is reachable, so an outage of the
  audit cannot pass unnoticed). Machines that only reach the package index (ours) cannot query PyPI's
  JSON vulnerability API nor OSV.
* Some skipped, some audited (e.g. a local package not on PyPI): the skipped ones are listed.

Usage: ``python .ci/audit_deps.py [PIP_AUDIT_JSON]`` — without an argument it runs
``<this python> -m pip_audit --skip-editable -l -f json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def decide(report: dict[str, Any], *, require: bool) -> tuple[int, list[str]]:
    """Exit code and lines to print for one pip-audit JSON report (pure)."""
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    lines: list[str] = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            lines.append(f"VULNERABLE {dep['name']} {dep.get('version', '?')}: {vuln.get('id')} (fixed in {fixed})")
    if vulnerable:
        return 1, [*lines, f"dependency audit: {len(vulnerable)} vulnerable distribution(s)"]
    if not deps or len(skipped) == len(deps):
        lines.append(
            f"DEPENDENCY AUDIT NOT RUN: the vulnerability service could not be queried "
            f"({len(skipped)} of {len(deps)} dependencies skipped; first reason: "
            f"{skipped[0]['skip_reason'] if skipped else 'no dependencies listed'})"
        )
        return (1 if require else 0), lines
    for dep in skipped:
        lines.append(f"not audited: {dep['name']}: {dep['skip_reason']}")
    lines.append(f"dependency audit: {len(deps) - len(skipped)} audited, 0 vulnerable, {len(skipped)} skipped")
    return 0, lines


def main(argv: list[str]) -> int:
    require = os.environ.get("EDOSSIER_REQUIRE_DEP_AUDIT") == "1"
    if len(argv) > 1:
        report = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "audit.json"
            cmd = [sys.executable, "-m", "pip_audit", "--skip-editable", "-l", "--progress-spinner", "off",
                   "-f", "json", "-o", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
            if not out.exists():
                print(proc.stderr[-2000:], file=sys.stderr)
                print("DEPENDENCY AUDIT NOT RUN: pip-audit failed before writing a report", file=sys.stderr)
                return 1 if require else 0
            report = json.loads(out.read_text(encoding="utf-8"))
    code, lines = decide(report, require=require)
    for line in lines:
        print(line, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
