"""RFC 3161 time-stamp tokens stored beside signed checkpoints (models.CheckpointTimestamp).

Revision ID: 0002
Revises: 0001
Create Date: 2024-12-02 00:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "checkpoint_timestamps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("tsa_url", sa.String(length=512), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("gen_time", TZ, nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["checkpoints.id"],
            name=op.f("fk_checkpoint_timestamps_checkpoint_id_checkpoints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_timestamps")),
    )
    op.create_index(
        op.f("ix_checkpoint_timestamps_checkpoint_id"), "checkpoint_timestamps", ["checkpoint_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("checkpoint_timestamps")  # its index goes with it
