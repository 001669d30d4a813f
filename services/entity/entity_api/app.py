"""The entity service's app factory. Tables come from migrations, not from here."""

from collections.abc import Mapping
from typing import Any

from flask import Flask

from core import ApiFlask, build_app
from entity import register_routes as register_entity
from entity_api.db import db, local_database_url


def register_routes(api: ApiFlask, app: Flask) -> None:
    register_entity(api, app)


def create_app(env: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    return build_app(
        __name__,
        title="Entity",
        version="1.0",
        description="CRUD on entities: the reference entity service.",
        register_routes=register_routes,
        db=db,
        local_database_url=local_database_url(),
        verifies_tokens=True,
        env=env,
        overrides=overrides,
    )
