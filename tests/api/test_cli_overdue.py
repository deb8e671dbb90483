"""``edossier audit overdue [--alert]``: objects past their fixity deadline, listed and alerted."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from api.cli_overdue import audit_overdue
from api.wiring import initialise, open_installation
from archive.catalog.models import Blob
from archive.settings import Settings
from tests.support.alert_receivers import Webhook, webhook_receiver

audit_app = typer.Typer(pretty_exceptions_enable=False)
audit_app.command("overdue")(audit_overdue)  # as api/cli.py is asked to register it under `audit`
app = typer.Typer(pretty_exceptions_enable=False)
app.add_typer(audit_app, name="audit")
runner = CliRunner()
DAY = dt.timedelta(days=1)


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "overdue", *[str(a) for a in args]], catch_exceptions=False)
    return result.exit_code, result.stdout


def key(n: int) -> str:
    digest = hashlib.sha256(str(n).encode()).hexdigest()
    return f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An installation holding one blob stored 400 days ago and one 10 days ago, never audited."""
    settings = Settings(data_dir=tmp_path / "data")
    initialise(settings)
    inst = open_installation(settings)
    now = dt.datetime.now(dt.UTC)
    try:
        with inst.write_sessions() as session, session.begin():
            for n, age in ((1, 400), (2, 10)):
                digest = key(n).rsplit("/", 1)[1]
                session.add(
                    Blob(sha256=digest, sm3=digest, size=1, store_key=key(n), created_at=now - age * DAY)
                )
    finally:
        inst.close()
    return settings.data_dir


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    with webhook_receiver() as receiver:
        monkeypatch.setenv("EDOSSIER_ALERTS__WEBHOOKS", json.dumps([receiver.url]))
        monkeypatch.setenv("EDOSSIER_ALERTS__LOG", "false")
        yield receiver


def one_json(stdout: str) -> dict[str, Any]:
    value = json.loads(stdout)
    assert isinstance(value, dict)
    return value


def test_audit_overdue_lists_only_the_object_past_its_fixity_deadline(data_dir: Path) -> None:
    code, stdout = run("--json", "--data-dir", data_dir)

    result = one_json(stdout)
    assert code == 0
    assert result["max_age_days"] == 365
    assert [(o["key"], o["last_verified"], o["days_overdue"]) for o in result["overdue"]] == [
        (key(1), None, 35)
    ]


def test_audit_overdue_age_comes_from_the_audit_policy_setting(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDOSSIER_AUDIT__FIXITY_EVERY_DAYS", "500")

    code, stdout = run("--json", "--data-dir", data_dir)

    assert code == 0
    assert one_json(stdout)["overdue"] == []
    _, shorter = run("--json", "--max-age-days", "2", "--data-dir", data_dir)  # the flag overrides it
    assert [(o["key"], o["days_overdue"]) for o in one_json(shorter)["overdue"]] == [
        (key(1), 398),
        (key(2), 8),
    ]


def test_audit_overdue_alert_sends_the_object_key_once(data_dir: Path, hook: Webhook) -> None:
    code, stdout = run("--alert", "--json", "--data-dir", data_dir)
    _, again = run("--alert", "--json", "--data-dir", data_dir)

    assert code == 0
    assert one_json(stdout)["alerts_sent"] == 1
    assert one_json(again)["alerts_sent"] == 0 and one_json(again)["alerts_suppressed"] == 1
    [alert] = hook.alerts()
    assert alert["kind"] == "overdue_audit" and alert["subject"] == key(1)
    assert "已逾期 35 日" in alert["message"]


def test_audit_overdue_table_for_people(data_dir: Path, hook: Webhook) -> None:
    code, stdout = run("--alert", "--data-dir", data_dir)

    assert code == 0
    assert "逾期未核验对象" in stdout and "已发送审计逾期预警 1 条" in stdout
