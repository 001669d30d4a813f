"""The `Entity` row: table ``entities``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.crud import CrudColumns, folded

from .db import db


class Entity(CrudColumns, db.Model):  # type: ignore[name-defined]
    """An entity: what the service operates on (`CrudColumns` adds id, owner,
    times and version). ``name`` and ``purpose`` are searched: their folds
    are kept beside them (`core.folding`)."""

    __tablename__ = "entities"

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    purpose: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    name_folded: Mapped[str] = folded("name")
    purpose_folded: Mapped[str | None] = folded("purpose")

    def __repr__(self) -> str:
        return f"<Entity {self.id} {self.name!r}>"
