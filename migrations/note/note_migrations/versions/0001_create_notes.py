"""Create the notes table.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = ["entity_id", "body", "owner_id", "created_at", "updated_at"]


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(2000), nullable=False),
        sa.Column("owner_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sqlite_autoincrement=True,
    )
    for column in INDEXED:
        op.create_index(f"ix_notes_{column}", "notes", [column])


def downgrade() -> None:
    for column in INDEXED:
        op.drop_index(f"ix_notes_{column}", table_name="notes")
    op.drop_table("notes")
