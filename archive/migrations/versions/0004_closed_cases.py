"""The case ledger of closed cases reported by the case management system (models.ClosedCase, 案件台账).

Revision ID: 0004
Revises: 0003
Create Date: 2024-12-16 00:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "closed_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("court_name", sa.String(length=128), nullable=True),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("judge", sa.String(length=64), nullable=False),
        sa.Column("closing_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=256), nullable=False),
        sa.Column("reported_at", TZ, nullable=False),
        sa.Column("archive_id", sa.String(length=64), nullable=True),
        sa.Column("archived_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_cases")),
        sa.UniqueConstraint("case_number", name=op.f("uq_closed_cases_case_number")),
    )
    op.create_index(op.f("ix_closed_cases_department"), "closed_cases", ["department"], unique=False)
    op.create_index(op.f("ix_closed_cases_closing_date"), "closed_cases", ["closing_date"], unique=False)


def downgrade() -> None:
    op.drop_table("closed_cases")  # its indexes and constraints go with it
