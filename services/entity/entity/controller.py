"""HTTP for entities: parse through the interfaces, call the service, respond."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import request
from flask_restx import Namespace, Resource
from sqlalchemy import Row

from core import ApiResponse, Forbidden, accepts, responds
from core.auth import current_principal, requires
from core.decorators import document_errors
from core.etag import check_preconditions, make_etag, not_modified
from core.query import ListQuery, accepts_list_query
from entity_api.db import db

from .interfaces import EntityInterfaces
from .model import Entity
from .service import EntityService

api = Namespace("Entity", description="Entities: the reference resource", path="/api/entities")
entity = EntityInterfaces(api)

# Ids are 32-bit in the database: larger ones cannot exist, so they are 404s.
ID_ROUTE = "/<int(max=2147483647):entity_id>"


def service() -> EntityService:
    return EntityService(db.session)


def etag(row: Entity | Row[Any]) -> str:
    return make_etag(row.id, row.version)


READ, WRITE, ADMIN = "entity:read", "entity:write", "entity:admin"


def current(entity_id: int) -> Entity:
    """The row to change: it exists (404), the caller owns it or is an admin
    (403), and the request's preconditions hold for it (412). Nothing has
    changed yet when any of these fails."""
    found = service().get(entity_id)
    principal = current_principal()
    if not principal.has(ADMIN) and found.owner_id != principal.subject:
        raise Forbidden("Only the entity's owner or an entity:admin may change it.")
    check_preconditions(etag(found))
    return found


F = TypeVar("F", bound=Callable[..., Any])


def on_current(func: F) -> F:
    """Pass the view the row to change as ``found``, found and checked
    (`current`) before anything else, the request body included: a stale
    ``If-Match`` is a 412 whatever the body (RFC 9110 section 13.2.2)."""

    @functools.wraps(func)
    def wrapper(self: Resource, entity_id: int, **kwargs: Any) -> Any:
        return func(self, entity_id=entity_id, found=current(entity_id), **kwargs)

    return document_errors(api, 404, 412)(cast(F, wrapper))


def location(row: Row[Any]) -> str:
    """The new row's URL: this (list) URL plus its id."""
    return f"{request.base_url.rstrip('/')}/{row.id}"


@api.route("")
class EntityListResource(Resource):
    @requires(api, READ)
    @accepts_list_query(entity)
    @responds(entity.many)
    def get(self, query: ListQuery) -> ApiResponse:
        """List entities"""
        return ApiResponse(service().list(query))

    @requires(api, WRITE)
    @accepts(entity.create)
    @responds(entity.single, 201)
    def post(self, body: dict[str, Any]) -> ApiResponse:
        """Create an entity"""
        created = service().create(body, owner_id=current_principal().subject)
        return ApiResponse(
            created, 201, headers={"Location": location(created), "ETag": etag(created)}
        )


@api.route(ID_ROUTE)
@api.param("entity_id", "Entity identifier")
class EntityResource(Resource):
    @requires(api, READ)
    @document_errors(api, 404)
    @api.response(304, "Not Modified (If-None-Match names the current ETag)")
    @responds(entity.single)
    def get(self, entity_id: int) -> ApiResponse:
        """Get an entity"""
        found = service().read(entity_id)
        tag = etag(found)
        if not_modified(tag):
            return ApiResponse(None, 304, headers={"ETag": tag})
        return ApiResponse(found, headers={"ETag": tag})

    @requires(api, WRITE, ADMIN, any_of=True)
    @on_current
    @accepts(entity.update)
    @responds(entity.single)
    def put(self, entity_id: int, found: Entity, body: dict[str, Any]) -> ApiResponse:
        """Replace an entity's updatable fields"""
        changed = service().replace(found, body)
        return ApiResponse(changed, headers={"ETag": etag(changed)})

    @requires(api, WRITE, ADMIN, any_of=True)
    @on_current
    @accepts(entity.patch)
    @responds(entity.single)
    def patch(self, entity_id: int, found: Entity, body: dict[str, Any]) -> ApiResponse:
        """Change some fields of an entity"""
        changed = service().patch(found, body)
        return ApiResponse(changed, headers={"ETag": etag(changed)})

    @requires(api, WRITE, ADMIN, any_of=True)
    @on_current
    @api.response(204, "Deleted")
    def delete(self, entity_id: int, found: Entity) -> ApiResponse:
        """Delete an entity"""
        service().delete(found)
        return ApiResponse(None, 204)
