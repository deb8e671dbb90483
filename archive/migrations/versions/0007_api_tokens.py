"""API tokens (models.ApiToken) and who submitted a package (submissions.submitted_by; issue 6).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 00:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("submitted_by", sa.String(length=128), nullable=True))
        batch.create_index(batch.f("ix_submissions_submitted_by"), ["submitted_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index(batch.f("ix_submissions_submitted_by"))
        batch.drop_column("submitted_by")
    op.drop_table("api_tokens")
