"""Fold the searched text once: body_folded, owner_id_folded.

``search`` and ``contains`` compare these (`core.folding`); every existing
row is filled with the same fold the service uses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from core.folding import add_folded_columns, drop_folded_columns

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLDED = {"body": False, "owner_id": True}
"""Each folded column's source, and whether it (so its fold) may be empty."""


def upgrade() -> None:
    add_folded_columns("notes", FOLDED)


def downgrade() -> None:
    drop_folded_columns("notes", list(FOLDED))
