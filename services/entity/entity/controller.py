"""HTTP for entities: the six CRUD operations of the contract (`core.resource`)."""

from flask import Flask
from flask_restx import Namespace

from core import ApiFlask
from core.resource import CrudResource, crud_routes

from .db import db
from .interfaces import EntityInterfaces
from .service import EntityService

api = Namespace("Entity", description="Entities: the reference resource", path="/api/entities")
entity = EntityInterfaces(api)
resource = CrudResource(
    entity,
    lambda: EntityService(db.session),
    scope="entity",
    singular="entity",
    plural="entities",
)
crud_routes(resource)


def register_routes(service_api: ApiFlask, app: Flask) -> None:
    """Attach the entity namespace (``/api/entities``) to the service's API."""
    service_api.add_namespace(api)
