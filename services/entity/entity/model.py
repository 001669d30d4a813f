"""The `Entity` row: table ``entities``."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from entity_api.db import db


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Entity(db.Model):  # type: ignore[name-defined]
    """An entity: what the service operates on."""

    __tablename__ = "entities"
    # Ids are never reused, on SQLite too: a stale URL or ETag must not reach a
    # newer entity.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    purpose: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    owner_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, index=True
    )
    # Bumped by every UPDATE, which also checks it (optimistic concurrency):
    # the ETag is made from it, and a write that lost a race fails instead of
    # overwriting.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Entity {self.id} {self.name!r}>"
