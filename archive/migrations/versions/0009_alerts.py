"""Alerts kept for the dashboard until acknowledged (models.Alert; issue 6).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 21:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=1024), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("evidence_link", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=1024), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_kind"), "alerts", ["kind"], unique=False)
    op.create_index(op.f("ix_alerts_created_at"), "alerts", ["created_at"], unique=False)
    op.create_index(op.f("ix_alerts_dedupe_key"), "alerts", ["dedupe_key"], unique=False)


def downgrade() -> None:
    op.drop_table("alerts")  # its indexes go with it
