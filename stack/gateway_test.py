"""The gateway in front of the real entity, note and math apps, over real HTTP.

The service apps answer from threads of the test process (`core.testing.serving`):
the real routing, proxying, merging and contract, without starting processes.
"""

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from core.auth import DEV_JWT_SECRET, mint_token
from core.testing import empty_tables, migrate, serving
from entity.db import db
from entity_api import create_app as create_entity_app
from gateway_api.app import create_app as create_gateway_app
from math_api import create_app as create_math_app
from note.db import db as note_db
from note_api import create_app as create_note_app


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    entity = create_entity_app(
        env="test", overrides={"SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXY_HOPS": 1}
    )
    migrate(database_url, "entity_api")  # each line to head, as production does
    migrate(database_url, "note_api")
    with serving(entity) as entity_url, serving(create_math_app(env="test")) as math_url:
        note = create_note_app(
            env="test",
            overrides={
                "SQLALCHEMY_DATABASE_URI": database_url,
                "TRUSTED_PROXY_HOPS": 1,
                "ENTITY_URL": entity_url,
            },
        )
        with serving(note) as note_url:
            yield create_gateway_app(
                env="test",
                overrides={"ENTITY_URL": entity_url, "MATH_URL": math_url, "NOTE_URL": note_url},
            )
        with note.app_context():
            note_db.session.remove()
            empty_tables(note_db.engine, note_db.metadata)
    with entity.app_context():
        db.session.remove()
        empty_tables(db.engine, db.metadata)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client with a bearer token, as the services demand: the gateway passes it on."""
    client = app.test_client()
    token = mint_token(DEV_JWT_SECRET, "gw-user", "entity:read entity:write note:read note:write")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_authorization_passes_through_untouched(app: Flask) -> None:
    anonymous = app.test_client()
    response = anonymous.get("/api/entities")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    reader = mint_token(DEV_JWT_SECRET, "r", "entity:read")
    headers = {"Authorization": f"Bearer {reader}"}
    assert anonymous.get("/api/entities", headers=headers).status_code == 200
    assert anonymous.post("/api/entities", json={"name": "x"}, headers=headers).status_code == 403
    assert anonymous.get("/api/math/sum?a=1&b=1").status_code == 200  # math is public


def test_crud_through_the_gateway(client: FlaskClient) -> None:
    created = client.post("/api/entities", json={"name": "via gateway"})
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location.startswith("http://localhost/api/entities/")  # the gateway's URL
    etag = created.headers["ETag"]
    assert client.get(location).get_json()["data"]["name"] == "via gateway"
    assert client.get(location, headers={"If-None-Match": etag}).status_code == 304
    changed = client.patch(location, json={"purpose": "p"}, headers={"If-Match": etag})
    assert changed.status_code == 200
    stale = client.put(location, json={"name": "x"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    listing = client.get("/api/entities?pageSize=1&sort=-id")
    body = listing.get_json()
    assert body["meta"]["total"] == 1
    assert body["links"]["self"].startswith("http://localhost/api/entities?")
    assert 'rel="self"' in listing.headers["Link"]
    assert listing.headers["X-Total-Count"] == "1"
    assert client.delete(location).status_code == 204
    assert client.get(location).status_code == 404


def test_notes_through_the_gateway(client: FlaskClient) -> None:
    entity = client.post("/api/entities", json={"name": "noted"}).get_json()["data"]
    created = client.post("/api/notes", json={"entityId": entity["id"], "body": "Fuse box"})
    assert created.status_code == 201, created.get_json()
    location = created.headers["Location"]
    assert location.startswith("http://localhost/api/notes/")  # the gateway's URL
    etag = created.headers["ETag"]
    assert client.get(location, headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.patch(location, json={"body": "Fuses"}, headers={"If-Match": etag}).status_code
        == 200
    )
    assert (
        client.put(
            location, json={"entityId": entity["id"], "body": "x"}, headers={"If-Match": etag}
        ).status_code
        == 412
    )
    listing = client.get(f"/api/notes?filter[entityId]={entity['id']}&search=fuses")
    assert [n["id"] for n in listing.get_json()["data"]] == [created.get_json()["data"]["id"]]
    assert listing.get_json()["links"]["self"].startswith("http://localhost/api/notes?")
    unknown = client.post("/api/notes", json={"entityId": entity["id"] + 1, "body": "x"})
    assert unknown.status_code == 422
    assert client.delete(location).status_code == 204


def test_sum_through_the_gateway(client: FlaskClient) -> None:
    response = client.get("/api/math/sum?a=20&b=22")
    assert response.get_json() == {"data": {"result": 42}}
    bad = client.get("/api/math/sum?a=x&b=1")
    assert bad.status_code == 400
    assert bad.content_type == "application/problem+json"
    assert bad.get_json()["errors"][0]["parameter"] == "a"


def test_upstream_problems_pass_through_unchanged(client: FlaskClient) -> None:
    response = client.post("/api/entities", json={"name": ""}, headers={"X-Request-ID": "trace-1"})
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["errors"][0]["pointer"] == "/name"
    assert problem["requestId"] == "trace-1"
    assert response.headers["X-Request-ID"] == "trace-1"


def test_merged_swagger_lists_every_operation(client: FlaskClient) -> None:
    spec = client.get("/swagger").get_json()
    validate(spec)
    assert spec["paths"]["/api/entities"].keys() >= {"get", "post"}
    assert spec["paths"]["/api/entities/{entity_id}"].keys() >= {"get", "put", "patch", "delete"}
    assert "get" in spec["paths"]["/api/math/sum"]
    assert spec["paths"]["/api/notes/{note_id}"].keys() >= {"get", "put", "patch", "delete"}
    assert {t["name"] for t in spec["tags"]} == {"Entity", "Math", "Note"}
    assert "x-unavailable-services" not in spec
    assert "host" not in spec  # relative: "Try it out" goes to the gateway itself
    assert client.get("/readyz").status_code == 200


def test_the_merged_openapi_document_has_every_operation_of_every_service(
    client: FlaskClient,
) -> None:
    document = client.get("/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    for path, item in client.get("/swagger").get_json()["paths"].items():
        assert document["paths"][path].keys() == item.keys(), path
    create = document["paths"]["/api/entities"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EntityCreate"
    }
    assert document["components"]["securitySchemes"]["Bearer"]["scheme"] == "bearer"
