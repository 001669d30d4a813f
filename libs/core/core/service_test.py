"""`core.service`: a service declared once from its registry entry, and what
core derives from it (the app factory, the WSGI entry, the local database)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_restx import Namespace, Resource
from flask_sqlalchemy import SQLAlchemy

from core import ApiFlask
from core.config import ConfigError
from core.registry import Deployable
from core.service import Service, local_database_url

STRONG_SECRET = "s" * 40
HOSTS = {"ALLOWED_HOSTS": "api.example.com"}  # prod's required hosts

api = Namespace("Pings", path="/api/pings")


@api.route("")
class Ping(Resource):
    def get(self) -> dict[str, str]:
        """Answer"""
        return {"pong": "yes"}


def register_routes(service_api: ApiFlask, app: Flask) -> None:
    service_api.add_namespace(api)


def deployable(**changes: Any) -> Deployable:
    entry = Deployable(
        name="thing",
        kind="service",
        target="services/thing:serve",
        port=9102,
        prefixes=("/api/pings",),
        database=False,
        scopes=("thing:read", "thing:write"),
    )
    return dataclasses.replace(entry, **changes)


def service(
    *,
    db: SQLAlchemy | None = None,
    description: str = "",
    version: str = "1.0",
    defaults: Mapping[str, Any] | None = None,
    **entry: Any,
) -> Service:
    """The service of registry entry `deployable(**entry)`; no database unless *db*."""
    return Service(
        deployable(**entry),
        title="Things",
        routes=[register_routes],
        description=description,
        version=version,
        db=db,
        defaults=defaults or {},
    )


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings come from the test alone: no variables, and a working directory of its own."""
    for name in ("APP_ENV", "DATABASE_URL", "SECRET_KEY", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name in ("JWT_PUBLIC_KEY", "JWT_JWKS_URL", "THING_COLOUR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# -- the declaration --------------------------------------------------------------


def test_a_registry_entry_with_a_database_needs_db() -> None:
    with pytest.raises(ValueError) as refused:
        service(database=True)
    assert str(refused.value) == "thing: the registry says it has a database; so must db="


def test_a_registry_entry_without_a_database_refuses_db() -> None:
    with pytest.raises(ValueError) as refused:
        service(database=False, db=SQLAlchemy())
    assert str(refused.value) == "thing: the registry says it has no database; so must db="


@pytest.mark.parametrize("kind", ["gateway", "job"])
def test_only_a_service_entry_is_a_service(kind: str) -> None:
    with pytest.raises(ValueError) as refused:
        service(kind=kind)
    assert str(refused.value) == "thing: a Service is a registry entry of kind service"


def test_names_follow_from_the_registry_entry() -> None:
    declared = service(name="widget")
    assert declared.name == "widget"
    assert declared.wsgi == "widget_api:create_app()"


def test_local_database_url_is_name_db_in_the_working_directory(tmp_path: Path) -> None:
    assert local_database_url("note") == f"sqlite:///{tmp_path}/note.db"
    assert local_database_url("note") == "sqlite:///" + os.path.join(os.getcwd(), "note.db")
    assert local_database_url("note").startswith("sqlite:////")  # absolute


# -- create_app -------------------------------------------------------------------


def test_create_app_builds_the_declared_app() -> None:
    app = service(description="Things, declared.", version="2.3").create_app("test")
    assert isinstance(app, Flask)
    assert app.import_name == "thing_api"
    assert app.config["ENV_NAME"] == "test"
    client = app.test_client()
    info = client.get("/swagger").get_json()["info"]
    assert (info["title"], info["version"], info["description"]) == (
        "Things",
        "2.3",
        "Things, declared.",
    )
    assert client.get("/api/pings").get_json() == {"pong": "yes"}
    assert client.get("/healthz").get_data(as_text=True) == "ok"


def test_the_environment_defaults_to_app_env_then_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    assert service().create_app().config["ENV_NAME"] == "dev"
    monkeypatch.setenv("APP_ENV", "test")
    assert service().create_app().config["ENV_NAME"] == "test"


def test_overrides_and_defaults_reach_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = service(defaults={"THING_COLOUR": "red", "THING_SIZE": 1})
    app = declared.create_app("test", overrides={"THING_SIZE": 2})
    assert (app.config["THING_COLOUR"], app.config["THING_SIZE"]) == ("red", 2)
    monkeypatch.setenv("THING_COLOUR", "blue")
    assert declared.create_app("test").config["THING_COLOUR"] == "blue"


def test_a_service_with_scopes_documents_bearer_tokens() -> None:
    swagger = service().create_app("test").test_client().get("/swagger").get_json()
    assert set(swagger["securityDefinitions"]) == {"Bearer"}


def test_a_service_without_scopes_documents_no_tokens() -> None:
    swagger = service(scopes=()).create_app("test").test_client().get("/swagger").get_json()
    assert "securityDefinitions" not in swagger


def test_prod_refuses_a_service_with_scopes_and_no_token_key() -> None:
    with pytest.raises(ConfigError, match="^prod refuses to start with no token key"):
        service().create_app("prod", overrides={"SECRET_KEY": STRONG_SECRET, **HOSTS})


def test_prod_refuses_the_dev_token_secret() -> None:
    from core.auth import DEV_JWT_SECRET

    overrides = {"SECRET_KEY": STRONG_SECRET, "JWT_SECRET": DEV_JWT_SECRET, **HOSTS}
    with pytest.raises(ConfigError, match="^prod refuses the dev JWT_SECRET"):
        service().create_app("prod", overrides=overrides)


def test_prod_starts_a_service_with_scopes_and_a_token_key() -> None:
    overrides = {"SECRET_KEY": STRONG_SECRET, "JWT_SECRET": "j" * 40, **HOSTS}
    app = service().create_app("prod", overrides=overrides)
    assert app.config["ENV_NAME"] == "prod"


def test_prod_needs_no_token_key_for_a_service_without_scopes() -> None:
    app = service(scopes=()).create_app("prod", overrides={"SECRET_KEY": STRONG_SECRET, **HOSTS})
    assert app.config["ENV_NAME"] == "prod"
    assert app.config.get("JWT_SECRET") is None


# -- the database -----------------------------------------------------------------


def test_without_database_url_the_database_is_the_local_file(tmp_path: Path) -> None:
    db = SQLAlchemy()
    app = service(database=True, db=db).create_app("dev")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/thing.db"
    assert app.extensions["sqlalchemy"] is db
    assert not (tmp_path / "thing.db").exists()  # nothing connects at creation


def test_database_url_names_the_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/elsewhere.db")
    app = service(database=True, db=SQLAlchemy()).create_app("dev")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/elsewhere.db"


def test_prod_refuses_a_service_with_a_database_and_no_database_url() -> None:
    overrides = {"SECRET_KEY": STRONG_SECRET, "JWT_SECRET": "j" * 40}
    with pytest.raises(ConfigError, match="^prod refuses to start without DATABASE_URL"):
        service(database=True, db=SQLAlchemy()).create_app("prod", overrides=overrides)


def test_a_service_without_a_database_has_none() -> None:
    app = service().create_app("dev")
    assert "sqlalchemy" not in app.extensions
    assert "SQLALCHEMY_DATABASE_URI" not in app.config
