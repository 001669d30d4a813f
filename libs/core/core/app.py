"""`build_app`: what every service's ``create_app`` shares.

A service's factory names itself and its routes; `build_app` does the rest, in
this order: configuration (`core.config`), JSON logs and request ids
(`core.log`), the database extension if the service has one, the `ApiFlask`
with Swagger UI at ``/`` and the swagger JSON at ``/swagger``, the service's
routes, ``/healthz``, and the problem+json error handler for everything
outside the API's own routes. Nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from werkzeug.exceptions import HTTPException

from .api import ApiFlask
from .config import configure
from .errors import problem_response
from .log import init_logging, init_request_id

__all__ = ["RegisterRoutes", "build_app"]

RegisterRoutes = Callable[[ApiFlask, Flask], None]


def build_app(
    import_name: str,
    *,
    title: str,
    register_routes: RegisterRoutes,
    version: str = "1.0",
    description: str = "",
    db: SQLAlchemy | None = None,
    local_database_url: str | None = None,
    env: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    """Build a service's Flask app; see the module docstring for the order."""
    app = Flask(import_name)
    configure(app, env, overrides=overrides, local_database_url=local_database_url if db else None)
    init_logging(app.config["LOG_LEVEL"])
    init_request_id(app)
    if db is not None:
        db.init_app(app)

    api = ApiFlask(app, title=title, version=version, description=description)
    register_routes(api, app)

    @app.get("/healthz")
    def healthz() -> tuple[str, int, dict[str, str]]:
        """Liveness: the process answers."""
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}

    app.register_error_handler(HTTPException, problem_response)
    app.register_error_handler(Exception, problem_response)
    return app
