"""Stored four-property detection reports (models.DetectionReportRow, DA/T 70-2018 检测报告).

Revision ID: 0003
Revises: 0002
Create Date: 2024-12-09 00:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "detection_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("archive_id", sa.String(length=64), nullable=True),
        sa.Column("submission_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_reports")),
    )
    op.create_index(
        op.f("ix_detection_reports_archive_id"), "detection_reports", ["archive_id"], unique=False
    )
    op.create_index(
        op.f("ix_detection_reports_submission_id"), "detection_reports", ["submission_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("detection_reports")  # its indexes go with it
