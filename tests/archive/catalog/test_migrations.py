"""Migrations up and down on SQLite and PostgreSQL, compared with the models like ``alembic check``."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from archive.catalog.db import (
    SCHEMA_HEAD,
    current_revision,
    downgrade_to_base,
    head_revision,
    make_engine,
    upgrade,
)
from archive.catalog.models import Base

MODEL_TABLES = set(Base.metadata.tables)


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_head_revision_is_0009() -> None:
    assert head_revision() == "0009"


def test_upgrade_head_matches_models_then_downgrade_removes_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == "0009"
        assert set(inspect(engine).get_table_names()) >= MODEL_TABLES
        assert _differences(engine) == []

        downgrade_to_base(engine)
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) & MODEL_TABLES == set()
    finally:
        engine.dispose()


def test_migration_uses_the_naming_convention_for_constraints(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        found = inspect(engine)
        assert {fk["name"] for fk in found.get_foreign_keys("documents")} == {
            "fk_documents_archive_id_dossiers",
            "fk_documents_sha256_blobs",
            "fk_documents_metadata_sha256_blobs",
        }
        uniques = {uq["name"] for uq in found.get_unique_constraints("documents")}
        assert uniques == {"uq_documents_archive_sequence"}
        assert {uq["name"] for uq in found.get_unique_constraints("blobs")} == {"uq_blobs_store_key"}
        assert {ix["name"] for ix in found.get_indexes("submissions")} == {
            "ix_submissions_source_digest",
            "ix_submissions_submitted_by",
            "ix_submissions_case_number",
        }
    finally:
        engine.dispose()


def test_comparison_detects_a_schema_that_drifted_from_the_models(database_url: str) -> None:
    # Guards the check above against passing vacuously.
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_dossiers_year")
        assert any("ix_dossiers_year" in repr(diff) for diff in _differences(engine))
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    assert current_revision(database_url) == "0009"


def test_schema_head_constant_is_the_newest_migration() -> None:
    assert head_revision() == SCHEMA_HEAD
