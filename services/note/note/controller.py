"""HTTP for notes: the six CRUD operations of the contract (`core.resource`),
the service made per request with the entity service as the caller sees it."""

import httpx
from flask import Flask, current_app, g, request
from flask_restx import Namespace

from core import ApiFlask
from core.resource import CrudResource, crud_routes

from .db import db
from .entities import EntityDirectory
from .interfaces import NoteInterfaces
from .service import NoteService

api = Namespace("Note", description="Notes about entities", path="/api/notes")
note = NoteInterfaces(api)


def service() -> NoteService:
    config = current_app.config
    entities = EntityDirectory(
        current_app.extensions["entity_client"],
        config["ENTITY_URL"],
        authorization=request.headers.get("Authorization"),
        request_id=g.get("request_id"),
        timeout=float(config["ENTITY_TIMEOUT"]),
    )
    return NoteService(db.session, entities)


resource = CrudResource(
    note,
    service,
    scope="note",
    singular="note",
    plural="notes",
    write_errors=(503,),  # the entity service cannot say (note.entities)
)
crud_routes(resource)


def register_routes(service_api: ApiFlask, app: Flask) -> None:
    """Attach the note namespace (``/api/notes``) to the service's API, and the
    pooled client its calls to the entity service share (nothing connects yet)."""
    service_api.add_namespace(api)
    app.extensions["entity_client"] = httpx.Client(follow_redirects=False)
