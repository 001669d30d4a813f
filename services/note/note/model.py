"""The `Note` row: table ``notes``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.crud import CrudColumns

from .db import db


class Note(CrudColumns, db.Model):  # type: ignore[name-defined]
    """A note (`CrudColumns` adds id, owner, times and version)."""

    __tablename__ = "notes"

    entity_id: Mapped[int] = mapped_column(sa.Integer(), index=True)
    body: Mapped[str] = mapped_column(sa.String(2000), index=True)
