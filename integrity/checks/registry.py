"""The DA/T 70-2018 item registry: every stage-item (``GD-1-1`` … ``BC-4-9``) and the check that answers it.

The registry is data (``registry.csv`` beside this module, one row per stage-item, in report order:
GD, then YJ, then BC, each by property and number). This module parses and validates that file
behind a cached loader, answers "which items does this stage have", and imports a check by its
dotted path ``"module:function"``. Running checks is left to :mod:`integrity.checks.engine`.

The ids keep the standard's numbering with its deliberate gaps (DA/T 70 Annex A 表A.1: GD has no
1-9, YJ no 1-15, BC no 1-8 …); totals are 36 GD + 35 YJ + 32 BC = 103 stage-items (clause 5).
"""

from __future__ import annotations

import csv
import functools
import importlib
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import cast, get_args

from integrity.checks.model import PROPERTIES, STAGES, CheckContext, ItemResult, Mode, StageItem

REGISTRY_FILE = Path(__file__).with_name("registry.csv")
COLUMNS = ("id", "number", "name", "property", "stage", "mode", "check")
MODES: tuple[Mode, ...] = get_args(Mode)

CheckFunction = Callable[[CheckContext], ItemResult]

_NUMBER = re.compile(r"^[1-4]-[1-9][0-9]?$")
_CHECK_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")


class RegistryInvalid(ValueError):
    """``registry.csv`` is malformed; the message names the line, the column, expected and found."""


def _row_item(line: int, row: dict[str, str]) -> StageItem:
    def bad(column: str, expected: str) -> RegistryInvalid:
        return RegistryInvalid(
            f"registry line {line}, column {column!r}: expected {expected}, found {row[column]!r}"
        )

    number, stage = row["number"], row["stage"]
    if not _NUMBER.match(number):
        raise bad("number", "<property digit 1-4>-<n>, e.g. 1-1")
    if stage not in STAGES:
        raise bad("stage", f"one of {STAGES}")
    if row["id"] != f"{stage}-{number}":
        raise bad("id", f"{stage}-{number} (stage-number)")
    if not row["name"].strip() or not row["name"].endswith("检测"):
        raise bad("name", "the Chinese item name of DA/T 70 表A.1 (ends with 检测)")
    if row["property"] != PROPERTIES[number[0]]:  # DA/T 70 §1.1: property digit → 四性
        raise bad("property", PROPERTIES[number[0]])
    mode = row["mode"]
    if mode not in MODES:
        raise bad("mode", f"one of {MODES}")
    if not _CHECK_PATH.match(row["check"]):
        raise bad("check", "a dotted path module:function")
    return StageItem(
        id=row["id"],
        number=number,
        name=row["name"],
        property=row["property"],
        stage=stage,
        mode=mode,
        check=row["check"],
    )


def parse_registry(text: str) -> tuple[StageItem, ...]:
    """Parse and validate registry CSV text (header :data:`COLUMNS`, one row per stage-item).

    Raises:
        RegistryInvalid: a wrong header, a malformed or inconsistent value, a duplicate id, or no rows.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise RegistryInvalid(f"registry header: expected {','.join(COLUMNS)}, found {header!r}")
    items: list[StageItem] = []
    seen: set[str] = set()
    for line, values in enumerate(reader, start=2):
        if not values:
            continue
        if len(values) != len(COLUMNS):
            raise RegistryInvalid(
                f"registry line {line}: expected {len(COLUMNS)} columns, found {len(values)}"
            )
        item = _row_item(line, dict(zip(COLUMNS, values, strict=True)))
        if item.id in seen:
            raise RegistryInvalid(f"registry line {line}, column 'id': duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise RegistryInvalid("registry: expected at least one stage-item, found none")
    return tuple(items)


@functools.cache
def load_registry() -> tuple[StageItem, ...]:
    """Every stage-item of the packaged ``registry.csv``, in report order (read once, then cached).

    Raises:
        RegistryInvalid: the packaged file is malformed (a build fault).
        OSError: the packaged file cannot be read.
    """
    return parse_registry(REGISTRY_FILE.read_text(encoding="utf-8"))


def items_for(stage: str) -> tuple[StageItem, ...]:
    """The stage-items of ``stage`` (``GD``, ``YJ`` or ``BC``) in registry order.

    Raises:
        ValueError: ``stage`` is not one of GD, YJ, BC.
    """
    if stage not in STAGES:
        raise ValueError(f"stage: expected one of {STAGES}, found {stage!r}")
    return tuple(i for i in load_registry() if i.stage == stage)


def get_item(item_id: str) -> StageItem:
    """The stage-item with id ``item_id`` (e.g. ``YJ-1-9``).

    Raises:
        KeyError: no stage-item has that id.
    """
    for item in load_registry():
        if item.id == item_id:
            return item
    raise KeyError(item_id)


def load_callable(path: str) -> Callable[..., object]:
    """Import ``"package.module:function"`` and return the callable.

    Raises:
        ValueError: ``path`` is not of the form ``module:function``.
        ImportError: the module cannot be imported (``ModuleNotFoundError`` when it does not exist)
            or it has no attribute ``function``.
        TypeError: the attribute is not callable.
    """
    if not _CHECK_PATH.match(path):
        raise ValueError(f"check path: expected 'module:function', found {path!r}")
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    try:
        target = getattr(module, attribute)
    except AttributeError:
        raise ImportError(
            f"module {module_name!r} has no attribute {attribute!r}", name=module_name
        ) from None
    if not callable(target):
        raise TypeError(f"{path}: expected a callable, found {type(target).__name__}")
    return cast(Callable[..., object], target)


def load_check(path: str) -> CheckFunction:
    """Import the check function named by a registry ``check`` path.

    Raises:
        ValueError: ``path`` is not of the form ``module:function``.
        ImportError: the module or the function does not exist (yet) or fails to import.
        TypeError: the attribute is not callable.
    """
    return cast(CheckFunction, load_callable(path))
