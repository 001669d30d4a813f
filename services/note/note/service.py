"""Note operations, free of HTTP: plain values and `Note` rows in and out.

The generic CRUD of `core.crud.CrudService`, plus the one rule of its own: a
note is about an entity that exists (for its author), checked with the entity
service on create and whenever ``entity_id`` changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session

from core import UnprocessableEntity
from core.crud import CrudService

from .interfaces import NoteInterfaces
from .model import Note


class Entities(Protocol):
    """What the service needs of the entity service (`note.entities.EntityDirectory`)."""

    def exists(self, entity_id: int) -> bool: ...


class NoteService(CrudService[Note]):
    model = Note
    interfaces = NoteInterfaces

    def __init__(self, session: Session | scoped_session[Any], entities: Entities) -> None:
        super().__init__(session)
        self.entities = entities

    def create(self, attributes: Mapping[str, Any], owner_id: str | None = None) -> sa.Row[Any]:
        self._check_entity(attributes["entity_id"])
        return super().create(attributes, owner_id)

    def change(self, row: Note, changes: Mapping[str, Any]) -> Note:
        entity_id = changes.get("entity_id", row.entity_id)
        if entity_id != row.entity_id:
            self._check_entity(entity_id)
        return super().change(row, changes)

    def _check_entity(self, entity_id: int) -> None:
        if not self.entities.exists(entity_id):
            raise UnprocessableEntity(
                "The note's entity does not exist.",
                errors=[
                    {
                        "pointer": "/entityId",
                        "detail": f"Entity {entity_id} does not exist, or you may not read it.",
                    }
                ],
            )
