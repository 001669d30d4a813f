"""The note service, declared (`core.service`): notes about entities. Tables
come from its migration line, not from here.

Settings (each also read from the environment by name): ``ENTITY_URL``, the
entity service's internal URL (default: on this machine at its registry
port), and ``ENTITY_TIMEOUT``, the seconds a check of an entity may take.

``create_app`` is its app factory (gunicorn loads ``note_api:create_app()``)
and ``main`` its serve main (``./pants run services/note:serve``).
"""

from core.registry import read
from core.service import Service
from deployables import deployables
from note.controller import register_routes
from note.db import db

REGISTRY = read(deployables())

service = Service(
    REGISTRY["note"],
    title="Note",
    description="Notes about entities; each note's entity is checked with the entity service.",
    routes=[register_routes],
    db=db,
    defaults={"ENTITY_URL": REGISTRY["entity"].local_url, "ENTITY_TIMEOUT": 2.0},
)
create_app = service.create_app
main = service.main
