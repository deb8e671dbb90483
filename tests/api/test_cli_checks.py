"""``edossier checks list``: every stage-item, or one stage, as a table or one JSON array."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from api.cli_checks import checks_app


def test_checks_list_json_prints_all_103_stage_items() -> None:
    result = CliRunner().invoke(checks_app, ["list", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == 103
    assert rows[0] == {
        "id": "GD-1-1",
        "name": "固化信息有效性检测",
        "property": "真实性",
        "stage": "GD",
        "mode": "automated",
    }


def test_checks_list_filters_by_stage() -> None:
    rows = json.loads(CliRunner().invoke(checks_app, ["list", "--json", "--stage", "YJ"]).stdout)
    assert len(rows) == 35 and {r["stage"] for r in rows} == {"YJ"}


def test_checks_list_prints_a_chinese_table() -> None:
    result = CliRunner().invoke(checks_app, ["list", "--stage", "BC"])
    assert result.exit_code == 0
    assert "BC-3-9" in result.stdout and "共 32 项" in result.stdout


def test_checks_list_rejects_an_unknown_stage_as_usage_error() -> None:
    assert CliRunner().invoke(checks_app, ["list", "--stage", "XX"]).exit_code == 2
