"""An archived installation with a failed audit, an alert naming the 副卷 and an overdue case, served by the
real app (FastAPI TestClient); helpers to log a browser session in."""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.wiring import Installation
from archive.catalog.models import Blob, ClosedCase, Document
from archive.settings import Settings
from integrity.alerts.catalog import record_alerts
from integrity.alerts.model import Alert
from integrity.audit.runner import run_audit
from tests.api.http.conftest import Served, make_served

NOW = dt.datetime.now(dt.UTC)
COOKIE = "edossier_ui"
#: A 副卷 title that must never reach an auditor's page.
SECONDARY_PATH = "副卷/90-合议庭评议笔录.pdf"
OVERDUE_CASE = "（2023）京0105民初9999号"


@dataclass
class World:
    """The served app plus what the fixture did to it."""

    served: Served
    run_id: str
    incident_key: str
    secondary_titles: list[str]
    primary_titles: list[str]

    @property
    def client(self) -> TestClient:
        return self.served.client

    def login(self, role: str) -> None:
        """Log the client's browser session in as ``role`` (through the login form)."""
        self.client.cookies.clear()
        response = self.client.post(
            "/ui/login", data={"token": self.served.tokens[role], "next": "/ui"}, follow_redirects=False
        )
        assert response.status_code == 303, response.text


def tamper_one_blob(inst: Installation) -> str:
    """Flip a byte of the first content blob on disk; its store key."""
    with inst.sessions() as session:
        blob = session.scalars(select(Blob).order_by(Blob.store_key)).first()
        assert blob is not None
        key = blob.store_key
    path = inst.settings.store_dir.joinpath(*key.split("/"))
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return key


def prepare(served: Served) -> World:
    inst = served.inst
    key = tamper_one_blob(inst)
    summary = run_audit(inst, "fixity", NOW, alert=False)
    assert summary.status == "failed"
    with inst.write_sessions() as session, session.begin():
        record_alerts(
            session,
            [
                Alert.create(
                    "incident",
                    SECONDARY_PATH,
                    f"档案 {served.archive_id} 利用时发现存储对象缺失：{SECONDARY_PATH}",
                    now=NOW,
                    details={
                        "archive_id": served.archive_id,
                        "run_id": summary.run_id,
                        "path": SECONDARY_PATH,
                    },
                )
            ],
        )
        session.add(
            ClosedCase(
                case_number=OVERDUE_CASE,
                court_name=None,
                department="民一庭",
                judge="王法官",
                closing_date=dt.date(2023, 1, 5),
                source="test",
                reported_at=NOW,
                updated_at=NOW,
            )
        )
    with inst.sessions() as session:
        docs = session.scalars(select(Document).where(Document.archive_id == served.archive_id)).all()
        secondary = [d.title for d in docs if d.volume == "副卷"]
        primary = [d.title for d in docs if d.volume == "正卷"]
    assert secondary and primary
    return World(served, summary.run_id, key, secondary, primary)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sample_package: Path) -> Iterator[World]:
    """One installation for the module (SQLite under the data directory); each test starts logged out."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("ui") / "data")
    for served in make_served(settings, sample_package):
        yield prepare(served)


@pytest.fixture
def ui(world: World) -> World:
    world.client.cookies.clear()
    return world
