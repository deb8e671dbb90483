"""Audit batches (models.AuditBatch) and, on PostgreSQL, the Procrastinate job queue (issue 5).

The job engine's tables, types and functions go into their own schema ``procrastinate`` (the
connector of :mod:`api.jobs.app` puts it first on its ``search_path``), so they never mix with the
catalog's tables and a downgrade removes them with one ``DROP SCHEMA``. The SQL is the schema file
shipped with the pinned Procrastinate version (3.10); a new Procrastinate minor version comes with
its own migrations, to be applied by a new revision here. SQLite has no job queue: audits run
in-process there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
JOB_SCHEMA = "procrastinate"


def upgrade() -> None:
    op.create_table(
        "audit_batches",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("archive_ids_json", sa.Text(), nullable=False),
        sa.Column("blob_keys_json", sa.Text(), nullable=False),
        sa.Column("bc_ids_json", sa.Text(), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["audit_runs.id"], name=op.f("fk_audit_batches_run_id_audit_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "number", name=op.f("pk_audit_batches")),
    )
    op.create_index(op.f("ix_audit_batches_status"), "audit_batches", ["status"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _create_job_schema()


def _create_job_schema() -> None:
    from procrastinate.schema import SchemaManager

    op.execute(f"CREATE SCHEMA {JOB_SCHEMA}")
    op.execute(f"SET LOCAL search_path TO {JOB_SCHEMA}")
    # exec_driver_sql: the file is many statements with % signs in function bodies and no parameters
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    op.execute("SET LOCAL search_path TO DEFAULT")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {JOB_SCHEMA} CASCADE")
    op.drop_table("audit_batches")
