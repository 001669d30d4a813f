"""`Service`: a service of the monorepo, declared once.

A service's package (``<name>_api``) declares what is its own: its registry
entry (name, port, scopes, database), its title, its route modules and its
database handle. Core derives the rest from that one declaration:

- `Service.create_app`, the app factory (`core.app.build_app`: config, logs,
  request ids, health, docs, problems, tokens if it has scopes);
- the WSGI entry: gunicorn loads ``<package>:create_app()`` (no module of its own);
- `Service.main`, the serve main (``./pants run services/<name>:serve``, the
  image's entry point): gunicorn with the project's defaults (`core.serve`)
  at the registry's port;
- the local database when ``DATABASE_URL`` is unset: ``<name>.db`` in the
  working directory, which the service's migration line uses too
  (`core.migrations`).

Nothing is built or connected when the declaration is imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .registry import Deployable

if TYPE_CHECKING:
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    from .app import RegisterRoutes

__all__ = ["Service", "local_database_url"]


def local_database_url(name: str) -> str:
    """The dev database of service *name* when ``DATABASE_URL`` is unset:
    ``<name>.db`` in the working directory (the repository root under
    ``./pants run``), shared by the service and its migrations. Absolute,
    because Flask-SQLAlchemy would put a relative SQLite path in the app's
    instance folder."""
    return "sqlite:///" + os.path.join(os.getcwd(), f"{name}.db")


@dataclass(frozen=True)
class Service:
    """A service: its registry entry plus what only its code knows."""

    deployable: Deployable
    title: str
    routes: Sequence[RegisterRoutes]
    description: str = ""
    version: str = "1.0"
    db: SQLAlchemy | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Settings of its own (each also read from the environment by name)."""

    def __post_init__(self) -> None:
        if self.deployable.kind != "service":
            raise ValueError(f"{self.name}: a Service is a registry entry of kind service")
        if self.deployable.database != (self.db is not None):
            has = "has a" if self.deployable.database else "has no"
            raise ValueError(f"{self.name}: the registry says it {has} database; so must db=")

    @property
    def name(self) -> str:
        return self.deployable.name

    @property
    def wsgi(self) -> str:
        """What gunicorn loads: the factory, called once in the master."""
        return f"{self.deployable.package}:create_app()"

    def create_app(
        self, env: str | None = None, overrides: Mapping[str, Any] | None = None
    ) -> Flask:
        """The service's Flask app for *env* (``APP_ENV``, else ``dev``)."""
        from .app import build_app

        return build_app(
            self.deployable.package,
            title=self.title,
            version=self.version,
            description=self.description,
            register_routes=self._register_routes,
            db=self.db,
            local_database_url=local_database_url(self.name) if self.db else None,
            verifies_tokens=bool(self.deployable.scopes),
            env=env,
            defaults=self.defaults,
            overrides=overrides,
        )

    def _register_routes(self, api: Any, app: Flask) -> None:
        for register in self.routes:
            register(api, app)

    def main(self) -> None:
        """Serve the app under gunicorn; arguments are gunicorn's (see `core.serve`)."""
        from .serve import serve

        assert self.deployable.port is not None
        serve(self.wsgi, port=self.deployable.port)
