"""Initial catalog and ledger schema: every table of archive/catalog/models.py, written out explicitly.

Constraint and index names follow models.NAMING (pk_/uq_/fk_/ix_) so later migrations can address
them on every backend. Creation order respects foreign keys (blobs and dossiers before documents).

Revision ID: 0001
Revises:
Create Date: 2024-11-23 00:00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Every package handed to ingest, accepted or not.
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("source_name", sa.String(length=512), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("archive_id", sa.String(length=64), nullable=True),
        sa.Column("problems_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    op.create_index(op.f("ix_submissions_source_digest"), "submissions", ["source_digest"], unique=False)
    op.create_index(op.f("ix_submissions_case_number"), "submissions", ["case_number"], unique=False)

    # One archived dossier (AIP).
    op.create_table(
        "dossiers",
        sa.Column("archive_id", sa.String(length=64), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("court_name", sa.String(length=128), nullable=False),
        sa.Column("case_type", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("closing_date", sa.Date(), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("judge", sa.String(length=64), nullable=False),
        sa.Column("fonds_code", sa.String(length=32), nullable=False),
        sa.Column("retention", sa.String(length=16), nullable=False),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("manifest_key", sa.String(length=256), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("package_digest", sa.String(length=64), nullable=False),
        sa.Column("archived_at", TZ, nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("archive_id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint("case_number", name=op.f("uq_dossiers_case_number")),
    )
    op.create_index(op.f("ix_dossiers_year"), "dossiers", ["year"], unique=False)
    op.create_index(op.f("ix_dossiers_department"), "dossiers", ["department"], unique=False)

    # Content-addressed objects in the store.
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sm3", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("store_key", sa.String(length=256), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
        sa.UniqueConstraint("store_key", name=op.f("uq_blobs_store_key")),
    )

    # One document of a dossier, as catalogued in 目录文件.
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("archive_id", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("archival_code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("author", sa.String(length=256), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("retention", sa.String(length=16), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("volume", sa.String(length=8), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("paper_location", sa.String(length=256), nullable=True),
        sa.Column("file_path", sa.String(length=512), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sm3", sa.String(length=64), nullable=False),
        sa.Column("metadata_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.ForeignKeyConstraint(
            ["archive_id"], ["dossiers.archive_id"], name=op.f("fk_documents_archive_id_dossiers")
        ),
        sa.ForeignKeyConstraint(["sha256"], ["blobs.sha256"], name=op.f("fk_documents_sha256_blobs")),
        sa.ForeignKeyConstraint(
            ["metadata_sha256"], ["blobs.sha256"], name=op.f("fk_documents_metadata_sha256_blobs")
        ),
        sa.UniqueConstraint("archive_id", "sequence", name="uq_documents_archive_sequence"),
    )
    op.create_index(op.f("ix_documents_archive_id"), "documents", ["archive_id"], unique=False)
    op.create_index(op.f("ix_documents_sha256"), "documents", ["sha256"], unique=False)
    op.create_index(op.f("ix_documents_metadata_sha256"), "documents", ["metadata_sha256"], unique=False)

    # Operational history (process metadata).
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("archive_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_kind"), "events", ["kind"], unique=False)
    op.create_index(op.f("ix_events_archive_id"), "events", ["archive_id"], unique=False)

    # RFC 9162 §2.1 log: leaves, complete-subtree nodes, the single head row, signed checkpoints.
    op.create_table(
        "ledger_leaves",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_ledger_leaves")),
    )
    op.create_index(op.f("ix_ledger_leaves_kind"), "ledger_leaves", ["kind"], unique=False)

    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_ledger_nodes")),
    )

    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_head")),
    )

    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("origin", sa.String(length=256), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
    )
    op.create_index(op.f("ix_checkpoints_size"), "checkpoints", ["size"], unique=False)


def downgrade() -> None:
    # Reverse order of creation; indexes go with their tables.
    for table in (
        "checkpoints",
        "ledger_head",
        "ledger_nodes",
        "ledger_leaves",
        "events",
        "documents",
        "blobs",
        "dossiers",
        "submissions",
    ):
        op.drop_table(table)
