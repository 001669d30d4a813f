"""Entity operations, free of HTTP: plain values and `Entity` rows in and out.

Everything an entity needs is the generic CRUD of `core.crud.CrudService`.
"""

from core.crud import CrudService

from .interfaces import EntityInterfaces
from .model import Entity


class EntityService(CrudService[Entity]):
    model = Entity
    interfaces = EntityInterfaces
