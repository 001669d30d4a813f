"""The `Note` row: table ``notes``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.crud import CrudColumns, folded

from .db import db


class Note(CrudColumns, db.Model):  # type: ignore[name-defined]
    """A note (`CrudColumns` adds id, owner, times and version); ``body`` is
    searched: its fold is kept beside it (`core.folding`)."""

    __tablename__ = "notes"

    entity_id: Mapped[int] = mapped_column(sa.Integer(), index=True)
    # No B-tree index: PostgreSQL refuses an index entry over 2,704 bytes, and
    # 2,000 characters are up to 8,000 (revision 0003).
    body: Mapped[str] = mapped_column(sa.String(2000))
    body_folded: Mapped[str] = folded("body")
