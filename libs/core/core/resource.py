"""The HTTP side of a CRUD resource: `CrudResource`, and `crud_routes` on it.

`CrudResource` holds what every view of one resource shares, each piece
usable on its own:

- `CrudResource.etag`: the strong ETag of a row (``"<id>-<version>"``);
- `CrudResource.current`: the row to change, loaded with the ownership rule
  (404 when absent; 403 unless the caller owns it or has ``<scope>:admin``)
  and the request's preconditions checked (412), before anything changes;
- `CrudResource.on_current`: a view decorator passing that row as ``found``;
- `CrudResource.write`: a change made on it, last writer winning when the
  client sent no ``If-Match`` (412 only for a client that named a version);
- `CrudResource.created`, `CrudResource.found` and `CrudResource.changed`:
  the answers (201 with ``Location`` and ``ETag``; 200 or 304 with the
  ``ETag``; 200 with the new ``ETag``).

`crud_routes` puts the six operations of the HTTP contract on the
resource's namespace with them: list and create on ``""``, get, put, patch
and delete on ``/<id>``. A service with operations of its own writes its
views with the same pieces instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import request
from flask_restx import Namespace, Resource

from .auth import current_principal, requires
from .crud import CrudService
from .decorators import accepts, document_errors, responds
from .errors import Forbidden, PreconditionFailed
from .etag import check_preconditions, make_etag, not_modified
from .interfaces import BaseInterfaces
from .query import ListQuery, accepts_list_query
from .response import ApiResponse

__all__ = ["CrudResource", "crud_routes"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

WRITE_ATTEMPTS = 5
"""How often a write without ``If-Match`` is tried when others keep winning the race."""

MAX_ID = 2147483647
"""Ids are 32-bit in the database: larger ones cannot exist, so they are 404s."""


@dataclass(frozen=True)
class Scopes:
    read: str
    write: str
    admin: str


class CrudResource:
    """One CRUD resource's shared view logic; see the module docstring.

    *service* makes the resource's `CrudService` for the current request;
    *scope* is the prefix of its scopes (``entity`` for ``entity:read``,
    ``entity:write``, ``entity:admin``); *singular* and *plural* name it in
    the docs (``entity``, ``entities``); *write_errors* are the further
    statuses its service may answer to a create or a change (note's 503 when
    the entity service cannot say), documented on those operations.
    """

    def __init__(
        self,
        interfaces: BaseInterfaces,
        service: Callable[[], CrudService[Any]],
        *,
        scope: str,
        singular: str,
        plural: str,
        write_errors: tuple[int, ...] = (),
    ) -> None:
        self.interfaces = interfaces
        self.api: Namespace = interfaces.api
        self.service = service
        self.scopes = Scopes(f"{scope}:read", f"{scope}:write", f"{scope}:admin")
        self.singular = singular
        self.plural = plural
        self.id_name = f"{singular.replace(' ', '_')}_id"
        self.id_route = f"/<int(max={MAX_ID}):{self.id_name}>"
        self.write_errors = write_errors

    @staticmethod
    def etag(row: Any) -> str:
        return make_etag(row.id, row.version)

    def current(self, id: int) -> Any:
        """The row to change: it exists (404), the caller owns it or is an admin
        (403), and the request's preconditions hold for it (412). Nothing has
        changed yet when any of these fails."""
        found = self.service().get(id)
        principal = current_principal()
        if not principal.has(self.scopes.admin) and found.owner_id != principal.subject:
            raise Forbidden(
                f"Only the {self.singular}'s owner, or a token with {self.scopes.admin}, "
                "may change it."
            )
        check_preconditions(self.etag(found))
        return found

    def on_current(self, func: F) -> F:
        """Pass the view the row to change as ``found``, found and checked
        (`current`) before anything else, the request body included: a stale
        ``If-Match`` is a 412 whatever the body (RFC 9110 section 13.2.2)."""
        id_name = self.id_name

        @functools.wraps(func)
        def wrapper(view: Resource, **kwargs: Any) -> Any:
            return func(view, found=self.current(kwargs[id_name]), **kwargs)

        return document_errors(self.interfaces, 404, 412)(cast(F, wrapper))

    def write(self, id: int, found: Any, change: Callable[[CrudService[Any], Any], T]) -> T:
        """``change(service, row)`` on the row to change, *found* (`current`).

        A write that lost a race to another (its version moved on: the
        service's `PreconditionFailed`) is the client's 412 only when the
        client sent ``If-Match``: it asked for that version. Without one, the
        last writer wins: the row is loaded again (404 if it was deleted
        meanwhile, 403 if it changed hands) and the change made on it, a few
        times at the most."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return change(self.service(), found)
            except PreconditionFailed:
                if "If-Match" in request.headers or attempt == WRITE_ATTEMPTS - 1:
                    raise
            found = self.current(id)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    @staticmethod
    def location(row: Any) -> str:
        """A new row's URL: the (list) URL it was created at, plus its id."""
        return f"{request.base_url.rstrip('/')}/{row.id}"

    def created(self, row: Any) -> ApiResponse:
        return ApiResponse(
            row, 201, headers={"Location": self.location(row), "ETag": self.etag(row)}
        )

    def found(self, row: Any) -> ApiResponse:
        """The row with its ETag, or 304 when ``If-None-Match`` names it."""
        tag = self.etag(row)
        if not_modified(tag):
            return ApiResponse(None, 304, headers={"ETag": tag})
        return ApiResponse(row, headers={"ETag": tag})

    def changed(self, row: Any) -> ApiResponse:
        return ApiResponse(row, headers={"ETag": self.etag(row)})


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _summary(text: str) -> Callable[[F], F]:
    """The operation's summary in the docs (flask-restx reads the docstring)."""

    def decorate(func: F) -> F:
        func.__doc__ = text
        return func

    return decorate


def crud_routes(resource: CrudResource) -> None:
    """List, create, get, replace, change and delete *resource*'s rows."""
    api, shapes, scopes = resource.api, resource.interfaces, resource.scopes
    one, many = resource.singular, resource.plural
    a_one = f"{_article(one)} {one}"
    name = type(shapes).model_name
    writes = document_errors(shapes, *resource.write_errors)

    class ListResource(Resource):
        @requires(shapes, scopes.read)
        @accepts_list_query(shapes)
        @responds(shapes.many)
        @_summary(f"List {many}")
        def get(self, query: ListQuery) -> ApiResponse:
            return ApiResponse(resource.service().list(query))

        @requires(shapes, scopes.write)
        @writes
        @accepts(shapes.create)
        @responds(shapes.single, 201)
        @_summary(f"Create {a_one}")
        def post(self, body: dict[str, Any]) -> ApiResponse:
            owner = current_principal().subject
            return resource.created(resource.service().create(body, owner_id=owner))

    class ItemResource(Resource):
        @requires(shapes, scopes.read)
        @document_errors(shapes, 404)
        @api.response(304, "Not Modified (If-None-Match names the current ETag)")
        @responds(shapes.single)
        @_summary(f"Get {a_one}")
        def get(self, **ids: int) -> ApiResponse:
            return resource.found(resource.service().read(ids[resource.id_name]))

        @requires(shapes, scopes.write, scopes.admin, any_of=True)
        @resource.on_current
        @writes
        @accepts(shapes.update)
        @responds(shapes.single)
        @_summary(f"Replace {a_one}'s updatable fields")
        def put(self, found: Any, body: dict[str, Any], **ids: int) -> ApiResponse:
            id = ids[resource.id_name]
            return resource.changed(resource.write(id, found, lambda s, r: s.replace(r, body)))

        @requires(shapes, scopes.write, scopes.admin, any_of=True)
        @resource.on_current
        @writes
        @accepts(shapes.patch)
        @responds(shapes.single)
        @_summary(f"Change some fields of {a_one}")
        def patch(self, found: Any, body: dict[str, Any], **ids: int) -> ApiResponse:
            id = ids[resource.id_name]
            return resource.changed(resource.write(id, found, lambda s, r: s.patch(r, body)))

        @requires(shapes, scopes.write, scopes.admin, any_of=True)
        @resource.on_current
        @api.response(204, "Deleted")
        @_summary(f"Delete {a_one}")
        def delete(self, found: Any, **ids: int) -> ApiResponse:
            resource.write(ids[resource.id_name], found, lambda s, r: s.delete(r))
            return ApiResponse(None, 204)

    # Named as a hand-written controller would name them (the endpoints and
    # operation ids derive from the class names).
    ListResource.__name__ = ListResource.__qualname__ = f"{name}ListResource"
    ItemResource.__name__ = ItemResource.__qualname__ = f"{name}Resource"
    api.route("")(ListResource)
    described = api.param(resource.id_name, f"{one[:1].upper()}{one[1:]} identifier")
    api.route(resource.id_route)(described(ItemResource))
