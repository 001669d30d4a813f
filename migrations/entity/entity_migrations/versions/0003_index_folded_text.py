"""Index the folded text with trigrams (PostgreSQL): search and contains
find their rows without reading the table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from core.folding import create_trigram_indexes, drop_trigram_indexes

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = ("name", "purpose", "owner_id")
"""The sources of the folded columns (0002) that lists search or filter with contains."""


def upgrade() -> None:
    create_trigram_indexes("entities", INDEXED)


def downgrade() -> None:
    drop_trigram_indexes("entities", INDEXED)
