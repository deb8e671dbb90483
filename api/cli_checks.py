"""``edossier checks``: list the DA/T 70-2018 detection items (stage-items) the system answers.

``edossier checks list [--json] [--stage GD|YJ|BC]`` prints every stage-item with its id, name,
property, stage and mode (how edossier answers it: automated, manual, not_applicable). With
``--json`` stdout holds exactly one JSON array of ``{"id","name","property","stage","mode"}``.
Running the checks is left to the ingest and audit commands.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from api import cli_output as ui
from api.cli_common import JsonOption, fail_usage
from integrity.checks.model import STAGE_NAMES, STAGES, StageItem
from integrity.checks.registry import items_for, load_registry

checks_app = typer.Typer(help="DA/T 70-2018 四性检测项目 (detection items).", no_args_is_help=True)

_MODE_NAMES = {"automated": "自动", "manual": "人工", "not_applicable": "不适用"}

StageOption = Annotated[
    str | None, typer.Option("--stage", help="Only this stage: GD (归档), YJ (移交与接收), BC (长期保存).")
]


@checks_app.callback()
def _checks() -> None:
    """DA/T 70-2018 四性检测项目 (detection items)."""


def item_rows(items: tuple[StageItem, ...]) -> list[dict[str, str]]:
    """The JSON shape of ``checks list``."""
    return [
        {"id": i.id, "name": i.name, "property": i.property, "stage": i.stage, "mode": i.mode} for i in items
    ]


@checks_app.command("list")
def list_items(stage: StageOption = None, as_json: JsonOption = False) -> None:
    """List the detection items of every stage, or of one stage."""
    if stage is not None and stage.upper() not in STAGES:
        fail_usage(f"--stage: expected one of {', '.join(STAGES)}, found {stage!r}")
    items = items_for(stage.upper()) if stage is not None else load_registry()
    if as_json:
        sys.stdout.write(json.dumps(item_rows(items), ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
        return
    title = "DA/T 70-2018 检测项目" + (f"（{STAGE_NAMES[stage.upper()]}环节）" if stage else "")
    table = Table(title=title)
    for column in ("检测项", "名称", "属性", "环节", "方式"):
        table.add_column(column, overflow="fold")
    for i in items:
        table.add_row(i.id, i.name, i.property, STAGE_NAMES[i.stage], _MODE_NAMES.get(i.mode, i.mode))
    ui.out.print(table)
    ui.out.print(f"共 {len(items)} 项")
