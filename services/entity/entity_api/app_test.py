from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_swagger_is_valid_and_lists_the_entity_operations(client: FlaskClient) -> None:
    spec = client.get("/swagger").get_json()
    validate(spec)
    assert spec["info"]["title"] == "Entity"
    assert set(spec["paths"]) == {"/api/entities", "/api/entities/{entity_id}"}
    assert set(spec["paths"]["/api/entities/{entity_id}"]) >= {"get", "put", "patch", "delete"}


def test_input_models_reject_what_they_do_not_declare(client: FlaskClient) -> None:
    definitions = client.get("/swagger").get_json()["definitions"]
    for name in ("EntityCreate", "EntityUpdate", "EntityPatch"):
        assert definitions[name]["additionalProperties"] is False
    assert definitions["EntityCreate"]["required"] == ["name"]
    assert "required" not in definitions["EntityPatch"]


def test_the_app_creates_no_tables(app_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app: Flask = app_factory(env="test", overrides={"SQLALCHEMY_DATABASE_URI": url})
    app.test_client().get("/healthz")
    engine = sa.create_engine(url)
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()
