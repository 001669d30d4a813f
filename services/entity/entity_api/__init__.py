"""The entity service, declared (`core.service`): CRUD on entities, the
reference for new services. Tables come from its migration line, not from here.

``create_app`` is its app factory (gunicorn loads ``entity_api:create_app()``)
and ``main`` its serve main (``./pants run services/entity:serve``).
"""

from core.registry import read
from core.service import Service
from deployables import deployables
from entity.controller import register_routes
from entity.db import db

service = Service(
    read(deployables())["entity"],
    title="Entity",
    description="CRUD on entities: the reference entity service.",
    routes=[register_routes],
    db=db,
)
create_app = service.create_app
main = service.main
