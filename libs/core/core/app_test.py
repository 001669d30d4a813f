from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_swagger_is_a_valid_swagger_2_document(client: FlaskClient) -> None:
    response = client.get("/swagger")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["swagger"] == "2.0"
    validate(spec)


def test_swagger_documents_every_error(client: FlaskClient) -> None:
    spec = client.get("/swagger").get_json()
    assert spec["definitions"]["Problem"]["required"] == ["detail", "status", "title", "type"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["responses"]["default"]["schema"] == {
                "$ref": "#/definitions/Problem"
            }, (path, method)
    post = spec["paths"]["/api/notes"]["post"]
    assert {"201", "400", "413", "415", "422"} <= set(post["responses"])
    assert post["responses"]["201"]["schema"] == {"$ref": "#/definitions/NoteResponse"}
    assert post["summary"] == "Create a note"
    [body] = [p for p in post["parameters"] if p["in"] == "body"]
    assert body["schema"] == {"$ref": "#/definitions/NoteCreate"}
    listing = spec["paths"]["/api/notes"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["pageSize"] == {
        "name": "pageSize",
        "in": "query",
        "type": "integer",
        "minimum": 1,
        "maximum": 5,
        "required": False,
        "description": "Page size",
    }


def test_each_app_is_independent(app_factory) -> None:  # type: ignore[no-untyped-def]
    first: Flask = app_factory(env="test", overrides={"COLOUR": "red"})
    second: Flask = app_factory(env="test")
    assert first.config["COLOUR"] == "red" and "COLOUR" not in second.config


def test_readyz_checks_the_database(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"data": {"database": "ready"}}


def test_readyz_is_503_when_the_database_is_unreachable(app_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'missing-folder' / 'x.db'}"
    app: Flask = app_factory(env="test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.get_json()["detail"] == "Not ready: database."
    assert app.test_client().get("/healthz").status_code == 200  # alive all the same
