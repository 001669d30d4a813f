"""Entity operations, free of HTTP: plain values and `Entity` rows in and out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.exc import StaleDataError

from core import NotFound, Page, PreconditionFailed
from core.query import ListQuery, paginate, row_columns

from .interfaces import EntityInterfaces
from .model import Entity, utcnow

UPDATABLE = tuple(EntityInterfaces.update_model_keys)
# Reads and creates give plain rows (`core.query.row_columns`); changes go
# through the ORM object, which checks and bumps the version.
_TABLE = Entity.__table__
_READ = sa.select(*row_columns(Entity)).where(_TABLE.c.id == sa.bindparam("entity_id"))
_CREATE = sa.insert(_TABLE).returning(*row_columns(Entity))


T = TypeVar("T")


def _found(entity_id: int, row: T | None) -> T:
    if row is None:
        raise NotFound(f"Entity {entity_id} does not exist.")
    return row


class EntityService:
    def __init__(self, session: Session | scoped_session[Any]) -> None:
        self.session = session

    def list(self, query: ListQuery) -> Page:
        return paginate(self.session, Entity, query)

    def read(self, entity_id: int) -> sa.Row[Any]:
        """The entity as a plain row, to read (`get` gives the ORM object, to change)."""
        return _found(
            entity_id, self.session.execute(_READ, {"entity_id": entity_id}).one_or_none()
        )

    def get(self, entity_id: int) -> Entity:
        return _found(entity_id, self.session.get(Entity, entity_id))

    def create(self, attributes: Mapping[str, Any], owner_id: str | None = None) -> sa.Row[Any]:
        """Insert the entity and read it back in one statement (``INSERT ... RETURNING``)."""
        now = utcnow()
        values = {**attributes, "owner_id": owner_id, "created_at": now, "updated_at": now}
        row = self.session.execute(_CREATE, values).one()
        self.session.commit()
        return row

    def replace(self, entity: Entity, attributes: Mapping[str, Any]) -> Entity:
        """Set every updatable field: those not given become empty."""
        return self._change(entity, {key: attributes.get(key) for key in UPDATABLE})

    def patch(self, entity: Entity, changes: Mapping[str, Any]) -> Entity:
        """Set the given fields only."""
        return self._change(entity, changes)

    def delete(self, entity: Entity) -> None:
        self.session.delete(entity)
        self._commit()

    def _change(self, entity: Entity, changes: Mapping[str, Any]) -> Entity:
        changed = {k: v for k, v in changes.items() if getattr(entity, k) != v}
        if not changed:  # same version, same ETag, no write
            return entity
        for key, value in changed.items():
            setattr(entity, key, value)
        entity.updated_at = utcnow()
        self._commit()
        return entity

    def _commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError:
            self.session.rollback()
            raise PreconditionFailed(
                "The entity was changed or deleted by another request; read it again."
            ) from None
