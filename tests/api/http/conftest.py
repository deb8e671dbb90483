"""An archived installation served by the real app (FastAPI TestClient), with one token per role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.wiring import Installation, initialise, open_installation
from archive.sample import generate_sample
from archive.settings import Settings
from archive.tokens import ROLES, create_token

SAMPLE_NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


@dataclass
class Served:
    """The app's client, its installation, a token per role and the archived dossier's id."""

    client: TestClient
    inst: Installation
    tokens: dict[str, str]
    archive_id: str
    case_number: str

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="module")
def sample_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("http-sample") / "pkg"
    generate_sample(folder, seed=21, documents=8, now=SAMPLE_NOW)
    return folder


def make_served(settings: Settings, package: Path) -> Iterator[Served]:
    initialise(settings)
    inst = open_installation(settings)
    outcome = inst.ingest_service().ingest(package)
    assert outcome.status == "archived" and outcome.archive_id is not None
    now = dt.datetime.now(dt.UTC)
    with inst.write_sessions() as session, session.begin():
        tokens = {role: create_token(session, f"test {role}", role, now).text for role in ROLES}
    with TestClient(create_app(settings, installation=inst), raise_server_exceptions=False) as client:
        yield Served(client, inst, tokens, outcome.archive_id, outcome.case_number or "")
    inst.close()


@pytest.fixture
def served(tmp_path: Path, sample_package: Path, fresh_database_url: Callable[..., str]) -> Iterator[Served]:
    settings = Settings(data_dir=tmp_path / "data", database_url=fresh_database_url("sqlite"))
    yield from make_served(settings, sample_package)
