"""The entity contract of DESIGN.md, through the real app and database."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from .model import Entity

PROBLEM = "application/problem+json"


def create(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/entities", json={"name": "Entity", **body})
    assert response.status_code == 201, response.get_json()
    data: dict[str, Any] = response.get_json()["data"]
    return data


def rows(db: SQLAlchemy) -> list[tuple[Any, ...]]:
    db.session.expire_all()
    return [
        (e.id, e.name, e.purpose, e.version) for e in db.session.query(Entity).order_by(Entity.id)
    ]


# -- create -----------------------------------------------------------------------


def test_create_returns_201_location_and_etag(client: FlaskClient) -> None:
    response = client.post("/api/entities", json={"name": "First", "purpose": "Testing"})
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert set(data) == {"id", "name", "purpose", "ownerId", "createdAt", "updatedAt"}
    assert (data["name"], data["purpose"], data["ownerId"]) == ("First", "Testing", "owner-1")
    assert data["createdAt"].endswith("Z") and data["updatedAt"] == data["createdAt"]
    assert response.headers["Location"] == f"http://localhost/api/entities/{data['id']}"
    assert response.headers["ETag"] == f'"{data["id"]}-1"'
    assert client.get(response.headers["Location"]).get_json()["data"] == data


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({}, {"/name"}),
        ({"name": ""}, {"/name"}),
        ({"name": "x" * 256}, {"/name"}),
        ({"name": "ok", "purpose": "x" * 256}, {"/purpose"}),
        ({"name": 7}, {"/name"}),
        ({"name": None}, {"/name"}),
        ({"name": "ok", "id": 5}, {"/id"}),
        ({"name": "ok", "ownerId": "me"}, {"/ownerId"}),
        ({"name": "ok", "createdAt": "2026-01-01T00:00:00Z"}, {"/createdAt"}),
        ({"name": "ok", "owner_id": "me"}, {"/owner_id"}),
        ({"name": "a\u0000b"}, {"/name"}),
    ],
)
def test_invalid_bodies_are_422_with_a_pointer_per_field(
    client: FlaskClient, db: SQLAlchemy, body: dict[str, Any], pointers: set[str]
) -> None:
    response = client.post("/api/entities", json=body)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert {e["pointer"] for e in response.get_json()["errors"]} == pointers
    assert rows(db) == []


def test_lone_surrogates_are_not_json(client: FlaskClient, db: SQLAlchemy) -> None:
    response = client.post(
        "/api/entities", data=b'{"name": "\\ud800"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.content_type == PROBLEM
    assert rows(db) == []


def test_255_characters_are_allowed(client: FlaskClient) -> None:
    data = create(client, name="n" * 255, purpose="p" * 255)
    assert len(data["name"]) == 255 and len(data["purpose"]) == 255


def test_malformed_json_is_400_and_wrong_media_type_415(client: FlaskClient) -> None:
    bad = client.post("/api/entities", data=b"{", content_type="application/json")
    assert bad.status_code == 400 and bad.content_type == PROBLEM
    text = client.post("/api/entities", data="name=x", content_type="text/plain")
    assert text.status_code == 415 and text.content_type == PROBLEM


# -- read -------------------------------------------------------------------------


def test_get_has_an_etag_and_honours_if_none_match(client: FlaskClient) -> None:
    data = create(client)
    response = client.get(f"/api/entities/{data['id']}")
    assert response.status_code == 200
    etag = response.headers["ETag"]
    cached = client.get(f"/api/entities/{data['id']}", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b"" and cached.headers["ETag"] == etag
    weak = client.get(f"/api/entities/{data['id']}", headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    other = client.get(f"/api/entities/{data['id']}", headers={"If-None-Match": '"0-0"'})
    assert other.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/entities/999",
        "/api/entities/99999999999999999999",
        "/api/entities/abc",
        "/api/entities/-1",
    ],
)
def test_unknown_ids_are_404_problems(client: FlaskClient, path: str) -> None:
    for method in ("get", "put", "patch", "delete"):
        response = getattr(client, method)(path, json={"name": "x"})
        assert response.status_code == 404, (method, path)
        assert response.content_type == PROBLEM


# -- update -------------------------------------------------------------------------


def test_put_replaces_updatable_fields(client: FlaskClient) -> None:
    data = create(client, purpose="old")
    response = client.put(f"/api/entities/{data['id']}", json={"name": "New"})
    assert response.status_code == 200
    changed = response.get_json()["data"]
    assert (changed["name"], changed["purpose"]) == ("New", None)
    assert changed["createdAt"] == data["createdAt"] and changed["updatedAt"] >= data["updatedAt"]
    assert response.headers["ETag"] == f'"{data["id"]}-2"'


def test_put_needs_the_required_fields(client: FlaskClient, db: SQLAlchemy) -> None:
    data = create(client, purpose="old")
    before = rows(db)
    response = client.put(f"/api/entities/{data['id']}", json={"purpose": "new"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"] == "/name"
    assert rows(db) == before


def test_patch_changes_only_what_is_given(client: FlaskClient) -> None:
    data = create(client, purpose="old")
    response = client.patch(f"/api/entities/{data['id']}", json={"purpose": "new"})
    assert response.status_code == 200
    assert response.get_json()["data"]["name"] == "Entity"
    assert response.get_json()["data"]["purpose"] == "new"


def test_patch_validates_what_is_given(client: FlaskClient, db: SQLAlchemy) -> None:
    data = create(client)
    before = rows(db)
    for body, pointer in (
        ({"name": ""}, "/name"),
        ({"name": None}, "/name"),
        ({"id": 3}, "/id"),
        ({"colour": "red"}, "/colour"),
    ):
        response = client.patch(f"/api/entities/{data['id']}", json=body)
        assert response.status_code == 422, body
        assert [e["pointer"] for e in response.get_json()["errors"]] == [pointer], body
    assert rows(db) == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_stale_if_match_is_412_and_changes_nothing(
    client: FlaskClient, db: SQLAlchemy, method: str
) -> None:
    data = create(client)
    path = f"/api/entities/{data['id']}"
    stale = client.get(path).headers["ETag"]
    assert client.patch(path, json={"purpose": "moved on"}).status_code == 200
    before = rows(db)
    response = getattr(client, method)(path, json={"name": "late"}, headers={"If-Match": stale})
    assert response.status_code == 412
    assert response.content_type == PROBLEM
    assert rows(db) == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_current_if_match_or_star_is_honoured(client: FlaskClient, method: str) -> None:
    for if_match in ("current", "*"):
        data = create(client)
        path = f"/api/entities/{data['id']}"
        tag = client.get(path).headers["ETag"] if if_match == "current" else "*"
        response = getattr(client, method)(path, json={"name": "ok"}, headers={"If-Match": tag})
        if method == "delete":
            assert response.status_code == 204, if_match
            assert client.get(path).status_code == 404, if_match
        else:
            assert response.status_code == 200, (method, if_match)
            assert client.get(path).get_json()["data"]["name"] == "ok", (method, if_match)


# -- delete -------------------------------------------------------------------------


def test_delete_is_204_then_404(client: FlaskClient, db: SQLAlchemy) -> None:
    keep = create(client, name="keep")
    gone = create(client, name="gone")
    response = client.delete(f"/api/entities/{gone['id']}")
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"/api/entities/{gone['id']}").status_code == 404
    assert client.delete(f"/api/entities/{gone['id']}").status_code == 404
    assert [r[0] for r in rows(db)] == [keep["id"]]


# -- lists ----------------------------------------------------------------------------


def test_empty_list(client: FlaskClient) -> None:
    body = client.get("/api/entities").get_json()
    assert body["data"] == []
    assert body["meta"] == {"page": 1, "pageSize": 20, "total": 0, "totalExact": True}
    assert body["links"]["prev"] is None and body["links"]["next"] is None


def test_pagination_meta_links_and_headers(client: FlaskClient) -> None:
    ids = [create(client, name=f"e{i}")["id"] for i in range(5)]
    response = client.get("/api/entities?page=2&pageSize=2")
    body = response.get_json()
    assert [e["id"] for e in body["data"]] == ids[2:4]
    assert body["meta"] == {"page": 2, "pageSize": 2, "total": 5, "totalExact": True}
    links = body["links"]
    assert links["self"].endswith("?page=2&pageSize=2")
    assert links["first"].endswith("?page=1&pageSize=2")
    assert links["last"].endswith("?page=3&pageSize=2")
    assert "?cursor=" in links["prev"] and "?cursor=" in links["next"]  # keyset from here
    assert response.headers["X-Total-Count"] == "5"
    assert f'<{links["next"]}>; rel="next"' in response.headers["Link"]
    after = client.get(links["next"]).get_json()
    assert [e["id"] for e in after["data"]] == ids[4:]
    assert after["meta"]["page"] is None and after["links"]["next"] is None
    before = client.get(links["prev"]).get_json()
    assert [e["id"] for e in before["data"]] == ids[:2]
    assert before["links"]["prev"] is None  # the start of the list
    assert [e["id"] for e in client.get(before["links"]["next"]).get_json()["data"]] == ids[2:4]
    beyond = client.get("/api/entities?page=9&pageSize=2").get_json()
    assert beyond["data"] == [] and beyond["meta"]["total"] == 5


def test_sort_with_ties_broken_by_id(client: FlaskClient) -> None:
    a1 = create(client, name="a", purpose="2")["id"]
    b = create(client, name="b", purpose="1")["id"]
    a2 = create(client, name="a", purpose="1")["id"]

    def ids(query: str) -> list[int]:
        return [e["id"] for e in client.get(f"/api/entities?{query}").get_json()["data"]]

    assert ids("sort=name") == [a1, a2, b]
    assert ids("sort=-name") == [b, a1, a2]
    assert ids("sort=name,-purpose") == [a1, a2, b]
    assert ids("sort=-createdAt") == [a2, b, a1]
    assert ids("sort=-id") == [a2, b, a1]


def test_filters(client: FlaskClient) -> None:
    one = create(client, name="Alpha one", purpose="100% done")
    two = create(client, name="alpha_two", purpose="half")
    three = create(client, name="Beta", purpose=None)

    def ids(query: str) -> list[int]:
        response = client.get("/api/entities", query_string=query)
        assert response.status_code == 200, response.get_json()
        return [e["id"] for e in response.get_json()["data"]]

    assert ids("filter[name]=Beta") == [three["id"]]
    assert ids("filter[name][ne]=Beta") == [one["id"], two["id"]]
    assert ids(f"filter[id][in]={one['id']},{three['id']}") == [one["id"], three["id"]]
    assert ids(f"filter[id][gt]={one['id']}") == [two["id"], three["id"]]
    assert ids(f"filter[id][lte]={two['id']}") == [one["id"], two["id"]]
    assert ids("filter[name][contains]=ALPHA") == [one["id"], two["id"]]
    # contains is literal: % and _ match only themselves
    assert ids("filter[purpose][contains]=%25") == [one["id"]]
    assert ids("filter[name][contains]=a_t") == [two["id"]]
    assert ids("filter[name][contains]=a%25t") == []
    assert ids(f"filter[createdAt][gte]={two['createdAt']}") == [two["id"], three["id"]]
    assert ids("filter[createdAt][lt]=2000-01-01T00:00:00Z") == []
    assert ids("filter[name][in]=Beta,alpha_two") == [two["id"], three["id"]]
    # Beyond the 32-bit id column, yet a well-defined comparison (no 500 on PostgreSQL).
    assert ids("filter[id][gte]=9223372036854775806") == []
    assert ids(f"filter[id][in]=9223372036854775806,{one['id']}") == [one["id"]]


def test_search_needs_every_term(client: FlaskClient) -> None:
    one = create(client, name="Red apple", purpose="fruit")
    create(client, name="Green apple", purpose="sour")
    three = create(client, name="Cherry", purpose="red fruit")

    def ids(term: str) -> list[int]:
        data = client.get("/api/entities", query_string={"search": term}).get_json()["data"]
        return [e["id"] for e in data]

    assert ids("red") == [one["id"], three["id"]]
    assert ids("RED fruit") == [one["id"], three["id"]]
    assert ids("red apple") == [one["id"]]
    assert ids("red sour") == []
    assert ids("100%") == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=-1", "page"),
        ("pageSize=0", "pageSize"),
        ("pageSize=101", "pageSize"),
        ("pageSize=1.5", "pageSize"),
        ("sort=colour", "sort"),
        ("sort=", "sort"),
        ("sort=ownerId", "sort"),
        ("filter[colour]=red", "filter[colour]"),
        ("filter[name][gt]=a", "filter[name][gt]"),
        ("filter[name][like]=a", "filter[name][like]"),
        ("filter[id]=abc", "filter[id]"),
        ("filter[id][in]=1,x", "filter[id][in]"),
        ("filter[id]=99999999999999999999", "filter[id]"),
        ("filter[createdAt][gte]=yesterday", "filter[createdAt][gte]"),
        ("filter[createdAt][gte]=2026-01-01T00:00:00", "filter[createdAt][gte]"),
        ("filter[name]=a%00b", "filter[name]"),
        ("search=a%00", "search"),
        ("colour=red", "colour"),
        ("page=1&page=2", "page"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(
    client: FlaskClient, query: str, parameter: str
) -> None:
    response = client.get(f"/api/entities?{query}")
    assert response.status_code == 400, response.get_json()
    assert response.content_type == PROBLEM
    problem = response.get_json()
    assert problem["errors"][0]["parameter"] == parameter
    assert f"'{parameter}'" in problem["detail"]


def test_list_queries_are_documented(client: FlaskClient) -> None:
    spec = client.get("/swagger").get_json()
    operation = spec["paths"]["/api/entities"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"page", "pageSize", "sort", "search"} <= set(params)
    assert params["pageSize"]["maximum"] == 100
    for name in (
        "filter[name]",
        "filter[name][contains]",
        "filter[id][in]",
        "filter[createdAt][gte]",
    ):
        assert params[name]["in"] == "query", name
    assert "filter[name][gt]" not in params
    assert params["filter[id][gt]"]["type"] == "integer"
    assert params["filter[createdAt][gte]"]["format"] == "date-time"
    assert operation["responses"]["200"]["schema"] == {"$ref": "#/definitions/EntityListResponse"}
    item = spec["paths"]["/api/entities/{entity_id}"]
    assert {"200", "304", "404"} <= set(item["get"]["responses"])
    assert {"200", "404", "412", "422"} <= set(item["put"]["responses"])
    assert {"204", "404", "412"} <= set(item["delete"]["responses"])


# -- edges found in review ---------------------------------------------------------


def test_ids_are_never_reused(client: FlaskClient) -> None:
    first = create(client)
    stale = client.get(f"/api/entities/{first['id']}").headers["ETag"]
    assert client.delete(f"/api/entities/{first['id']}").status_code == 204
    second = create(client)
    assert second["id"] != first["id"]
    old = client.delete(f"/api/entities/{first['id']}", headers={"If-Match": stale})
    assert old.status_code == 404


def test_contains_and_search_fold_case_beyond_ascii(client: FlaskClient) -> None:
    ids = [create(client, name=name)["id"] for name in ("Éclair", "éclair", "ÉCLAIR", "Eclair")]

    def found(query: str) -> list[int]:
        return [e["id"] for e in client.get(f"/api/entities?{query}").get_json()["data"]]

    assert found("filter[name][contains]=éclair") == ids[:3]
    assert found("search=ÉCLAIR") == ids[:3]
    assert found("filter[name][contains]=CLAIR") == ids  # an ASCII term
    assert found("filter[name][contains]=%C3%A9%25") == []  # é then a literal %


def test_ne_keeps_rows_where_the_field_is_empty(client: FlaskClient) -> None:
    with_purpose = create(client, purpose="x")
    without = create(client)
    data = client.get("/api/entities?filter[purpose][ne]=x").get_json()["data"]
    assert [e["id"] for e in data] == [without["id"]]
    data = client.get("/api/entities?filter[ownerId][ne]=someone").get_json()["data"]
    assert [e["id"] for e in data] == [with_purpose["id"], without["id"]]


def test_if_none_match_star_on_a_write_is_412(client: FlaskClient, db: SQLAlchemy) -> None:
    data = create(client)
    before = rows(db)
    response = client.put(
        f"/api/entities/{data['id']}", json={"name": "x"}, headers={"If-None-Match": "*"}
    )
    assert response.status_code == 412
    assert rows(db) == before


@pytest.mark.parametrize("digits", ["١", "１"])  # noqa: RUF001
def test_ids_are_ascii_digits(client: FlaskClient, digits: str) -> None:
    create(client)
    assert client.get(f"/api/entities/{digits}").status_code == 404


def test_a_patch_that_changes_nothing_writes_nothing(client: FlaskClient) -> None:
    data = create(client, purpose="same")
    path = f"/api/entities/{data['id']}"
    for body in ({}, {"purpose": "same"}):
        response = client.patch(path, json=body)
        assert response.status_code == 200
        assert response.headers["ETag"] == f'"{data["id"]}-1"'
        assert response.get_json()["data"]["updatedAt"] == data["updatedAt"]


def test_one_filter_spelled_twice_is_400(client: FlaskClient) -> None:
    response = client.get("/api/entities?filter[name]=a&filter[name][eq]=b")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["parameter"] == "filter[name][eq]"


def test_compressed_bodies_are_415(client: FlaskClient, db: SQLAlchemy) -> None:
    response = client.post(
        "/api/entities",
        data=b'{"name": "x"}',
        content_type="application/json",
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 415
    assert rows(db) == []


# -- authentication and authorization ------------------------------------------------


def test_no_token_is_401_with_www_authenticate(app: Flask) -> None:
    anonymous = app.test_client()
    for method, path in [
        ("get", "/api/entities"),
        ("post", "/api/entities"),
        ("get", "/api/entities/1"),
        ("delete", "/api/entities/1"),
    ]:
        response = getattr(anonymous, method)(path, json={"name": "x"})
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.content_type == PROBLEM


def test_a_reader_can_list_but_not_create(app: Flask, auth_headers: Any, db: SQLAlchemy) -> None:
    reader = auth_headers("reader", "entity:read")
    client = app.test_client()
    assert client.get("/api/entities", headers=reader).status_code == 200
    response = client.post("/api/entities", json={"name": "x"}, headers=reader)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert rows(db) == []


def test_a_writer_without_read_cannot_read(app: Flask, auth_headers: Any) -> None:
    writer = auth_headers("writer", "entity:write")
    client = app.test_client()
    assert client.post("/api/entities", json={"name": "x"}, headers=writer).status_code == 201
    assert client.get("/api/entities", headers=writer).status_code == 403


def test_owner_other_user_and_admin(app: Flask, auth_headers: Any, db: SQLAlchemy) -> None:
    client = app.test_client()
    owner = auth_headers("alice", "entity:read entity:write")
    other = auth_headers("bob", "entity:read entity:write")
    admin = auth_headers("carol", "entity:admin")
    created = client.post("/api/entities", json={"name": "alice's"}, headers=owner)
    data = created.get_json()["data"]
    assert data["ownerId"] == "alice"
    path = f"/api/entities/{data['id']}"
    before = rows(db)
    for method in ("put", "patch", "delete"):
        refused = getattr(client, method)(path, json={"name": "bob's now"}, headers=other)
        assert refused.status_code == 403, method
        assert refused.content_type == PROBLEM
    assert rows(db) == before  # refused writes changed nothing
    assert client.get(path, headers=other).status_code == 200  # reading is not owning
    assert client.patch(path, json={"purpose": "mine"}, headers=owner).status_code == 200
    assert client.put(path, json={"name": "admin's touch"}, headers=admin).status_code == 200
    assert rows(db) == [(data["id"], "admin's touch", None, 3)]  # PUT replaced purpose too
    assert client.delete(path, headers=admin).status_code == 204
    assert rows(db) == []


def test_the_owner_comes_from_the_token_not_the_body(app: Flask, auth_headers: Any) -> None:
    response = app.test_client().post(
        "/api/entities",
        json={"name": "x", "ownerId": "mallory"},
        headers=auth_headers("alice", "entity:write"),
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"] == "/ownerId"


def test_a_bad_token_changes_nothing(app: Flask, auth_headers: Any, db: SQLAlchemy) -> None:
    expired = auth_headers("alice", "entity:write", exp=1)
    response = app.test_client().post("/api/entities", json={"name": "x"}, headers=expired)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert rows(db) == []


def test_security_is_documented_per_operation(client: FlaskClient) -> None:
    spec = client.get("/swagger").get_json()
    assert spec["securityDefinitions"]["Bearer"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": spec["securityDefinitions"]["Bearer"]["description"],
    }
    expected = {
        ("/api/entities", "get"): ["entity:read"],
        ("/api/entities", "post"): ["entity:write"],
        ("/api/entities/{entity_id}", "get"): ["entity:read"],
        ("/api/entities/{entity_id}", "put"): ["entity:write", "entity:admin"],
        ("/api/entities/{entity_id}", "patch"): ["entity:write", "entity:admin"],
        ("/api/entities/{entity_id}", "delete"): ["entity:write", "entity:admin"],
    }
    for (path, method), scopes in expected.items():
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"Bearer": []}]
        assert operation["x-required-scopes"] == scopes
        assert {"401", "403"} <= set(operation["responses"])


@pytest.mark.parametrize("method", ["put", "patch"])
def test_preconditions_come_before_the_body(
    app: Flask, client: FlaskClient, auth_headers: Any, db: SQLAlchemy, method: str
) -> None:
    data = create(client)
    path = f"/api/entities/{data['id']}"
    before = rows(db)
    stale = getattr(client, method)(path, json={"name": ""}, headers={"If-Match": '"0-0"'})
    assert stale.status_code == 412  # not 422: the body is not looked at
    assert stale.content_type == PROBLEM
    other = auth_headers("someone-else", "entity:read entity:write")
    refused = getattr(app.test_client(), method)(path, json={"name": ""}, headers=other)
    assert refused.status_code == 403
    assert rows(db) == before
