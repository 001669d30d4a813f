"""The request/response decorators, through the demo app of conftest.py."""

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy

from core.conftest import Note


def test_accepts_passes_the_validated_body(client: FlaskClient, db: SQLAlchemy) -> None:
    response = client.post("/api/notes", json={"title": "Hello", "bodyText": "World"})
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert data["title"] == "Hello" and data["bodyText"] == "World"
    assert data["createdAt"].endswith("Z")
    assert response.headers["Location"] == f"/api/notes/{data['id']}"
    stored = db.session.get(Note, data["id"])
    assert stored is not None and stored.title == "Hello"


def test_validation_errors_are_422_with_camel_case_pointers(
    client: FlaskClient, db: SQLAlchemy
) -> None:
    response = client.post("/api/notes", json={"bodyText": "x" * 201, "colour": "red", "tags": [1]})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    pointers = {e["pointer"]: e["detail"] for e in problem["errors"]}
    assert set(pointers) == {"/title", "/bodyText", "/colour", "/tags/0"}
    assert pointers["/colour"] == "Unknown field."
    assert db.session.query(Note).count() == 0


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/api/notes", data='{"title": ', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["detail"] == "The request body is not valid JSON."


def test_a_body_that_is_not_an_object_is_422(client: FlaskClient) -> None:
    response = client.post("/api/notes", json=["title"])
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["detail"] == "The request body must be a JSON object."
    assert problem["errors"] == [{"pointer": "", "detail": "Expected a JSON object."}]


def test_wrong_content_type_is_415(client: FlaskClient) -> None:
    response = client.post(
        "/api/notes", data="title=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.content_type == "application/problem+json"


def test_json_suffix_media_types_are_json(client: FlaskClient) -> None:
    response = client.post(
        "/api/notes", data='{"title": "x"}', content_type="application/merge-patch+json"
    )
    assert response.status_code == 201


def test_patch_is_partial(client: FlaskClient) -> None:
    created = client.post("/api/notes", json={"title": "a", "bodyText": "b"}).get_json()["data"]
    response = client.patch(f"/api/notes/{created['id']}", json={"bodyText": None})
    assert response.status_code == 200
    assert response.get_json()["data"] == {**created, "bodyText": None}


def test_patch_refuses_fields_outside_the_update_keys(client: FlaskClient) -> None:
    created = client.post("/api/notes", json={"title": "a"}).get_json()["data"]
    response = client.patch(f"/api/notes/{created['id']}", json={"tags": ["x"]})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"] == "/tags"


def test_accepts_query_parses_and_defaults(client: FlaskClient) -> None:
    for title in "abc":
        client.post("/api/notes", json={"title": title})
    body = client.get("/api/notes?page=2").get_json()
    assert [n["title"] for n in body["data"]] == ["c"]
    assert body["meta"] == {"page": 2, "pageSize": 2, "total": 3, "totalExact": True}


def test_query_errors_are_400_naming_the_parameter(client: FlaskClient) -> None:
    for query, name in [
        ("page=0", "page"),
        ("pageSize=x", "pageSize"),
        ("pagesize=3", "pagesize"),
        ("page=1&page=2", "page"),
    ]:
        response = client.get(f"/api/notes?{query}")
        assert response.status_code == 400, query
        problem = response.get_json()
        assert f"'{name}'" in problem["detail"]
        assert problem["errors"][0]["parameter"] == name


@pytest.mark.parametrize(
    ("query", "detail"),
    [("page=1&page=2", "Given more than once."), ("page=1%00", "Contains a NUL character.")],
)
def test_query_arguments_say_what_is_wrong(client: FlaskClient, query: str, detail: str) -> None:
    problem = client.get(f"/api/notes?{query}").get_json()
    assert problem["errors"] == [{"parameter": "page", "detail": detail}]


def test_not_found_from_a_view(client: FlaskClient) -> None:
    response = client.get("/api/notes/999")
    assert response.status_code == 404
    assert response.get_json()["detail"] == "Note 999 does not exist."


def test_domain_errors_keep_their_status(client: FlaskClient) -> None:
    response = client.post("/api/notes", json={"title": "taken"})
    assert response.status_code == 409
    assert response.get_json()["title"] == "Conflict"
