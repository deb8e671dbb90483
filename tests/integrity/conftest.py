"""SQLite fixtures for the ledger store tests (tables from the models; migrations are tested elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from archive.catalog.models import Base


@pytest.fixture
def ledger_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger_sessions(ledger_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(ledger_engine)


@pytest.fixture
def ledger_session(ledger_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with ledger_engine.connect() as conn:
        trans = conn.begin()
        session = Session(bind=conn)
        yield session
        session.close()
        trans.rollback()
