"""Drop the B-tree index on notes.body.

PostgreSQL refuses an index entry over 2,704 bytes, and a body of 2,000
characters of CJK text is 6,000: with the index such a note could not be
stored. ``sort=body`` now sorts the matching rows instead.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_notes_body", table_name="notes")


def downgrade() -> None:
    op.create_index("ix_notes_body", "notes", ["body"])
