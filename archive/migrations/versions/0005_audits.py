"""Integrity audit runs and their per-object results (models.AuditRun, models.AuditResult; issue 5).

Revision ID: 0005
Revises: 0004
Create Date: 2024-12-20 00:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.Column("results_sha256", sa.String(length=64), nullable=True),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.Column("tool_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_runs")),
    )
    op.create_index(op.f("ix_audit_runs_status"), "audit_runs", ["status"], unique=False)
    op.create_table(
        "audit_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("archive_id", sa.String(length=64), nullable=True),
        sa.Column("check", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("checked_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["audit_runs.id"], name=op.f("fk_audit_results_run_id_audit_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_results")),
        sa.UniqueConstraint("run_id", "object_key", "check", name="uq_audit_results_run_key_check"),
    )
    op.create_index(op.f("ix_audit_results_run_id"), "audit_results", ["run_id"], unique=False)
    op.create_index(op.f("ix_audit_results_object_key"), "audit_results", ["object_key"], unique=False)
    op.create_index(op.f("ix_audit_results_archive_id"), "audit_results", ["archive_id"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_results")  # its indexes and constraints go with it
    op.drop_table("audit_runs")
