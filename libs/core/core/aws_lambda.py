"""AWS Lambda: a service's app behind API Gateway (REST v1, HTTP v2), an ALB or a Function URL.

A service's ``aws_lambda`` module is one line::

    handler = lambda_handler(create_app)

The app is built there, once per container, while Lambda imports the module
(the init phase, the cold start); every invocation then reuses it. apig-wsgi
turns each event into a WSGI request and the answer into the response the
event's source expects: multi-value headers and query strings for REST v1 and
ALB (when the source sends them), cookies for v2 and Function URLs, base64
bodies both ways (binary responses go base64; JSON and text stay text).

One container serves one request at a time, so a database pool of one
connection is enough, and more would only hold connections the database has
to keep for every warm container: `lambda_engine_options`.

Events for tests and local invocations: `core.lambda_events`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from apig_wsgi import make_lambda_handler
from flask import Flask

from .config import DEFAULT_ENGINE_OPTIONS

__all__ = [
    "LAMBDA_POOL_OPTIONS",
    "LambdaHandler",
    "lambda_engine_options",
    "lambda_handler",
]

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
"""``handler(event, context) -> response``, as Lambda calls it."""

LAMBDA_POOL_OPTIONS: Mapping[str, Any] = {"pool_size": 1, "max_overflow": 0}
"""One connection per container, none beyond it."""


def lambda_engine_options(database_url: str | None) -> dict[str, Any]:
    """``SQLALCHEMY_ENGINE_OPTIONS`` on Lambda: core's, with a pool of one connection.

    SQLite (and no URL: the local SQLite default) has no such pool: only core's.
    """
    options = dict(DEFAULT_ENGINE_OPTIONS)
    if database_url and not database_url.startswith("sqlite"):
        options.update(LAMBDA_POOL_OPTIONS)
    return options


def lambda_handler(
    app_factory: Callable[..., Flask],
    *,
    env: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LambdaHandler:
    """Build ``app_factory(env=env, overrides=...)`` now and return its Lambda handler.

    ``SQLALCHEMY_ENGINE_OPTIONS`` comes from `lambda_engine_options` for the
    database the app will use (``SQLALCHEMY_DATABASE_URI`` in *overrides*, else
    the ``DATABASE_URL`` variable); a service without a database ignores it.
    *overrides* go over it. ``/metrics`` answers nobody (``METRICS_ALLOWED_FROM``
    empty): a container's own counts mean little, and the address a Lambda
    event gives can be the client's own ``X-Forwarded-For``.
    """
    overrides = dict(overrides or {})
    url = overrides.get("SQLALCHEMY_DATABASE_URI") or os.environ.get("DATABASE_URL")
    settings = {
        "SQLALCHEMY_ENGINE_OPTIONS": lambda_engine_options(url),
        "METRICS_ALLOWED_FROM": "",
        **overrides,
    }
    app = app_factory(env=env, overrides=settings)
    return make_lambda_handler(app, binary_support=True)
