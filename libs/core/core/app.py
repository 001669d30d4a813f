"""`build_app`: what every service's ``create_app`` shares.

A service's factory names itself and its routes; `build_app` does the rest.
`base_app` is everything but the API, in this order: configuration
(`core.config`), JSON logs and request ids (`core.log`), trusted proxy
headers, CORS (`core.cors`: outside everything, the proxy fix and every
middleware added later), metrics (`core.metrics`), the allowed hosts (`core.hosts`: checked on the host the proxy fix
leaves, the one links are built from), the database extension if the
service has one, ``/healthz`` (the process answers) and ``/readyz`` (it can
serve: every readiness check passes;
the database's is built in, services add theirs with `add_readiness_check`),
and the problem+json error handler for everything outside the API's own
routes.
`build_app` adds the `ApiFlask`, with the docs UI at ``/`` (`core.docs`) over
``/swagger`` and ``/openapi.json``, and the service's routes. Nothing is built at import time,
and what a service does not use is not imported: the gateway, say, has no
database, no API of its own and no tokens to verify.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .config import configure
from .cors import Cors
from .errors import ServiceUnavailable, problem_response
from .hosts import init_allowed_hosts
from .log import init_logging, init_request_id
from .metrics import init_metrics
from .response import ApiResponse

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication  # pants: no-infer-dep
    from flask_sqlalchemy import SQLAlchemy

    from .api import ApiFlask

__all__ = [
    "ReadinessCheck",
    "RegisterRoutes",
    "add_readiness_check",
    "add_wsgi_middleware",
    "base_app",
    "build_app",
]

RegisterRoutes = Callable[["ApiFlask", Flask], None]
ReadinessCheck = Callable[[], Mapping[str, Any]]
"""Returns what it found ready (``{"database": "ready"}``), as JSON values;
raises `ServiceUnavailable` naming what is not."""


def add_readiness_check(app: Flask, check: ReadinessCheck) -> None:
    """Make ``/readyz`` also depend on *check*."""
    app.extensions.setdefault("readiness_checks", []).append(check)


_SHELL = (Cors, ProxyFix)
"""The middlewares that stay outside every other (`base_app` puts them there)."""


def add_wsgi_middleware(app: Flask, wrap: Callable[[WSGIApplication], WSGIApplication]) -> None:
    """Put ``wrap(<the app's routes>)`` in front of *app*'s routes.

    It goes behind CORS and the trusted-proxy fix: it sees the client's own
    address and scheme as the routes do, and its answers get CORS headers.
    """
    holder: Any = app
    slot = "wsgi_app"
    while isinstance(getattr(holder, slot), _SHELL):
        holder, slot = getattr(holder, slot), "app"
    setattr(holder, slot, wrap(getattr(holder, slot)))


def _database_ready(db: SQLAlchemy) -> ReadinessCheck:
    import sqlalchemy as sa

    def check() -> Mapping[str, str]:
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            raise ServiceUnavailable("Not ready: database.") from None
        finally:
            db.session.remove()
        return {"database": "ready"}

    return check


class NoSessions(SessionInterface):
    """APIs keep no cookie sessions: skip reading and signing one per request."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


class AsciiIntegerConverter(IntegerConverter):
    """``<int:...>`` with ASCII digits only (werkzeug's takes any Unicode digit)."""

    regex = r"[0-9]+"


def base_app(
    import_name: str,
    *,
    db: SQLAlchemy | None = None,
    local_database_url: str | None = None,
    env: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    """A configured Flask app with logs, request ids, health and problem errors."""
    app = Flask(import_name)
    app.session_interface = NoSessions()
    app.url_map.converters["int"] = AsciiIntegerConverter
    configure(
        app,
        env,
        defaults=defaults,
        overrides=overrides,
        local_database_url=local_database_url if db else None,
    )
    init_logging(app.config["LOG_LEVEL"])
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    if app.config["CORS_ORIGINS"]:
        app.wsgi_app = Cors(  # type: ignore[method-assign]
            app.wsgi_app, app.config["CORS_ORIGINS"], app.config["CORS_MAX_AGE"]
        )
    init_request_id(app)
    init_metrics(app)  # timed by the request id's start: a refused host is counted too
    init_allowed_hosts(app)  # after the request id: its problem carries it
    app.extensions["readiness_checks"] = []
    if db is not None:
        from .database import engine_options, watch_connections
        from .metrics import watch_pool

        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            str(app.config.get("SQLALCHEMY_DATABASE_URI") or ""),
            app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        )
        watch_connections()
        watch_pool()
        db.init_app(app)
        add_readiness_check(app, _database_ready(db))

    @app.get("/healthz")
    def healthz() -> tuple[str, int, dict[str, str]]:
        """Liveness: the process answers."""
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @app.get("/readyz")
    def readyz() -> Response:
        """Readiness: 200 when every check passes; 503 naming what is not ready."""
        found: dict[str, Any] = {}
        for check in app.extensions["readiness_checks"]:
            found.update(check())
        return ApiResponse(found).to_response()

    app.register_error_handler(HTTPException, problem_response)
    app.register_error_handler(Exception, problem_response)
    return app


def build_app(
    import_name: str,
    *,
    title: str,
    register_routes: RegisterRoutes,
    version: str = "1.0",
    description: str = "",
    db: SQLAlchemy | None = None,
    local_database_url: str | None = None,
    verifies_tokens: bool = False,
    env: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    """Build a service's Flask app; see the module docstring for the order.

    *verifies_tokens*: the service demands bearer tokens (`core.auth`), so
    ``prod`` refuses to start without a real key.
    """
    from .api import ApiFlask
    from .auth import SECURITY_DEFINITIONS, check_auth_config

    app = base_app(
        import_name,
        db=db,
        local_database_url=local_database_url,
        env=env,
        defaults=defaults,
        overrides=overrides,
    )
    if verifies_tokens:
        check_auth_config(app.config, app.config["ENV_NAME"])
    api = ApiFlask(
        app,
        title=title,
        version=version,
        description=description,
        authorizations=SECURITY_DEFINITIONS if verifies_tokens else None,
    )
    register_routes(api, app)
    return app
