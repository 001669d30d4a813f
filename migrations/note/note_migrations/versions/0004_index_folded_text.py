"""Index the folded body with trigrams (PostgreSQL): search and contains
find their notes without reading the table.

A GIN index holds the body's trigrams, not the body: a long CJK note, too
large for the B-tree that 0003 dropped, is indexed here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from core.folding import create_trigram_indexes, drop_trigram_indexes

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = ("body", "owner_id")
"""The sources of the folded columns (0002) that lists search or filter with contains."""


def upgrade() -> None:
    create_trigram_indexes("notes", INDEXED)


def downgrade() -> None:
    drop_trigram_indexes("notes", INDEXED)
