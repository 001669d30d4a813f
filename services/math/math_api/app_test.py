from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_app_is_stateless(app: Flask) -> None:
    assert "sqlalchemy" not in app.extensions


def test_health_docs_and_swagger(client: FlaskClient) -> None:
    assert client.get("/healthz").get_data(as_text=True) == "ok"
    assert client.get("/").status_code == 200
    spec = client.get("/swagger").get_json()
    validate(spec)
    assert spec["info"]["title"] == "Math"
    assert list(spec["paths"]) == ["/api/math/sum"]


def test_a_stateless_service_is_ready_when_alive(client: FlaskClient) -> None:
    assert client.get("/readyz").get_json() == {"data": {}}
