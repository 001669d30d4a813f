"""`core.resource`: `CrudResource` and `crud_routes` through a tiny service of
this module's own (`core.service.Service`), its test client and tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_restx import Namespace
from flask_sqlalchemy import SQLAlchemy
from marshmallow import validate
from openapi_spec_validator import validate as validate_spec
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core import ApiFlask, Field
from core.crud import CrudColumns, CrudInterfaces, CrudService, folded
from core.fields import String
from core.registry import Deployable
from core.resource import CrudResource, crud_routes
from core.service import Service
from core.testing import AuthHeaders

PROBLEM = "application/problem+json"


class Base(DeclarativeBase):
    pass


store = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


class Thing(CrudColumns, store.Model):  # type: ignore[name-defined]
    __tablename__ = "things"
    name: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str | None] = mapped_column(sa.String(100))
    name_folded: Mapped[str] = folded("name")


class ThingInterfaces(CrudInterfaces):
    name = Field(
        String(required=True, validate=validate.Length(1, 40)),
        "Name",
        sortable=True,
        filterable=True,
    )
    note = Field(String(allow_none=True, validate=validate.Length(max=100)), "Note")
    create_model_keys = ["name", "note"]
    update_model_keys = ["name", "note"]


class ThingService(CrudService[Thing]):
    model = Thing
    interfaces = ThingInterfaces


api = Namespace("Things", path="/api/things")
resource = CrudResource(
    ThingInterfaces(api),
    lambda: ThingService(store.session),
    scope="thing",
    singular="thing",
    plural="things",
)
crud_routes(resource)


def register_routes(service_api: ApiFlask, app: Flask) -> None:
    service_api.add_namespace(api)


THING = Deployable(
    name="thing",
    kind="service",
    target="services/thing:serve",
    port=9101,
    prefixes=("/api/things",),
    database=True,
    scopes=("thing:read", "thing:write", "thing:admin"),
)
service = Service(THING, title="Things", routes=[register_routes], db=store)


@pytest.fixture
def app_factory() -> Callable[..., Flask]:
    return service.create_app


@pytest.fixture
def alice(auth_headers: AuthHeaders) -> dict[str, str]:
    """The owner of what she creates."""
    return auth_headers("alice", "thing:read thing:write")


def create(client: FlaskClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/things", json={"name": "Thing", **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    data: dict[str, Any] = response.get_json()["data"]
    return data


def rows(db: SQLAlchemy) -> list[tuple[Any, ...]]:
    """What the database holds, read past the session."""
    with db.engine.connect() as conn:
        query = sa.select(Thing.id, Thing.name, Thing.note, Thing.owner_id, Thing.version)
        return [tuple(row) for row in conn.execute(query.order_by(Thing.id))]


# -- create and read --------------------------------------------------------------


def test_create_is_201_with_location_and_etag(
    client: FlaskClient, alice: dict[str, str], db: SQLAlchemy
) -> None:
    response = client.post("/api/things", json={"name": "First", "note": "n"}, headers=alice)
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert set(data) == {"id", "name", "note", "ownerId", "createdAt", "updatedAt"}
    assert (data["name"], data["note"], data["ownerId"]) == ("First", "n", "alice")
    assert response.headers["Location"] == f"http://localhost/api/things/{data['id']}"
    assert response.headers["ETag"] == f'"{data["id"]}-1"'
    assert rows(db) == [(data["id"], "First", "n", "alice", 1)]
    again = client.get(response.headers["Location"], headers=alice)
    assert again.get_json()["data"] == data


def test_get_has_the_etag_and_honours_if_none_match(
    client: FlaskClient, alice: dict[str, str]
) -> None:
    data = create(client, alice)
    path = f"/api/things/{data['id']}"
    response = client.get(path, headers=alice)
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert etag == f'"{data["id"]}-1"'
    cached = client.get(path, headers={**alice, "If-None-Match": etag})
    assert (cached.status_code, cached.data, cached.headers["ETag"]) == (304, b"", etag)
    assert client.patch(path, json={"note": "changed"}, headers=alice).status_code == 200
    fresh = client.get(path, headers={**alice, "If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == f'"{data["id"]}-2"'
    assert fresh.get_json()["data"]["note"] == "changed"


def test_list_is_the_page_envelope(client: FlaskClient, alice: dict[str, str]) -> None:
    ids = [create(client, alice, name=name)["id"] for name in ("b", "a", "c")]
    response = client.get("/api/things?sort=name&pageSize=2", headers=alice)
    assert response.status_code == 200
    body = response.get_json()
    assert [t["id"] for t in body["data"]] == [ids[1], ids[0]]
    assert body["meta"] == {"page": 1, "pageSize": 2, "total": 3, "totalExact": True}
    assert response.headers["X-Total-Count"] == "3"
    filtered = client.get("/api/things?filter[name]=c", headers=alice).get_json()
    assert [t["id"] for t in filtered["data"]] == [ids[2]]


# -- changes ----------------------------------------------------------------------


def test_put_replaces_and_patch_changes_with_new_etags(
    client: FlaskClient, alice: dict[str, str], db: SQLAlchemy
) -> None:
    data = create(client, alice, note="old")
    path = f"/api/things/{data['id']}"
    put = client.put(path, json={"name": "New"}, headers=alice)
    assert put.status_code == 200
    assert (put.get_json()["data"]["name"], put.get_json()["data"]["note"]) == ("New", None)
    assert put.headers["ETag"] == f'"{data["id"]}-2"'
    patch = client.patch(path, json={"note": "again"}, headers=alice)
    assert patch.headers["ETag"] == f'"{data["id"]}-3"'
    assert rows(db) == [(data["id"], "New", "again", "alice", 3)]
    same = client.patch(path, json={"note": "again"}, headers=alice)
    assert (same.status_code, same.headers["ETag"]) == (200, f'"{data["id"]}-3"')
    deleted = client.delete(path, headers={**alice, "If-Match": patch.headers["ETag"]})
    assert (deleted.status_code, deleted.data) == (204, b"")
    assert rows(db) == []


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_non_owner_is_403_and_changes_nothing(
    client: FlaskClient,
    alice: dict[str, str],
    auth_headers: AuthHeaders,
    db: SQLAlchemy,
    method: str,
) -> None:
    data = create(client, alice)
    path = f"/api/things/{data['id']}"
    bob = auth_headers("bob", "thing:read thing:write")
    before = rows(db)
    refused = getattr(client, method)(path, json={"name": "Bob's"}, headers=bob)
    assert refused.status_code == 403
    assert refused.content_type == PROBLEM
    detail = refused.get_json()["detail"]
    assert detail.startswith("Only the thing's owner, or")
    assert detail.endswith("or a token with thing:admin, may change it.")
    assert rows(db) == before
    assert client.get(path, headers=bob).status_code == 200  # reading is not owning


@pytest.mark.parametrize("admin_scopes", ["thing:admin", "thing:read thing:write thing:admin"])
def test_an_admin_may_change_what_others_own(
    client: FlaskClient,
    alice: dict[str, str],
    auth_headers: AuthHeaders,
    db: SQLAlchemy,
    admin_scopes: str,
) -> None:
    data = create(client, alice, note="hers")
    path = f"/api/things/{data['id']}"
    admin = auth_headers("carol", admin_scopes)
    patched = client.patch(path, json={"note": "moderated"}, headers=admin)
    assert patched.status_code == 200
    assert patched.get_json()["data"]["ownerId"] == "alice"  # still hers
    put = client.put(path, json={"name": "Renamed"}, headers=admin)
    assert put.status_code == 200
    assert rows(db) == [(data["id"], "Renamed", None, "alice", 3)]
    assert client.delete(path, headers=admin).status_code == 204
    assert rows(db) == []


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_stale_if_match_is_412_and_changes_nothing(
    client: FlaskClient, alice: dict[str, str], db: SQLAlchemy, method: str
) -> None:
    data = create(client, alice)
    path = f"/api/things/{data['id']}"
    stale = client.get(path, headers=alice).headers["ETag"]
    assert client.patch(path, json={"note": "moved on"}, headers=alice).status_code == 200
    before = rows(db)
    # The body would be refused too (422): the precondition is checked first.
    for body in ({"name": "late"}, {"name": ""}):
        response = getattr(client, method)(path, json=body, headers={**alice, "If-Match": stale})
        assert response.status_code == 412, body
        assert response.content_type == PROBLEM
    assert rows(db) == before
    current = client.get(path, headers=alice).headers["ETag"]
    response = getattr(client, method)(
        path, json={"name": "on time"}, headers={**alice, "If-Match": current}
    )
    assert response.status_code == (204 if method == "delete" else 200)


@pytest.mark.parametrize(
    ("thing_id", "detail"),
    [
        ("999", "Thing 999 does not exist."),
        ("2147483647", "Thing 2147483647 does not exist."),  # the largest id there can be
        ("2147483648", None),
        ("99999999999999999999", None),
    ],
)
def test_unknown_and_too_large_ids_are_404(
    client: FlaskClient, alice: dict[str, str], thing_id: str, detail: str | None
) -> None:
    create(client, alice)
    for method in ("get", "put", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/things/{thing_id}", json={"name": "x"}, headers=alice
        )
        assert response.status_code == 404, method
        assert response.content_type == PROBLEM
        if detail is not None:
            assert response.get_json()["detail"] == detail, method


# -- scopes -----------------------------------------------------------------------

OPERATIONS = [
    ("get", "/api/things"),
    ("post", "/api/things"),
    ("get", "/api/things/{id}"),
    ("put", "/api/things/{id}"),
    ("patch", "/api/things/{id}"),
    ("delete", "/api/things/{id}"),
]


def test_without_a_token_every_operation_is_401(
    client: FlaskClient, alice: dict[str, str], db: SQLAlchemy
) -> None:
    data = create(client, alice)
    before = rows(db)
    for method, path in OPERATIONS:
        response = getattr(client, method)(path.format(id=data["id"]), json={"name": "x"})
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.content_type == PROBLEM
    assert rows(db) == before


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        ("thing:read", {("get", "/api/things"), ("get", "/api/things/{id}")}),
        (
            "thing:write",
            {
                ("post", "/api/things"),
                ("put", "/api/things/{id}"),
                ("patch", "/api/things/{id}"),
                ("delete", "/api/things/{id}"),
            },
        ),
        ("entity:read entity:write entity:admin", set()),
        ("", set()),
    ],
)
def test_each_operation_needs_its_scope(
    client: FlaskClient,
    auth_headers: AuthHeaders,
    db: SQLAlchemy,
    scopes: str,
    allowed: set[tuple[str, str]],
) -> None:
    caller = auth_headers("alice", scopes)
    for method, path in OPERATIONS:
        # A row of the caller's own for each operation (a delete may have taken the last).
        thing_id = ThingService(db.session).create({"name": "x"}, owner_id="alice").id
        response = getattr(client, method)(
            path.format(id=thing_id), json={"name": "y"}, headers=caller
        )
        if (method, path) in allowed:
            assert response.status_code in (200, 201, 204), (method, path)
        else:
            assert response.status_code == 403, (method, path)
            assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


# -- the swagger document ---------------------------------------------------------


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/swagger").get_json()
    return document


def test_the_swagger_is_valid_and_titled_as_declared(spec: dict[str, Any]) -> None:
    validate_spec(spec)
    assert spec["info"]["title"] == "Things"
    assert set(spec["paths"]) == {"/api/things", "/api/things/{thing_id}"}
    assert spec["securityDefinitions"]["Bearer"]["in"] == "header"


def test_the_six_operations_have_their_summaries(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    summaries = {
        (method, path): operation["summary"]
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method != "parameters"
    }
    assert summaries == {
        ("get", "/api/things"): "List things",
        ("post", "/api/things"): "Create a thing",
        ("get", "/api/things/{thing_id}"): "Get a thing",
        ("put", "/api/things/{thing_id}"): "Replace a thing's updatable fields",
        ("patch", "/api/things/{thing_id}"): "Change some fields of a thing",
        ("delete", "/api/things/{thing_id}"): "Delete a thing",
    }
    [param] = paths["/api/things/{thing_id}"]["parameters"]
    assert (param["name"], param["in"], param["description"]) == (
        "thing_id",
        "path",
        "Thing identifier",
    )
    ids = [
        op["operationId"] for ops in paths.values() for m, op in ops.items() if m != "parameters"
    ]
    assert len(set(ids)) == 6


def test_each_operation_documents_its_scopes_and_errors(spec: dict[str, Any]) -> None:
    listing, item = spec["paths"]["/api/things"], spec["paths"]["/api/things/{thing_id}"]
    write_or_admin = ["thing:write", "thing:admin"]
    expected = {
        "list": (listing["get"], ["thing:read"], {"200", "400"}, {"404", "412"}),
        "create": (listing["post"], ["thing:write"], {"201", "422"}, {"404", "412"}),
        "get": (item["get"], ["thing:read"], {"200", "304", "404"}, {"412"}),
        "put": (item["put"], write_or_admin, {"200", "404", "412", "422"}, set()),
        "patch": (item["patch"], write_or_admin, {"200", "404", "412", "422"}, set()),
        "delete": (item["delete"], write_or_admin, {"204", "404", "412"}, set()),
    }
    for name, (operation, scopes, documented, undocumented) in expected.items():
        assert operation["x-required-scopes"] == scopes, name
        assert operation["security"] == [{"Bearer": []}], name
        responses = set(operation["responses"])
        assert documented | {"401", "403"} <= responses, (name, responses)
        assert not undocumented & responses, (name, responses)
