"""The access policy, table-driven from tests/vectors/access/policy_cases.json, plus its invariants."""

from __future__ import annotations

import doctest
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

import archive.access.errors as access_errors
import archive.access.policy as policy_module
from archive.access.errors import AccessDenied, AccessRefused
from archive.access.policy import (
    ACCESS_KINDS,
    CONTENT_ACCESS,
    MAX_PURPOSE_CHARS,
    ROLES,
    AccessRequest,
    decide_access,
    refusal,
    verify_access,
)
from standards.errors import BadInput

CASES = json.loads(
    (Path(__file__).parents[2] / "vectors" / "access" / "policy_cases.json").read_text("utf-8")
)


def _params(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["name"]) for case in CASES[kind]]


def _decide(case: dict[str, Any]) -> Any:
    limit = case.get("max_purpose_chars", MAX_PURPOSE_CHARS)
    return decide_access(
        case["role"], case["volume"], case["purpose"], case["access"], max_purpose_chars=limit
    )


@pytest.mark.parametrize("case", _params("allowed"))
def test_allowed_cases(case: dict[str, Any]) -> None:
    decision = _decide(case)

    assert decision.allowed and decision.code is None and decision.reason == ""
    assert decision.purpose == case["purpose_recorded"]


@pytest.mark.parametrize("case", _params("refused"))
def test_refused_cases_give_the_code_class_and_a_chinese_reason(case: dict[str, Any]) -> None:
    decision = _decide(case)
    error = refusal(decision, subject="(2024)京0105刑初123号 第7件")

    assert not decision.allowed and decision.code == case["code"]
    assert case["reason"] in decision.reason
    assert type(error) is getattr(access_errors, case["error"])
    assert isinstance(error, BadInput) and error.code == case["code"]
    assert error.reason == f"(2024)京0105刑初123号 第7件：{decision.reason}"
    assert repr(case["role"]) in error.message and "(2024)京0105刑初123号 第7件" in error.message


@pytest.mark.parametrize("case", _params("caller_bugs"))
def test_caller_bugs_raise_value_error(case: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=case["match"]):
        _decide(case)


@pytest.mark.parametrize("case", _params("refused"))
def test_verify_access_raises_what_decide_refuses(case: dict[str, Any]) -> None:
    request = AccessRequest(case["role"], case["volume"], case["purpose"], case["access"])
    limit = case.get("max_purpose_chars", MAX_PURPOSE_CHARS)

    with pytest.raises(AccessRefused) as caught:
        verify_access(request, max_purpose_chars=limit)

    assert caught.value.code == case["code"] and case["reason"] in caught.value.reason


@pytest.mark.parametrize("case", _params("allowed"))
def test_verify_access_returns_for_what_decide_allows(case: dict[str, Any]) -> None:
    request = AccessRequest(case["role"], case["volume"], case["purpose"], case["access"])

    verify_access(request, max_purpose_chars=case.get("max_purpose_chars", MAX_PURPOSE_CHARS))


def test_access_denied_is_bad_input_with_code_access_denied() -> None:
    assert issubclass(AccessDenied, BadInput) and AccessDenied.code == "access_denied"


def test_refusal_of_an_allowing_decision_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="allowed"):
        refusal(decide_access("admin", "正卷", None))


# ---------------------------------------------------------------- invariants over every combination
PURPOSES = (None, "", "  ", "查阅")
GRID = list(itertools.product(ROLES, ("正卷", "副卷"), PURPOSES, ACCESS_KINDS))


def test_internal_volume_content_and_metadata_only_for_archivist_and_admin() -> None:
    for role, volume, purpose, access in GRID:
        if volume == "副卷" and decide_access(role, volume, purpose, access).allowed:
            assert role in ("archivist", "admin"), (role, purpose, access)


def test_auditor_never_gets_document_content() -> None:
    for role, volume, purpose, access in GRID:
        if role == "auditor" and access in CONTENT_ACCESS:
            assert not decide_access(role, volume, purpose, access).allowed, (volume, purpose, access)


def test_internal_volume_is_never_allowed_without_a_purpose() -> None:
    for role, volume, purpose, access in GRID:
        if volume == "副卷" and (purpose or "").strip() == "":
            assert not decide_access(role, volume, purpose, access).allowed, (role, purpose, access)


def test_main_volume_content_is_open_to_every_role_but_auditor_whatever_the_purpose() -> None:
    for role, volume, purpose, access in GRID:
        if volume == "正卷" and role != "auditor":
            assert decide_access(role, volume, purpose, access).allowed, (role, purpose, access)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(policy_module).failed == 0
